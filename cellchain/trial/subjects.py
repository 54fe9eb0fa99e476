"""Registering and screening trial subjects (protocol NCT01690247; docs/rules.md, "Trial: subjects").

A subject is registered with a screening number, birth date, sex, weight, day 0 and an explicit answer
to every inclusion and exclusion criterion. The verdict comes from ``rules.eligibility``; a subject
who fails screening is still recorded, with every reason, because the trial must account for every
person screened. Eligible subjects get their visit schedule at once: day 0 is known at registration.
Names are never taken or stored (21 CFR 1271.290): the subject code ``SUBJ-0001`` identifies them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from cellchain.audit import trail
from cellchain.core import db
from cellchain.core.db import one
from cellchain.core.errors import Invalid, NotFound, Reason, Refused
from cellchain.core.words import N_, translated
from cellchain.identifiers.scans import format_subject_id
from cellchain.people.rules.roles import Actor, require_role
from cellchain.trial import visits
from cellchain.trial.models import Subject, SubjectSequence
from cellchain.trial.rules import dosing, eligibility, lifecycle
from cellchain.trial.rules.protocol import Protocol

SCREENING_NUMBER_MAX = 30
REGISTERING_ROLES = ("coordinator",)


def _parse(data: Mapping[str, Any]) -> tuple[str, float, eligibility.SubjectAnswers]:
    """Read every field and name every bad one at once (a form shows them all, not one per try)."""
    errors: dict[str, str] = {}
    number = data.get("screening_number")
    if not isinstance(number, str) or not number.strip():
        errors["screening_number"] = translated(N_("is required"))
    elif len(number.strip()) > SCREENING_NUMBER_MAX:
        errors["screening_number"] = translated(N_(
            "at most {screening_number_max} characters")).format(
            screening_number_max=SCREENING_NUMBER_MAX)
    weight = None
    try:
        weight = dosing.validate_weight(data.get("weight_kg"))
    except Invalid as bad:
        errors.update(bad.fields)
    answers = None
    try:
        answers = eligibility.parse_answers(dict(data))
    except Invalid as bad:
        errors.update(bad.fields)
    if errors:
        raise Invalid(errors)
    return number.strip(), weight, answers


def _answers_record(answers: eligibility.SubjectAnswers) -> dict[str, Any]:
    """The criteria answers as stored: only the named fields, so nothing else typed in is kept."""
    record = asdict(answers)
    for name in ("birth_date", "day0", "sex"):
        record.pop(name)
    return record


def _lock_sequence(session: Session) -> SubjectSequence | None:
    statement = select(SubjectSequence).where(SubjectSequence.id == 1).with_for_update()
    return session.exec(statement.execution_options(populate_existing=True)).first()


def _next_code(session: Session) -> str:
    """Issue the next subject code under a row lock, so two registrations never draw the same number."""
    sequence = _lock_sequence(session)
    if sequence is None:  # the first subject ever; a concurrent first makes the same row, and one wins
        try:
            with session.begin_nested():
                session.add(SubjectSequence(id=1, last_number=0))
        except IntegrityError:
            pass
        sequence = _lock_sequence(session)
    sequence.last_number += 1
    session.add(sequence)
    return format_subject_id(sequence.last_number)


def register(session: Session, *, actor: Actor, data: Mapping[str, Any], protocol: Protocol) -> Subject:
    """Record a subject and the screening verdict; plan the visits when eligible. Never refused for
    ineligibility: a screen failure is a record too."""
    require_role(actor.roles, *REGISTERING_ROLES, action=N_("register trial subjects"))
    number, weight, answers = _parse(data)
    if session.exec(select(Subject.id).where(Subject.screening_number == number)).first() is not None:
        raise Refused(Reason("screening_number_taken", number=number))
    verdict = eligibility.assess_subject(answers, min_age=protocol.min_age, max_age=protocol.max_age)
    subject = Subject(
        subject_code=_next_code(session), screening_number=number, birth_date=answers.birth_date,
        sex=answers.sex, day0=answers.day0, weight_kg=weight, answers=_answers_record(answers),
        eligible=verdict.eligible, eligibility_reasons=[r.as_dict() for r in verdict.reasons],
        status=lifecycle.ELIGIBLE if verdict.eligible else lifecycle.SCREEN_FAILED, created_by=actor.id)
    session.add(subject)
    session.flush()
    trail.record(session, actor=actor, record_type="subject", record_id=subject.subject_code, action="register",
                 new={"screening_number": number, "birth_date": subject.birth_date, "sex": subject.sex,
                      "day0": subject.day0, "weight_kg": weight, "answers": subject.answers,
                      "eligible": subject.eligible, "reasons": verdict.codes, "status": subject.status})
    if subject.eligible:
        visits.plan_for(session, actor=actor, subject=subject, protocol=protocol)
    return subject


def get_subject(session: Session, subject_code: str, *, for_update: bool = False) -> Subject:
    statement = select(Subject).where(Subject.subject_code == subject_code)
    if for_update:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    subject = session.exec(statement).first()
    if subject is None:
        raise NotFound(f"no subject {subject_code}")
    return subject


def list_subjects(session: Session, page: db.PageRequest = db.FIRST_PAGE) -> db.Page:
    """One page of subjects by their subject id (keyset on it)."""
    return db.keyset(session, select(Subject), (Subject.subject_code,), page)


def status_of(subject: Subject) -> str:
    """Where the subject stands in the trial: ``screen_failure``, ``awaiting_randomization``, ``randomized``."""
    if not subject.eligible:
        return "screen_failure"
    return "randomized" if subject.arm else "awaiting_randomization"


def subject_by_code(session: Session, subject_code: str) -> Subject:
    return one(session, select(Subject).where(Subject.subject_code == subject_code), f"no subject {subject_code}")


def subject_by_chain_of_identity(session: Session, chain_of_identity: str) -> Subject:
    """The subject an ISBT 128 chain-of-identity identifier was issued to (docs/identifiers.md)."""
    return one(session, select(Subject).where(Subject.chain_of_identity == chain_of_identity),
               f"no subject has chain of identity {chain_of_identity}")
