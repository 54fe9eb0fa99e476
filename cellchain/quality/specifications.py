"""The versioned release specification: which version is in force, which one a lot is judged by.

A lot is judged for its whole life by the version in force when it started (``lot.spec_version``), so
publishing a new version never changes the verdict on a lot already in process or on any stored result.
Stored versions are append-only rows (the database refuses UPDATE and DELETE on ``specifications``).

Each product has its own line of versions (``Specification.product``): the dosing lots' ``ucmsc``
(released on rapid tests, sterility read after release) and the cell banks' ``ucmsc_bank`` (the full
panel gates). ``current(session, product=...)`` is the version a new lot of that product starts under.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, select

from cellchain.audit import trail
from cellchain.core.errors import NotFound, Reason, Refused
from cellchain.core.words import N_
from cellchain.manufacturing.models import Lot
from cellchain.people.rules.roles import Actor, require_role
from cellchain.quality.models import Specification
from cellchain.quality.rules import spec_limits

SPEC_VERSION_EXISTS = "spec_version_exists"


DOSE_PRODUCT = spec_limits.DOSE_SPEC.product
BANK_PRODUCT = spec_limits.BANK_SPEC.product
PRODUCTS: tuple[str, ...] = tuple(spec_limits.BUILT_IN)


def _latest(session: Session, product: str = DOSE_PRODUCT) -> Specification | None:
    statement = select(Specification).where(Specification.product == product)
    return session.exec(statement.order_by(Specification.id.desc()).limit(1)).first()


def _built_in(product: str) -> spec_limits.Specification:
    if product not in spec_limits.BUILT_IN:
        raise NotFound(f"no specification product {product!r}; the products are {', '.join(PRODUCTS)}")
    return spec_limits.BUILT_IN[product]


def by_version(session: Session, version: str) -> Specification | None:
    return session.exec(select(Specification).where(Specification.version == version)).first()


def ensure_default(session: Session, *, actor: Actor | None = None, product: str = DOSE_PRODUCT) -> Specification:
    """The product's built-in specification (docs/rules.md, "Quality: QC results"), stored once if the
    product has no version yet. A database that already holds a version of the product keeps it: its
    lots stay judged by the version they started under, and QA publishes the next one."""
    existing = _latest(session, product)
    if existing is not None:
        return existing
    default = _built_in(product)
    row = Specification(version=default.version, product=product, definition=spec_limits.spec_to_dict(default),
                        created_by=actor.id if actor else None)
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type="specification", record_id=row.id, action="create",
                 new={"version": row.version, "product": row.product, "tests": list(default.codes)},
                 reason="built-in default specification")
    return row


def ensure_defaults(session: Session, *, actor: Actor | None = None) -> list[Specification]:
    """Every product's built-in specification, each stored once (the dosing lots' and the banks')."""
    return [ensure_default(session, actor=actor, product=product) for product in PRODUCTS]


def current(session: Session, *, product: str = DOSE_PRODUCT) -> Specification:
    """The version new lots of ``product`` start under (its newest published); stores the built-in one if
    the product has none. Bank lots ask for ``product=BANK_PRODUCT``."""
    return ensure_default(session, product=product)


def in_force(session: Session, *, product: str = DOSE_PRODUCT) -> spec_limits.Specification:
    """The version new lots would start under, read without writing (the built-in one until one is stored)."""
    row = _latest(session, product)
    return definition(row) if row is not None else _built_in(product)


def in_force_record(session: Session, *, product: str = DOSE_PRODUCT) -> Specification:
    """``in_force`` as a record: the newest stored version, or the built-in one unsaved (no effective
    time: it takes effect when the first lot stores it)."""
    row = _latest(session, product)
    if row is not None:
        return row
    default = _built_in(product)
    return Specification(version=default.version, product=product, definition=spec_limits.spec_to_dict(default),
                         effective_at=None)


def definition(row: Specification) -> spec_limits.Specification:
    """The stored row as the domain's specification, which judges results."""
    return spec_limits.spec_from_dict(row.definition)


def for_lot(session: Session, lot: Lot) -> spec_limits.Specification:
    """The specification a lot is judged by: the version stored on the lot when it started.

    Before any version is stored, the built-in default is the one ``ensure_default`` would store, so a
    lot started under it reads the same definition either way.
    """
    row = by_version(session, lot.spec_version)
    if row is not None:
        return definition(row)
    if lot.spec_version in spec_limits.BUILT_IN_VERSIONS:
        return spec_limits.BUILT_IN_VERSIONS[lot.spec_version]
    raise NotFound(f"specification {lot.spec_version} of lot {lot.lot_number} is not stored")


def for_lots(session: Session, lots: Sequence[Lot]) -> dict[str, spec_limits.Specification]:
    """``for_lot`` for many lots at once, by version: the stored versions read in one statement."""
    versions = sorted({lot.spec_version for lot in lots})
    stored = {row.version: row for row in session.exec(select(Specification).where(
        Specification.version.in_(versions)))} if versions else {}
    found: dict[str, spec_limits.Specification] = {}
    for lot in lots:
        if lot.spec_version in found:
            continue
        if lot.spec_version in stored:
            found[lot.spec_version] = definition(stored[lot.spec_version])
        elif lot.spec_version in spec_limits.BUILT_IN_VERSIONS:
            found[lot.spec_version] = spec_limits.BUILT_IN_VERSIONS[lot.spec_version]
        else:
            raise NotFound(f"specification {lot.spec_version} of lot {lot.lot_number} is not stored")
    return found


def publish(session: Session, *, actor: Actor, definition: dict[str, Any]) -> Specification:
    """A new version for new lots; an existing version is never rewritten (QA only)."""
    require_role(actor.roles, "qa", action=N_("publish a specification"))
    spec = spec_limits.spec_from_dict(definition)
    _built_in(spec.product)
    ensure_default(session, actor=actor, product=spec.product)
    if by_version(session, spec.version) is not None:
        raise Refused(Reason(SPEC_VERSION_EXISTS, version=spec.version))
    row = Specification(version=spec.version, product=spec.product, definition=spec_limits.spec_to_dict(spec),
                        created_by=actor.id)
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type="specification", record_id=row.id, action="publish",
                 new={"version": row.version, "product": row.product, "tests": list(spec.codes)})
    return row
