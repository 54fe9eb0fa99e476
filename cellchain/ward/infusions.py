"""Infusions: started only after every bedside check passes and a second nurse signs; then completed.

A completion that gives less than the bag's volume is a partial infusion: the subject received a smaller
dose than the visit planned, which the investigators judge and the dosing summary counts, so it needs
the nurse's reason, is kept on the infusion and in its audit entry, and is flagged on the subject's page
and the coordinator's and investigators' dashboards (docs/rules.md, "Partial infusions").

Rule 6 (a bag is infused at most once, even when two servers race): ``start`` locks the bag's row
before it judges anything, so a second start waits for the first to commit and then sees the bag
infused; ``Infusion.bag_id`` is unique as well, so the database refuses what the code might miss.
Nothing that takes another lock (a signature, an audit entry) happens before the bag is locked, so two
starts can never hold each other's locks.

A refused start is still a bedside attempt and is recorded, through a deferred write that the caller
supplies (``db.defer`` from the view), because the refusal rolls the request's transaction back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, select

from cellchain.audit import signatures, trail
from cellchain.audit.models import Signature
from cellchain.core.canonical import format_utc
from cellchain.core.errors import DomainError, Invalid, NotFound, Reason, Refused
from cellchain.core.timeinput import check_stated_times, parse_instant
from cellchain.core.types import utcnow
from cellchain.core.words import N_, labels, translated
from cellchain.core.words.checks import said
from cellchain.core.words.sentences import sentence
from cellchain.manufacturing.models import Bag
from cellchain.people.accounts import Policy
from cellchain.people.models import User
from cellchain.people.rules.roles import Actor, require_role
from cellchain.safety import clinical_deviations, drafts
from cellchain.trial import lifecycle, visits
from cellchain.trial.models import Allocation, Subject, Visit
from cellchain.trial.rules import lifecycle as lifecycle_rules
from cellchain.ward import bedside, bedside_scans, custody
from cellchain.ward.models import Infusion
from cellchain.ward.rules import bedside_checks
from cellchain.ward.rules.bedside_checks import judged

SEVERITIES = ("mild", "moderate", "severe", "life_threatening")
# A reaction's severity as the nurse reads it (translated where it is shown).
SEVERITY_WORDS = labels.REACTION_SEVERITIES
MAX_REASON = 500
MAX_VITALS = 20
Defer = Callable[[Callable[[Session], None]], None]


@dataclass(frozen=True)
class StartRequest:
    """What the nurse at the bedside sends to start: both scans, the second nurse's signature, and notes."""

    wristband: Any
    bag: Any
    verifier: signatures.SignatureInput
    started_at: datetime | None = None
    ultrasound_monitored: bool | None = None
    vital_signs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Completion:
    volume_ml: float
    ended_at: datetime
    reactions: list[dict[str, Any]]
    vital_signs: dict[str, Any]
    ultrasound_monitored: bool
    partial_reason: str | None = None  # why less than the bag's volume was given


# --- reading input ------------------------------------------------------------------------------------

def parse_vital_signs(value: Any, field_name: str = "vital_signs") -> dict[str, Any]:
    """A flat object of named readings (``{"heart_rate": 72, "bp": "120/80"}``): numbers or short text."""
    if value in (None, ""):
        return {}
    ok = isinstance(value, dict) and len(value) <= MAX_VITALS and all(
        isinstance(k, str) and 0 < len(k) <= 40 and (
            (isinstance(v, int | float) and not isinstance(v, bool)) or (isinstance(v, str) and len(v) <= 40))
        for k, v in value.items())
    if not ok:
        raise Invalid({field_name: translated(N_(
            "an object of up to {max_vitals} readings: name -> number or short text")).format(
            max_vitals=MAX_VITALS)})
    return dict(value)


def _optional_bool(value: Any, field_name: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise Invalid({field_name: translated(N_("true or false"))})


def parse_start(data: Mapping[str, Any]) -> StartRequest:
    """A start request from JSON or a form; the scans themselves are read by ``bedside_scans.parse_scans``."""
    verifier = signatures.parse_signature(data.get("verifier"), field="verifier")
    started_at = None if data.get("started_at") in (None, "") else parse_instant(data["started_at"], "started_at")
    return StartRequest(wristband=data.get("wristband"), bag=data.get("bag"), verifier=verifier,
                        started_at=started_at,
                        ultrasound_monitored=_optional_bool(data.get("ultrasound_monitored"), "ultrasound_monitored"),
                        vital_signs=parse_vital_signs(data.get("vital_signs")))


def _reaction(item: Any, index: int) -> dict[str, Any]:
    where = f"reactions[{index}]"
    if not isinstance(item, dict):
        raise Invalid({where: translated(N_("an object: description, severity, onset_at?"))})
    description, severity = item.get("description"), item.get("severity")
    fields = {}
    if not isinstance(description, str) or not description.strip() or len(description) > 500:
        fields[f"{where}.description"] = translated(N_("describe the reaction (up to 500 characters)"))
    if severity not in SEVERITIES:
        fields[f"{where}.severity"] = translated(N_("one of {choices}")).format(choices=', '.join(SEVERITIES))
    onset = None
    if item.get("onset_at") not in (None, ""):
        try:
            onset = parse_instant(item["onset_at"], f"{where}.onset_at")
        except Invalid as refusal:
            fields.update(refusal.fields)
    if fields:
        raise Invalid(fields)
    return {"description": description.strip(), "severity": severity,
            "onset_at": format_utc(onset) if onset is not None else None}


def parse_completion(data: Mapping[str, Any]) -> Completion:
    """A completion from JSON or a form, naming every bad field."""
    fields: dict[str, str] = {}
    volume = data.get("volume_ml")
    if isinstance(volume, bool) or not isinstance(volume, int | float) or not 0 <= volume <= 10_000:
        fields["volume_ml"] = translated(N_("the volume given, in ml (0 or more)"))
    ended_at = None
    try:
        ended_at = parse_instant(data.get("ended_at"), "ended_at")
    except Invalid as refusal:
        fields.update(refusal.fields)
    raw_reactions = data.get("reactions") or []
    reactions: list[dict[str, Any]] = []
    if not isinstance(raw_reactions, list) or len(raw_reactions) > 20:
        fields["reactions"] = translated(N_("a list of up to 20 reactions"))
    else:
        for index, item in enumerate(raw_reactions):
            try:
                reactions.append(_reaction(item, index))
            except Invalid as refusal:
                fields.update(refusal.fields)
    ultrasound = data.get("ultrasound_monitored")
    if not isinstance(ultrasound, bool):
        fields["ultrasound_monitored"] = translated(N_(
            "say whether the infusion was monitored by ultrasound (true or false)"))
    try:
        vitals = parse_vital_signs(data.get("vital_signs"))
    except Invalid as refusal:
        fields.update(refusal.fields)
    partial_reason = data.get("partial_reason")
    if partial_reason is not None and (not isinstance(partial_reason, str) or len(partial_reason) > MAX_REASON):
        fields["partial_reason"] = translated(N_(
            "why less than the bag was given, up to {max_reason} characters")).format(
            max_reason=MAX_REASON)
    if fields:
        raise Invalid(fields)
    return Completion(float(volume), ended_at, reactions, vitals, ultrasound,
                      (partial_reason or "").strip() or None)


# --- starting -------------------------------------------------------------------------------------------

def _verifier_check(actor: Actor, verifier: signatures.SignatureInput) -> bedside.Check:
    if verifier.username.strip().lower() == actor.username.lower():
        return judged("second_verifier", False, said("second_verifier:same_person"))
    return judged("second_verifier", True, said("second_verifier:ok", username=verifier.username))


def _reason_of(check: bedside.Check, facts: bedside.Facts) -> Reason:
    """A failed check as the start's refusal, under its name, but for those whose refusal has its own code: a
    visit outside its window names the window (``visit_out_of_window``)."""
    if check.name == "second_verifier":
        return Reason("second_verifier_same_person", variant="check", detail=check.detail)
    if check.name == "subject_on_treatment":
        return Reason(lifecycle_rules.NOT_ON_TREATMENT, variant="bedside", detail=check.detail)
    if check.name == "infusion_visit_today" and bedside_checks.outside_window(facts):
        v = facts.visit
        return Reason("visit_out_of_window", today=facts.today, week=v.week, window_start=v.window_start,
                      window_end=v.window_end)
    return Reason(check.name, detail=check.detail)


def _refuse(reasons: list[Reason], *, defer: Defer, actor: Actor, attempt: bedside.Attempt) -> Refused:
    defer(bedside.deferred_attempt(actor.id, attempt))
    return Refused(reasons)


def start(session: Session, *, actor: Actor, request: StartRequest, protocol: bedside.Protocol, policy: Policy,
          ranges: Mapping[str, Any], defer: Defer, now: datetime | None = None) -> Infusion:
    """Start an infusion: lock the bag, re-run every bedside check, take the second nurse's signature,
    write the infusion and close the bag's custody chain (``infused``). Refused starts are recorded.

    ``now`` is the clock the checks read (expiry, window, "not in the future"): the pages and the API never
    pass it; the demo records its past infusions at the times they happened (README, "Demo")."""
    require_role(actor.roles, "nurse", action=N_("start an infusion"))
    scans = bedside_scans.parse_scans(request.wristband, request.bag)
    now = now or utcnow()
    started_at = request.started_at or now
    facts = bedside.gather(session, scans, protocol, lock_bag=True, now=now)
    allocated_at = facts.allocation.allocated_at if facts.allocation else None
    check_stated_times({"started_at": started_at}, now=now,
                       not_before=[("started_at", allocated_at, N_("the bag was allocated to the subject"))])
    checks = [*bedside.run_checks(facts), _verifier_check(actor, request.verifier)]
    attempt = bedside.Attempt.of(scans, facts, checks, "start")
    reasons = [_reason_of(c, facts) for c in checks if not c.ok]
    if reasons:
        raise _refuse(reasons, defer=defer, actor=actor, attempt=attempt)
    record = bedside.record_attempt(session, actor=actor, attempt=attempt)
    try:
        signed = _sign(session, request.verifier, record_id=record.id, facts=facts, policy=policy, typist=actor)
    except DomainError as refusal:
        failed = judged("second_verifier", False, said("second_verifier:signature_refused", why=refusal.message))
        defer(bedside.deferred_attempt(actor.id, bedside.Attempt.of(scans, facts, [*checks[:-1], failed], "start")))
        raise
    return _write_infusion(session, actor=actor, facts=facts, record_id=record.id, signed=signed,
                           request=request, started_at=started_at, ranges=ranges)


def _sign(session: Session, verifier: signatures.SignatureInput, *, record_id: int, facts: bedside.Facts,
          policy: Policy, typist: Actor):
    """The second nurse signs the bedside check: this bag, this subject, this visit, every check passed."""
    content = {"bedside_check": record_id, "bag": facts.bag.bag_code, "subject": facts.subject.subject_code,
               "visit": facts.visit.id, "checks": list(bedside_checks.CHECK_NAMES)}
    return signatures.sign(session, verifier, record_type="bedside_check", record_id=record_id, content=content,
                           policy=policy, meanings=("verified",), roles=("nurse",),
                           action=N_("verify an infusion as the second nurse"), typist=typist)


def _write_infusion(session: Session, *, actor: Actor, facts: bedside.Facts, record_id: int, signed: Any,
                    request: StartRequest, started_at: datetime, ranges: Mapping[str, Any]) -> Infusion:
    if signed.user_id == actor.id:  # the username check ran first; this guards a renamed account
        raise Refused(Reason("second_verifier_same_person"))
    infusion = Infusion(bag_id=facts.bag.id, subject_id=facts.subject.id, visit_id=facts.visit.id,
                        bedside_check_id=record_id, started_at=started_at, started_by=actor.id,
                        verifier_id=signed.user_id, verifier_signature_id=signed.id,
                        ultrasound_monitored=request.ultrasound_monitored,
                        vital_signs={"start": request.vital_signs} if request.vital_signs else {})
    session.add(infusion)
    session.flush()
    where = facts.last_event.location if facts.last_event is not None else "ward"
    bag = session.get(Bag, facts.bag.id)  # its row is already held by this transaction (gather, lock_bag)
    custody.record_system_event(session, actor=actor, record=bag, ranges=ranges, handover=custody.Handover(
        event="infused", location=f"bedside, {where}"[:120], occurred_at=started_at,
        received_by=facts.subject.subject_code, notes=f"infusion {infusion.id}"))
    if facts.subject.status == lifecycle_rules.RANDOMIZED:  # the first infusion: read with the bedside's facts
        lifecycle.enter_treatment(session, actor=actor, subject_id=facts.subject.id, when=started_at)
    allowed_by = facts.window_allowance if bedside_checks.outside_window(facts) else None
    trail.record(session, actor=actor, record_type="infusion", record_id=infusion.id, action="start",
                 new={"bag": facts.bag.bag_code, "subject": facts.subject.subject_code, "visit": facts.visit.id,
                      "started_at": started_at, "verifier": signed.signer_username, "signature_id": signed.id,
                      "bedside_check_id": record_id, "ultrasound_monitored": request.ultrasound_monitored,
                      "clinical_deviation": allowed_by})
    if allowed_by is not None:  # the approved deviation allowed this one infusion outside the window, no other
        clinical_deviations.allowance_used(session, actor=actor, deviation_id=allowed_by, infusion_id=infusion.id,
                                           bag_id=facts.bag.id)
    return infusion


# --- completing -----------------------------------------------------------------------------------------

def get_infusion(session: Session, infusion_id: int, *, for_update: bool = False) -> Infusion:
    statement = select(Infusion).where(Infusion.id == infusion_id)
    if for_update:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    row = session.exec(statement).first()
    if row is None:
        raise NotFound(f"no infusion {infusion_id}")
    return row


def complete(session: Session, *, actor: Actor, infusion_id: int, completion: Completion, timezone: str) -> Infusion:
    """Record the end of an infusion: volume given, end time, reactions, vitals, ultrasound; then mark
    the visit done; each reaction drafts an adverse event (``safety.drafts``). Refused: already completed,
    more volume than the bag held, an end before the start; less than the bag's volume without a reason
    (``partial_reason``). ``timezone`` is the site's: a reaction's onset reads in its clock."""
    require_role(actor.roles, "nurse", action=N_("complete an infusion"))
    infusion = get_infusion(session, infusion_id, for_update=True)
    bag = session.get(Bag, infusion.bag_id)
    reasons = []
    if infusion.status == "completed":
        reasons.append(Reason("infusion_already_completed", id=infusion.id))
    if completion.volume_ml > bag.volume_ml:
        reasons.append(Reason("volume_exceeds_bag", volume_ml=completion.volume_ml, bag_code=bag.bag_code,
                              volume_ml2=bag.volume_ml))
    if completion.ended_at < infusion.started_at:
        reasons.append(Reason("ended_before_start"))
    if completion.ended_at > utcnow():
        reasons.append(Reason("ended_in_future"))
    if reasons:
        raise Refused(reasons)
    partial = completion.volume_ml < bag.volume_ml
    if partial and completion.partial_reason is None:
        raise Invalid({"partial_reason": translated(N_(
            "{given_ml:g} ml of bag {bag_code}'s {bag_ml:g} ml were given: say why the rest was not (a partial "
            "infusion)")).format(given_ml=completion.volume_ml, bag_code=bag.bag_code, bag_ml=bag.volume_ml)})
    old = {"status": infusion.status}
    infusion.status, infusion.ended_at, infusion.volume_ml = "completed", completion.ended_at, completion.volume_ml
    # A reason given for a whole bag is not kept: the flag means "less than the bag", nothing else.
    infusion.partial_reason = completion.partial_reason if partial else None
    infusion.reactions, infusion.completed_by = completion.reactions, actor.id
    infusion.ultrasound_monitored = completion.ultrasound_monitored
    vitals = dict(infusion.vital_signs or {})
    if completion.vital_signs:
        vitals["end"] = completion.vital_signs
    infusion.vital_signs = vitals
    session.add(infusion)
    session.flush()
    trail.record(session, actor=actor, record_type="infusion", record_id=infusion.id, action="complete", old=old,
                 new={"status": "completed", "ended_at": completion.ended_at, "volume_ml": completion.volume_ml,
                      "reactions": completion.reactions, "vital_signs": vitals,
                      "ultrasound_monitored": completion.ultrasound_monitored, "partial": partial,
                      "partial_reason": infusion.partial_reason, "bag_volume_ml": bag.volume_ml})
    visits.mark_done(session, actor=actor, visit=session.get(Visit, infusion.visit_id), when=completion.ended_at)
    # Each reaction drafts an adverse event for the investigator, in this transaction (docs/rules.md, "Safety").
    drafts.from_reactions(session, actor=actor, subject_id=infusion.subject_id, infusion_id=infusion.id,
                          reactions=completion.reactions, ended_at=completion.ended_at, timezone=timezone)
    if partial:  # a smaller dose than the visit planned: a clinical protocol deviation for the investigator
        visit = session.get(Visit, infusion.visit_id)
        subject = session.get(Subject, infusion.subject_id)
        clinical_deviations.open_automatically(
            session, actor=actor, subject_id=subject.id, subject_code=subject.subject_code, kind="partial_infusion",
            visit_id=visit.id, infusion_id=infusion.id, bag_id=bag.id, at=completion.ended_at,
            description=sentence("partial_infusion", week=visit.week, given=completion.volume_ml,
                                 bag_code=bag.bag_code, volume=bag.volume_ml, reason=infusion.partial_reason))
    return infusion


# --- what the ward sees ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class DueInfusion:
    """An allocated infusion visit whose window holds today, with its bag and any infusion so far."""

    visit: Visit
    subject: Subject
    bag: Bag
    infusion: Infusion | None


def due_today(session: Session, *, today: date) -> list[DueInfusion]:
    statement = (select(Visit, Subject, Bag, Allocation)
                 .join(Allocation, Allocation.visit_id == Visit.id)
                 .join(Subject, Subject.id == Visit.subject_id).join(Bag, Bag.id == Allocation.bag_id)
                 .where(Visit.kind == "infusion", Visit.window_start <= today, Visit.window_end >= today)
                 .order_by(Visit.target_date, Subject.subject_code))
    rows = list(session.exec(statement))
    infusions = {i.visit_id: i for i in session.exec(
        select(Infusion).where(Infusion.visit_id.in_([v.id for v, *_ in rows])))} if rows else {}
    return [DueInfusion(visit, subject, bag, infusions.get(visit.id)) for visit, subject, bag, _ in rows]


@dataclass(frozen=True)
class PartialInfusion:
    """A completed infusion that gave less than its bag, with what the dashboards show of it."""

    infusion: Infusion
    subject_code: str
    week: int
    bag_code: str
    bag_volume_ml: float


def partial_since(session: Session, since: datetime) -> list[PartialInfusion]:
    """Partial infusions completed since ``since``, newest first (one statement)."""
    statement = (select(Infusion, Subject.subject_code, Visit.week, Bag.bag_code, Bag.volume_ml)
                 .join(Subject, Subject.id == Infusion.subject_id).join(Visit, Visit.id == Infusion.visit_id)
                 .join(Bag, Bag.id == Infusion.bag_id)
                 .where(Infusion.partial_reason.is_not(None), Infusion.ended_at >= since)
                 .order_by(Infusion.ended_at.desc(), Infusion.id.desc()))
    return [PartialInfusion(*row) for row in session.exec(statement)]


def bags_on_ward(session: Session) -> list[Bag]:
    return list(session.exec(select(Bag).where(Bag.custody_state == "at_ward").order_by(Bag.bag_code)))


@dataclass(frozen=True)
class InfusionView:
    """An infusion with the people and things it names, for the API, the ward page and the reports."""

    infusion: Infusion
    bag: Bag
    subject: Subject
    visit: Visit
    started_by: User
    verifier: User
    signature: Signature
    completed_by: User | None


def describe(session: Session, infusion: Infusion) -> InfusionView:
    return InfusionView(infusion, session.get(Bag, infusion.bag_id), session.get(Subject, infusion.subject_id),
                        session.get(Visit, infusion.visit_id), session.get(User, infusion.started_by),
                        session.get(User, infusion.verifier_id), session.get(Signature, infusion.verifier_signature_id),
                        session.get(User, infusion.completed_by) if infusion.completed_by else None)
