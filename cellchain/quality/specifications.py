"""The versioned release specification: which version is in force, which one a lot is judged by.

A lot is judged for its whole life by the version in force when it started (``lot.spec_version``), so
publishing a new version never changes the verdict on a lot already in process or on any stored result.
Stored versions are append-only rows (the database refuses UPDATE and DELETE on ``specifications``).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from cellchain.audit import trail
from cellchain.core.errors import NotFound, Reason, Refused
from cellchain.manufacturing.models import Lot
from cellchain.people.rules.roles import Actor, require_role
from cellchain.quality.models import Specification
from cellchain.quality.rules import spec_limits

SPEC_VERSION_EXISTS = "spec_version_exists"


def _latest(session: Session) -> Specification | None:
    return session.exec(select(Specification).order_by(Specification.id.desc()).limit(1)).first()


def by_version(session: Session, version: str) -> Specification | None:
    return session.exec(select(Specification).where(Specification.version == version)).first()


def ensure_default(session: Session, *, actor: Actor | None = None) -> Specification:
    """The built-in UC-MSC specification (docs/rules.md, "Quality: QC results"), stored once if none exists."""
    existing = _latest(session)
    if existing is not None:
        return existing
    default = spec_limits.DEFAULT_SPEC
    row = Specification(version=default.version, definition=spec_limits.spec_to_dict(default),
                        created_by=actor.id if actor else None)
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type="specification", record_id=row.id, action="create",
                 new={"version": row.version, "product": row.product, "tests": list(spec_limits.DEFAULT_SPEC.codes)},
                 reason="built-in default specification")
    return row


def current(session: Session) -> Specification:
    """The version new lots start under (the newest published); stores the default if there is none."""
    return ensure_default(session)


def in_force(session: Session) -> spec_limits.Specification:
    """The version new lots would start under, read without writing (the built-in one until one is stored)."""
    row = _latest(session)
    return definition(row) if row is not None else spec_limits.DEFAULT_SPEC


def in_force_record(session: Session) -> Specification:
    """``in_force`` as a record: the newest stored version, or the built-in one unsaved (no effective
    time: it takes effect when the first lot stores it)."""
    row = _latest(session)
    if row is not None:
        return row
    default = spec_limits.DEFAULT_SPEC
    return Specification(version=default.version, definition=spec_limits.spec_to_dict(default), effective_at=None)


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
    if lot.spec_version == spec_limits.DEFAULT_SPEC.version:
        return spec_limits.DEFAULT_SPEC
    raise NotFound(f"specification {lot.spec_version} of lot {lot.lot_number} is not stored")


def publish(session: Session, *, actor: Actor, definition: dict[str, Any]) -> Specification:
    """A new version for new lots; an existing version is never rewritten (QA only)."""
    require_role(actor.roles, "qa", action="publish a specification")
    spec = spec_limits.spec_from_dict(definition)
    ensure_default(session, actor=actor)
    if by_version(session, spec.version) is not None:
        raise Refused(Reason(SPEC_VERSION_EXISTS, f"specification {spec.version} exists; publish a new version"))
    row = Specification(version=spec.version, definition=spec_limits.spec_to_dict(spec), created_by=actor.id)
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type="specification", record_id=row.id, action="publish",
                 new={"version": row.version, "product": row.product, "tests": list(spec.codes)})
    return row
