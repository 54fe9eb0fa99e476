"""Demo QC results and the QA release of the demo lot made to be released.

Made through the same services as real work: the demo QC analyst (``qc``) records the results, each
judged and audited; the demo QA reviewer (``qa``) releases the ``to_release`` lot with the demo
password, under every release rule. The ``awaiting_qc`` lot gets its identity, purity and viability
results only (sterility and the rest are still running), so the QC work list and the QA queue show
a lot that is not ready. Safe to run twice: a test that has a result is not entered again, and a lot
already decided is left alone.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from cellchain.audit import signatures
from cellchain.core.errors import Refused
from cellchain.core.types import utcnow
from cellchain.demo import lab as demo_lab
from cellchain.manufacturing import batch
from cellchain.manufacturing.models import Lot
from cellchain.people import accounts
from cellchain.people.models import User
from cellchain.people.rules.roles import Actor
from cellchain.quality import qc, release, specifications

log = logging.getLogger(__name__)
DEMO_PASSWORD = demo_lab.DEMO_PASSWORD
# Passing results of a good UC-MSC lot, in the order a lab finishes them.
DEMO_VALUES: dict[str, Any] = {
    "cd73": 98.9, "cd90": 99.2, "cd105": 96.8, "cd34": 0.3, "cd45": 0.5, "cd14": 0.4, "cd19": 0.2, "hla_dr": 0.7,
    "viability": 93.5, "cell_count": 98.6, "endotoxin": 0.8, "gram_stain": "negative", "mycoplasma": "negative",
    "plastic_adherence": "positive", "trilineage": "positive",
}
# The 14-day sterility culture is read after release (spec_limits.DOSE_SPEC); the demo leaves it pending.
FIRST_DAY = ("cd73", "cd90", "cd105", "cd34", "cd45", "cd14", "cd19", "hla_dr", "viability")
PLAN = (("awaiting_qc", FIRST_DAY), ("to_release", tuple(DEMO_VALUES)))


def _record(session: Session, analyst: User, lot: Lot, codes: tuple[str, ...], tz: ZoneInfo) -> int:
    done = {row.test_code for row in qc.results_of(session, lot)}
    tested_at = utcnow() - timedelta(minutes=30)
    created = 0
    for code in codes:
        if code in done:
            continue
        entry = qc.ResultInput(test=code, value=DEMO_VALUES[code], sample_stage="final_product",
                               sampled_at=tested_at - timedelta(hours=2), tested_at=tested_at)
        qc.record_result(session, actor=analyst, lot_number=lot.lot_number, entry=entry, tz=tz)
        created += 1
    return created


def _release(session: Session, reviewer: Actor, config: Mapping[str, Any], policy: accounts.Policy) -> int:
    lot = demo_lab.demo_lot(session, "to_release")
    if lot is None or lot.status != "awaiting_release":
        return 0
    signature = signatures.SignatureInput(username=reviewer.username, password=DEMO_PASSWORD, meaning="released")
    try:
        with session.begin_nested():
            release.release(session, actor=reviewer, lot_number=lot.lot_number, signature=signature, policy=policy,
                            steps=batch.step_definitions(config["BATCH_RECORD_STEPS"]))
    except Refused as refusal:  # the demo still loads; the reasons say what to fix in the demo data
        log.warning("demo lot %s not released: %s", lot.lot_number, refusal.message)
        return 0
    return 1


def load(session: Session, *, config: Mapping[str, Any], policy: accounts.Policy) -> int:
    """Add the demo QC results and release the ``to_release`` lot; the number of records made."""
    analyst, reviewer = accounts.find_user(session, "qc"), accounts.find_user(session, "qa")
    if analyst is None or reviewer is None:
        raise RuntimeError("load the demo people (services.demo.load_people) before the QC demo")
    specifications.ensure_defaults(session)
    tz = ZoneInfo(config["SITE_TIMEZONE"])
    created = 0
    for purpose, codes in PLAN:
        lot = demo_lab.demo_lot(session, purpose)
        if lot is not None and lot.status in qc.TESTABLE_STATUSES:
            created += _record(session, analyst, lot, codes, tz)
    return created + _release(session, reviewer, config, policy)
