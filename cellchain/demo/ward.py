"""Demo ward data: the bags allocated to today's infusions are dispatched by the lab and received on
the ward, so a nurse opening the demo finds them on the ward, ready for the bedside check.

Through the custody service as the demo lab technician and nurse, with in-range temperatures, so the
chains are unbroken and audited like real ones. Safe to run twice: a bag already moved is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from cellchain.core.types import utcnow
from cellchain.people import accounts
from cellchain.trial import visits
from cellchain.ward import custody, infusions


def load(session: Session, *, config: Mapping[str, Any], policy: accounts.Policy) -> int:
    """Move today's allocated bags to the ward; the number of custody events recorded."""
    del policy  # no accounts or signatures here; the signature matches the other demo loaders
    lab, nurse = accounts.find_user(session, "lab"), accounts.find_user(session, "nurse")
    if lab is None or nurse is None:
        return 0
    ranges = config["TEMPERATURE_RANGES"]
    created = 0
    now = utcnow()
    for due in infusions.due_today(session, today=visits.site_today(config["SITE_TIMEZONE"])):
        bag = due.bag
        if bag.custody_state not in ("at_lab", "in_storage"):
            continue
        custody.record_handover(session, actor=lab, record=bag, ranges=ranges, handover=custody.Handover(
            event="dispatched", location="cell processing lab", occurred_at=now - timedelta(minutes=50),
            temperature_c=4.5, handed_over_by=lab.full_name, received_by="hospital courier"))
        custody.record_handover(session, actor=nurse, record=bag, ranges=ranges, handover=custody.Handover(
            event="received_at_ward", location="liver transplant ward", occurred_at=now - timedelta(minutes=20),
            temperature_c=5.0, handed_over_by="hospital courier", received_by=nurse.full_name))
        created += 2
    return created
