"""The printer registry: which printers the site has, where, what they print and at what resolution.

Admin or QA adds and changes printers (each change audited, record type ``printer``); a printer taken out
of use is made inactive, never deleted, so the jobs sent to it keep naming it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, select

from cellchain.audit import trail
from cellchain.core.errors import Invalid, NotFound, Reason, Refused
from cellchain.core.words import N_, translated
from cellchain.labelling.printing.models import PRINTER_KINDS, RESOLUTIONS, Printer
from cellchain.labelling.printing.transport import RAW_PORT, split_host_port
from cellchain.people.rules.roles import Actor, require_role

MANAGERS = ("admin", "qa")
MAX_SIZES = 12
_SIZE = re.compile(r"(\d{1,3}(?:\.\d{1,2})?)\s*[xX×]\s*(\d{1,3}(?:\.\d{1,2})?)")
_HOST = re.compile(r"[A-Za-z0-9.\-:]{1,190}")


def sizes_from(value: Any) -> list[str]:
    """Label sizes as ``"WxH"`` in mm from a list or a comma-separated text; ValueError when unreadable."""
    parts = value if isinstance(value, list) else str(value or "").replace(";", ",").split(",")
    sizes = []
    for part in parts:
        if not isinstance(part, str):
            raise ValueError(translated(N_("a size is text such as 101.6x101.6")))
        if not part.strip():
            continue
        match = _SIZE.fullmatch(part.strip())
        if match is None or not all(0 < float(n) <= 300 for n in match.groups()):
            raise ValueError(translated(N_(
                "{size!r} is not width x height in mm (for example 101.6x101.6)")).format(size=part.strip()[:20]))
        size = f"{float(match[1]):g}x{float(match[2]):g}"
        if size not in sizes:
            sizes.append(size)
    if not sizes or len(sizes) > MAX_SIZES:
        raise ValueError(translated(N_(
            "give 1 to {max_sizes} label sizes, width x height in mm")).format(max_sizes=MAX_SIZES))
    return sizes


def _address_problem(kind: str, address: str) -> str | None:
    if kind == "zpl":
        try:
            target = split_host_port(address, RAW_PORT)
        except ValueError:
            return translated(N_("give host:port of the Zebra printer (its raw port is usually 9100)"))
        return None if _HOST.fullmatch(target.host) else translated(N_("give host:port of the Zebra printer"))
    parts = urlsplit(address)
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return translated(N_("the port is not a number from 1 to 65535"))
    if parts.scheme not in ("ipp", "ipps") or not parts.hostname or not parts.path.strip("/"):
        return translated(N_("give the printer's IPP address, for example ipp://host:631/printers/label"))
    return None


def _checked(values: Mapping[str, Any]) -> dict[str, Any]:
    """Every field of a printer read at once; one refusal naming each field that is wrong."""
    errors: dict[str, str] = {}
    name, place = values.get("name"), values.get("place")
    kind, address, dpi = values.get("kind"), values.get("address"), values.get("dpi")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 60:
        errors["name"] = translated(N_("give the printer a name of at most 60 characters"))
    if not isinstance(place, str) or not 1 <= len(place.strip()) <= 100:
        errors["place"] = translated(N_("say where the printer stands (at most 100 characters)"))
    if kind not in PRINTER_KINDS:
        errors["kind"] = translated(N_("choose zpl (Zebra) or pdf (IPP printer)"))
    if not isinstance(address, str) or not 1 <= len(address.strip()) <= 200:
        errors["address"] = translated(N_("give the printer's address"))
    elif kind in PRINTER_KINDS and (problem := _address_problem(kind, address.strip())):
        errors["address"] = problem
    if isinstance(dpi, str) and dpi.strip().isdigit():
        dpi = int(dpi)
    if isinstance(dpi, bool) or dpi not in RESOLUTIONS:
        errors["dpi"] = translated(N_("choose 203, 300 or 600 dpi"))
    try:
        sizes = sizes_from(values.get("label_sizes"))
    except ValueError as bad:
        errors["label_sizes"] = str(bad)
    active = values.get("active", True)
    if not isinstance(active, bool):
        errors["active"] = translated(N_("true or false"))
    if errors:
        raise Invalid(errors)
    return {"name": name.strip(), "place": place.strip(), "kind": kind, "address": address.strip(), "dpi": dpi,
            "label_sizes": sizes, "active": active}


def _state(row: Printer) -> dict[str, Any]:
    return {"name": row.name, "place": row.place, "kind": row.kind, "address": row.address, "dpi": row.dpi,
            "label_sizes": list(row.label_sizes), "active": row.active}


def _name_taken(session: Session, name: str, other_than: int | None = None) -> None:
    found = session.exec(select(Printer.id).where(Printer.name == name)).first()
    if found is not None and found != other_than:
        raise Refused(Reason("printer_name_taken", name=name))


def add_printer(session: Session, *, actor: Actor, values: Mapping[str, Any]) -> Printer:
    """Register a printer (admin or QA), audited."""
    require_role(actor.roles, *MANAGERS, action=N_("manage printers"))
    fields = _checked(values)
    _name_taken(session, fields["name"])
    row = Printer(**fields, created_by=actor.id)
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type="printer", record_id=row.id, action="add", new=_state(row))
    return row


def change_printer(session: Session, *, actor: Actor, printer_id: int, values: Mapping[str, Any]) -> Printer:
    """Change a printer's details or take it out of use (``active`` false), audited with old and new values."""
    require_role(actor.roles, *MANAGERS, action=N_("manage printers"))
    row = get_printer(session, printer_id)
    fields = _checked({**_state(row), **values})
    _name_taken(session, fields["name"], other_than=row.id)
    old = _state(row)
    for name, value in fields.items():
        setattr(row, name, value)
    new = _state(row)
    if new == old:
        return row
    session.add(row)
    session.flush()
    changed = [k for k in new if new[k] != old[k]]
    trail.record(session, actor=actor, record_type="printer", record_id=row.id, action="change",
                 old={k: old[k] for k in changed}, new={k: new[k] for k in changed})
    return row


def get_printer(session: Session, printer_id: Any) -> Printer:
    row = session.get(Printer, printer_id) if isinstance(printer_id, int) and not isinstance(printer_id, bool) \
        else None
    if row is None:
        raise NotFound(f"no printer {str(printer_id)[:20]}")
    return row


def printers(session: Session, *, active_only: bool = False) -> list[Printer]:
    statement = select(Printer).order_by(Printer.name)
    if active_only:
        statement = statement.where(Printer.active.is_(True))
    return list(session.exec(statement))


def names(session: Session, ids: Sequence[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.exec(select(Printer.id, Printer.name).where(Printer.id.in_(sorted(set(ids))))).all())
