"""Drafts from the bedside: a reaction recorded when an infusion is completed drafts an adverse event for the
investigator to assess and confirm (docs/rules.md, "Safety: adverse events").

``ward.infusions.complete`` calls :func:`from_reactions` in its own transaction with plain values, so the
draft and the completion commit together or not at all; this module reads nothing of the ward.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from cellchain.audit import trail
from cellchain.core.timeinput import parse_instant
from cellchain.core.words.moments import site_clock
from cellchain.core.words.sentences import sentence
from cellchain.people.rules.roles import Actor
from cellchain.safety.models import AdverseEvent, AdverseEventVersion
from cellchain.safety.rules.assessment import MAX_TERM
from cellchain.safety.rules.terms import REACTION_GRADES

CATEGORY = "infusion_reaction"


def from_reactions(session: Session, *, actor: Actor, subject_id: int, infusion_id: int,
                   reactions: Sequence[dict[str, Any]], ended_at: datetime, timezone: str) -> list[AdverseEvent]:
    """One draft per reaction: its words as the term, the nurse's severity as the starting grade, awareness at
    the infusion's end. Onset date, seriousness, relatedness and the rest are the investigator's to assess.

    The description is a sentence kept as its code and values (the nurse's words as typed, the severity's
    code, the onset on the site's clock in ``timezone``) and read in each reader's language; beside them it
    is kept as worded for the nurse, which the trail and the investigator's signature bind
    (docs/architecture.md, "Languages")."""
    drafts = []
    for reaction in reactions:
        onset = reaction.get("onset_at")
        values = {"infusion_id": infusion_id, "description": reaction["description"],
                  "severity": reaction["severity"]}
        if onset:
            values["onset"] = site_clock(parse_instant(onset, "onset_at"), ZoneInfo(timezone))
        note = sentence("reaction_draft:onset" if onset else "reaction_draft", **values)
        event = AdverseEvent(subject_id=subject_id, infusion_id=infusion_id, source="reaction",
                             term=reaction["description"][:MAX_TERM], category=CATEGORY, description=note.said,
                             description_code=note.code, description_values=dict(note.values),
                             grade=REACTION_GRADES.get(reaction["severity"]), aware_at=ended_at,
                             recorded_by=actor.id, recorded_at=ended_at)
        session.add(event)
        session.flush()
        values = {"term": event.term, "category": CATEGORY, "description": note.said, "grade": event.grade,
                  "aware_at": ended_at.isoformat(), "seriousness": []}
        session.add(AdverseEventVersion(event_id=event.id, version=1, status="draft", values=values,
                                        changed_by=actor.id, changed_at=ended_at))
        trail.record(session, actor=actor, record_type="adverse_event", record_id=event.id, action="draft",
                     new={"subject_id": subject_id, "infusion": infusion_id, "status": "draft",
                          "source": "reaction", **values, "description_code": note.code})
        drafts.append(event)
    return drafts
