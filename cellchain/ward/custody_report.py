"""The chain-of-custody report of one bag: from the cord to the vein, every hand-over in order.

Chain of identity (donor code, DIN, lot, bag, subject) and chain of custody (who held the
product, where, when, at what temperature, in what condition). The report reads only stored records and
prints them as they are: the cord's events, the lot and its release signature, every bag event with the
person who recorded it, excursions and QA's decisions, every bedside attempt with each check, and the
infusion with both nurses. A break in the chain is printed, never smoothed over.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from reportlab.platypus import Flowable, Spacer
from sqlmodel import Session, select

from cellchain.audit.models import Signature
from cellchain.core import pdf_document
from cellchain.core.errors import NotFound
from cellchain.core.pdf_document import FAIL_COLOUR, H2, PASS_COLOUR, SMALL, TITLE, facts, para, table, when
from cellchain.core.words.checks import reworded
from cellchain.core.words.numbers import cells
from cellchain.identifiers.isbt128 import coi_eye_readable
from cellchain.manufacturing import lot_access
from cellchain.manufacturing.models import Bag, Collection, Lot
from cellchain.people.models import User
from cellchain.trial.models import Subject, Visit
from cellchain.ward import custody, infusions
from cellchain.ward.models import BedsideCheck, CustodyEvent, Excursion, Infusion


@dataclass
class ChainOfCustody:
    """What the report prints, read in one go."""

    bag: Bag
    collection: Collection | None
    lot: Lot | None
    lot_signature: Signature | None
    collection_events: list[CustodyEvent]
    bag_events: list[CustodyEvent]
    unbroken: bool
    breaks: list[str]
    excursions: list[tuple[Excursion, Signature | None]]
    checks: list[BedsideCheck]
    infusion: infusions.InfusionView | None
    people: dict[int, User] = field(default_factory=dict)

    def name(self, user_id: int | None) -> str:
        person = self.people.get(user_id) if user_id is not None else None
        return person.full_name if person else ""


# The report reads a fixed number of statements however long the bag's history is
# (tests/ward/test_query_counts.py): the identity in one outer-joined read, excursions with their decisions,
# the infusion with what it names, and everyone named in one IN query.
_IDENTITY = (select(Bag, Lot, Collection, Signature)
             .outerjoin(Lot, Lot.id == Bag.lot_id)
             .outerjoin(Collection, Collection.id == Lot.collection_id)
             .outerjoin(Signature, Signature.id == Lot.decision_signature_id))
_EXCURSIONS = (select(Excursion, Signature).outerjoin(Signature, Signature.id == Excursion.signature_id)
               .where(Excursion.item_type == "bag").order_by(Excursion.id))
_INFUSION = (select(Infusion, Subject, Visit, Signature)
             .join(Subject, Subject.id == Infusion.subject_id).join(Visit, Visit.id == Infusion.visit_id)
             .join(Signature, Signature.id == Infusion.verifier_signature_id))


def _identity_of(session: Session, bag_code: str) -> tuple[Bag, Lot | None, Collection | None, Signature | None]:
    row = session.exec(_IDENTITY.where(Bag.bag_code == bag_code)).first()
    if row is None:
        raise NotFound(f"no bag {bag_code}")
    return row


def _infusion_view(row, bag: Bag, people: dict[int, User]) -> infusions.InfusionView | None:
    if row is None:
        return None
    infusion, subject, visit, signature = row
    return infusions.InfusionView(infusion, bag, subject, visit, people[infusion.started_by],
                                  people[infusion.verifier_id], signature, people.get(infusion.completed_by))


def gather(session: Session, bag_code: str) -> ChainOfCustody:
    bag, lot, collection, lot_signature = _identity_of(session, bag_code)
    bag_events = custody.events_of(session, "bag", bag.id)
    unbroken, breaks = custody.chain_status(session, "bag", bag.id, bag_events)
    excursions = list(session.exec(_EXCURSIONS.where(Excursion.item_id == bag.id)))
    checks = list(session.exec(select(BedsideCheck).where(BedsideCheck.bag_id == bag.id).order_by(BedsideCheck.id)))
    infused = session.exec(_INFUSION.where(Infusion.bag_id == bag.id)).first()
    collection_events = custody.events_of(session, "collection", collection.id) if collection else []
    ids = {e.recorded_by for e in collection_events + bag_events} | {c.checked_by for c in checks}
    ids |= {x.decided_by for x, _ in excursions}
    if infused is not None:
        ids |= {infused[0].started_by, infused[0].verifier_id, infused[0].completed_by}
    people = lot_access.people(session, ids)
    return ChainOfCustody(bag=bag, collection=collection, lot=lot, lot_signature=lot_signature,
                          collection_events=collection_events, bag_events=bag_events, unbroken=unbroken,
                          breaks=[r.message for r in breaks], excursions=[(x, s) for x, s in excursions],
                          checks=checks, infusion=_infusion_view(infused, bag, people), people=people)


# --- sections -------------------------------------------------------------------------------------------

EVENT_HEADER = ("#", "When", "Event", "State", "Location", "Handed over by", "Received by", "Temp °C",
                "Condition", "Recorded by")
EVENT_WIDTHS = (7, 30, 28, 34, 40, 28, 28, 18, 24, 28)


def _events(report: ChainOfCustody, events: list[CustodyEvent], tz: ZoneInfo) -> Flowable:
    rows = [(n, when(e.occurred_at, tz), e.event, f"{e.from_state or '(none)'} to {e.to_state}", e.location,
             e.handed_over_by or "", e.received_by or "",
             "" if e.temperature_c is None else f"{e.temperature_c:g}" + (" EXCURSION" if e.excursion else ""),
             e.condition, report.name(e.recorded_by)) for n, e in enumerate(events, start=1)]
    if not rows:
        return para("No custody events recorded.")
    return table(EVENT_HEADER, rows, EVENT_WIDTHS)


def _identity(report: ChainOfCustody, tz: ZoneInfo) -> list[Flowable]:
    bag, lot, collection = report.bag, report.lot, report.collection
    story: list[Flowable] = [para("Chain of identity", H2)]
    pairs = [("Bag", bag.bag_code), ("Product", f"{bag.kind} {bag.product_code} division {bag.division}"),
             ("Volume", f"{bag.volume_ml:g} ml"), ("Total cells", cells(bag.total_cells) if bag.total_cells else "-"),
             ("Filled / expires", f"{when(bag.filled_at, tz)} / {when(bag.expires_at, tz)}"),
             ("Quality status", bag.quality_status), ("Custody state", bag.custody_state or "(none)"),
             ("Chain of custody", "unbroken" if report.unbroken else "BROKEN: " + "; ".join(report.breaks))]
    if collection is not None:
        pairs[1:1] = [("Cord DIN", collection.din), ("Donor code", collection.donor_code),
                      ("Collected", f"{when(collection.collected_at, tz)}, {collection.site}")]
    if lot is not None:
        signed = report.lot_signature
        decision = (f"{lot.status} by {signed.signer_name} ({signed.meaning}) {when(signed.signed_at, tz)}"
                    if signed else lot.status)
        pairs.append(("Lot", f"{lot.lot_number}: {decision}"))
    elif bag.saline_lot:
        pairs.append(("Saline lot", bag.saline_lot))
    if report.infusion is not None:
        subject = report.infusion.subject
        pairs.append(("Recipient", f"{subject.subject_code}, week {report.infusion.visit.week} visit"))
        if subject.chain_of_identity:
            pairs.append(("Chain of identity", coi_eye_readable(subject.chain_of_identity)))
    story.append(facts(pairs))
    return story


def _excursions(report: ChainOfCustody, tz: ZoneInfo) -> list[Flowable]:
    story: list[Flowable] = [para("Temperature excursions and QA decisions", H2)]
    if not report.excursions:
        return [*story, para("None recorded.")]
    rows = []
    for x, signed in report.excursions:
        decision = (f"{x.status} by {signed.signer_name} ({signed.meaning}) {when(signed.signed_at, tz)}"
                    if signed else x.status)
        rows.append((x.id, f"{x.temperature_c:g} °C", f"{x.low_c:g} to {x.high_c:g} °C", when(x.created_at, tz),
                     decision, x.reason or ""))
    return [*story, table(("#", "Temperature", "Allowed", "Opened", "Decision (signature)", "Reason"), rows,
                          (10, 28, 30, 35, 90, 72))]


def _bedside(report: ChainOfCustody, tz: ZoneInfo) -> list[Flowable]:
    story: list[Flowable] = [para("Bedside checks (every attempt)", H2)]
    if not report.checks:
        return [*story, para("No bedside check recorded.")]
    for attempt in report.checks:
        verdict = "ALL CHECKS PASSED" if attempt.ok else "REFUSED"
        story.append(para(f"Attempt {attempt.id} ({attempt.purpose}) {when(attempt.checked_at, tz)} by "
                          f"{report.name(attempt.checked_by)}: {verdict}; wristband {attempt.wristband_scan}"))
        rows = [(c["name"], "PASS" if c["ok"] else "FAIL", reworded(c.get("code"), c.get("params"), c["detail"]))
                for c in attempt.checks]
        colours = [("TEXTCOLOR", (1, n), (1, n), PASS_COLOUR if c["ok"] else FAIL_COLOUR)
                   for n, c in enumerate(attempt.checks, start=1)]
        story += [table(("Check", "Result", "Detail"), rows, (55, 16, 194), extra=colours), Spacer(1, 4)]
    return story


def _infusion(report: ChainOfCustody, tz: ZoneInfo) -> list[Flowable]:
    story: list[Flowable] = [para("Infusion", H2)]
    view = report.infusion
    if view is None:
        return [*story, para("Not infused.")]
    i = view.infusion
    reactions = "; ".join(f"{r['severity']}: {r['description']}" + (f" (onset {r['onset_at']})" if r.get("onset_at")
                                                                    else "") for r in i.reactions) or "none recorded"
    pairs = [("Subject", view.subject.subject_code), ("Visit", f"week {view.visit.week} ({view.visit.kind})"),
             ("Started", f"{when(i.started_at, tz)} by {view.started_by.full_name}"),
             ("Second verifier", f"{view.signature.signer_name} ({view.signature.meaning}) "
                                 f"{when(view.signature.signed_at, tz)}"),
             ("Ended", f"{when(i.ended_at, tz)} by {view.completed_by.full_name}" if view.completed_by else "not yet"),
             ("Volume given", "" if i.volume_ml is None else f"{i.volume_ml:g} ml of {view.bag.volume_ml:g} ml"),
             ("Ultrasound monitored", {True: "yes", False: "NO", None: "not recorded"}[i.ultrasound_monitored]),
             ("Vital signs", _vitals(i.vital_signs)),
             ("Reactions", reactions), ("Status", i.status)]
    return [*story, facts(pairs)]


def _vitals(vital_signs: dict) -> str:
    """``{"start": {"heart_rate": 72}, "end": {...}}`` as "start: heart_rate 72; end: ..."."""
    phases = [f"{phase}: " + ", ".join(f"{k} {v}" for k, v in sorted(readings.items()))
              for phase, readings in vital_signs.items() if isinstance(readings, dict)]
    return "; ".join(phases) or "none recorded"


def render(report: ChainOfCustody, *, site: str, timezone: str) -> bytes:
    tz = ZoneInfo(timezone)
    story: list[Flowable] = [para(f"Chain of custody: bag {report.bag.bag_code}", TITLE),
                             para(f"Printed {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; times below in {timezone}.", SMALL)]
    story += _identity(report, tz)
    if report.collection is not None:
        story += [para(f"Cord {report.collection.din}: custody events", H2),
                  _events(report, report.collection_events, tz)]
    story += [para(f"Bag {report.bag.bag_code}: custody events", H2), _events(report, report.bag_events, tz)]
    story += _excursions(report, tz) + _bedside(report, tz) + _infusion(report, tz)
    return pdf_document.render(story, title=f"Chain of custody {report.bag.bag_code}", site=site, tz=tz, wide=True)
