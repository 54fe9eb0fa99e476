"""Demo safety story: on the subjects of the supply story (``demo/supply.py``), a serious adverse event and a
mild infusion reaction, each through the real operations as the demo people, at the times they happened.

- The first UC-MSC subject's biopsy-proven grade-3 acute rejection ten days after day 0 (hospitalised, treated
  with methylprednisolone, recovering): recorded by the investigator on the day, confirmed with an
  e-signature, and reported to the sponsor five hours after awareness, inside the 24-hour clock.
- The second subject's chills at the end of the week-4 infusion: the nurse's reaction drafts the event
  (``safety.drafts``, as a completion does), and the investigator assesses and confirms it (grade 1, not
  serious, possibly related, resolved the same day).

Safe to run twice: nothing is added once the demo subjects have an adverse event.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from cellchain.audit import signatures
from cellchain.demo import lab as demo_lab
from cellchain.demo import supply as demo_supply
from cellchain.people import accounts
from cellchain.safety import drafts, events, sae
from cellchain.safety.models import AdverseEvent
from cellchain.trial.models import Subject, Visit
from cellchain.ward.models import Infusion

REJECTION_DAY = 10
REACTION_WEEK = 4


def _signature(meaning: str) -> signatures.SignatureInput:
    return signatures.SignatureInput(username="investigator", password=demo_lab.DEMO_PASSWORD, meaning=meaning)


def load(session: Session, *, config: Mapping[str, Any], policy: accounts.Policy) -> int:
    numbers = [number for number, *_rest in demo_supply.SUBJECTS]
    enrolled = list(session.exec(select(Subject).where(Subject.screening_number.in_(numbers), Subject.arm.is_not(None))
                                 .order_by(Subject.id)))
    investigator, nurse = accounts.find_user(session, "investigator"), accounts.find_user(session, "nurse")
    if len(enrolled) < 2 or investigator is None or nurse is None:
        return 0
    if session.exec(select(AdverseEvent.id).where(AdverseEvent.subject_id.in_([s.id for s in enrolled]))).first():
        return 0
    zone = config["SITE_TIMEZONE"]
    dosed = next((s for s in enrolled if s.arm == "A"), enrolled[0])
    onset = dosed.day0 + timedelta(days=REJECTION_DAY)
    aware = datetime.combine(onset, time(11), tzinfo=ZoneInfo(zone))
    rejection = events.record(session, actor=investigator, subject_code=dosed.subject_code, timezone=zone,
                              now=aware + timedelta(hours=1), data={
        "term": "acute cellular rejection", "category": "acute_rejection", "onset_on": onset,
        "description": "Raised transaminases on day 10; liver biopsy: moderate acute cellular rejection (Banff "
                       "RAI 6). Admitted for intravenous steroids.",
        "grade": 3, "seriousness": ["hospitalisation"], "causality": "unlikely", "expectedness": "expected",
        "action_taken": "not_changed", "outcome": "recovering", "biopsy_proven": True,
        "rejection_treatment": "methylprednisolone 500 mg IV daily for 3 days", "aware_at": aware})
    events.confirm(session, actor=investigator, event_id=rejection.id, signature=_signature("approved"), policy=policy)
    sae.report(session, actor=investigator, event_id=rejection.id, signature=_signature("authored"),
               sent_at=aware + timedelta(hours=5), sent_to="sponsor pharmacovigilance desk", policy=policy,
               now=aware + timedelta(hours=5))
    reacted = next(s for s in enrolled if s.id != dosed.id)
    infusion = session.exec(select(Infusion).join(Visit, Visit.id == Infusion.visit_id)
                            .where(Infusion.subject_id == reacted.id, Visit.week == REACTION_WEEK)).first()
    if infusion is None or infusion.ended_at is None:
        return 1
    [draft] = drafts.from_reactions(session, actor=nurse, subject_id=reacted.id, infusion_id=infusion.id,
                                    reactions=[{"description": "chills", "severity": "mild", "onset_at": None}],
                                    ended_at=infusion.ended_at, timezone=zone)
    infusion_day = infusion.ended_at.astimezone(ZoneInfo(zone)).date()
    events.amend(session, actor=investigator, event_id=draft.id, timezone=zone,
                 now=infusion.ended_at + timedelta(hours=2), data={
        "term": "chills", "onset_on": infusion_day, "resolved_on": infusion_day, "grade": 1, "seriousness": [],
        "causality": "possible", "expectedness": "expected", "action_taken": "not_changed", "outcome": "recovered"})
    events.confirm(session, actor=investigator, event_id=draft.id, signature=_signature("approved"), policy=policy)
    return 2
