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

from flask_babel import gettext as _
from reportlab.platypus import Flowable, Spacer
from sqlmodel import Session, select

from cellchain.audit.models import Signature
from cellchain.core import pdf_document
from cellchain.core.errors import NotFound
from cellchain.core.pdf_document import FAIL_COLOUR, H2, PASS_COLOUR, SMALL, TITLE, facts, para, table, when
from cellchain.core.words import N_, translated
from cellchain.core.words.checks import reworded
from cellchain.core.words.entries import action_label
from cellchain.core.words.labels import place
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

EVENT_HEADER = ("#", N_("When"), N_("Event"), N_("State"), N_("Location"), N_("Handed over by"), N_("Received by"),
                N_("Temp °C"), N_("Condition"), N_("Recorded by"))
EVENT_WIDTHS = (7, 30, 28, 34, 40, 28, 28, 18, 24, 28)


def _events(report: ChainOfCustody, events: list[CustodyEvent], tz: ZoneInfo) -> Flowable:
    rows = [(n, when(e.occurred_at, tz), e.event,
             _("%(from)s to %(to)s", **{"from": e.from_state or _("(none)"), "to": e.to_state}), place(e.location),
             e.handed_over_by or "", e.received_by or "",
             "" if e.temperature_c is None else f"{e.temperature_c:g}" + (" " + _("EXCURSION") if e.excursion else ""),
             e.condition, report.name(e.recorded_by)) for n, e in enumerate(events, start=1)]
    if not rows:
        return para(_("No custody events recorded."))
    return table([translated(h) for h in EVENT_HEADER], rows, EVENT_WIDTHS)


def _identity(report: ChainOfCustody, tz: ZoneInfo) -> list[Flowable]:
    bag, lot, collection = report.bag, report.lot, report.collection
    story: list[Flowable] = [para(_("Chain of identity"), H2)]
    pairs = [(_("Bag"), bag.bag_code),
             (_("Product"), _("%(kind)s %(code)s division %(division)s", kind=bag.kind, code=bag.product_code,
                              division=bag.division)),
             (_("Volume"), f"{bag.volume_ml:g} ml"),
             (_("Total cells"), cells(bag.total_cells) if bag.total_cells else "-"),
             (_("Filled / expires"), f"{when(bag.filled_at, tz)} / {when(bag.expires_at, tz)}"),
             (_("Quality status"), bag.quality_status), (_("Custody state"), bag.custody_state or _("(none)")),
             (_("Chain of custody"), _("unbroken") if report.unbroken
              else _("BROKEN: %(breaks)s", breaks="; ".join(report.breaks)))]
    if collection is not None:
        pairs[1:1] = [(_("Cord DIN"), collection.din), (_("Donor code"), collection.donor_code),
                      (_("Collected"), f"{when(collection.collected_at, tz)}, {collection.site}")]
    if lot is not None:
        signed = report.lot_signature
        decision = (_("%(status)s by %(name)s (%(meaning)s) %(when)s", status=lot.status, name=signed.signer_name,
                      meaning=signed.meaning, when=when(signed.signed_at, tz)) if signed else lot.status)
        pairs.append((_("Lot"), f"{lot.lot_number}: {decision}"))
    elif bag.saline_lot:
        pairs.append((_("Saline lot"), bag.saline_lot))
    if report.infusion is not None:
        recipient = report.infusion
        pairs.append((_("Recipient"), _("%(subject)s, week %(week)s visit", subject=recipient.subject.subject_code,
                                         week=recipient.visit.week)))
        if recipient.subject.chain_of_identity:
            pairs.append((_("Chain of identity"), coi_eye_readable(recipient.subject.chain_of_identity)))
    story.append(facts(pairs))
    return story


def _excursions(report: ChainOfCustody, tz: ZoneInfo) -> list[Flowable]:
    story: list[Flowable] = [para(_("Temperature excursions and QA decisions"), H2)]
    if not report.excursions:
        return [*story, para(_("None recorded."))]
    rows = []
    for x, signed in report.excursions:
        decision = (_("%(status)s by %(name)s (%(meaning)s) %(when)s", status=x.status, name=signed.signer_name,
                      meaning=signed.meaning, when=when(signed.signed_at, tz)) if signed else x.status)
        rows.append((x.id, f"{x.temperature_c:g} °C", _("%(low)s to %(high)s °C", low=f"{x.low_c:g}",
                                                         high=f"{x.high_c:g}"), when(x.created_at, tz),
                     decision, x.reason or ""))
    return [*story, table(("#", _("Temperature"), _("Allowed"), _("Opened"), _("Decision (signature)"), _("Reason")),
                          rows, (10, 28, 30, 35, 90, 72))]


def _bedside(report: ChainOfCustody, tz: ZoneInfo) -> list[Flowable]:
    story: list[Flowable] = [para(_("Bedside checks (every attempt)"), H2)]
    if not report.checks:
        return [*story, para(_("No bedside check recorded."))]
    for attempt in report.checks:
        verdict = _("ALL CHECKS PASSED") if attempt.ok else _("REFUSED")
        story.append(para(_("Attempt %(id)s (%(purpose)s) %(when)s by %(name)s: %(verdict)s; wristband %(scan)s",
                            id=attempt.id, purpose=action_label(attempt.purpose), when=when(attempt.checked_at, tz),
                            name=report.name(attempt.checked_by), verdict=verdict, scan=attempt.wristband_scan)))
        rows = [(c["name"], _("PASS") if c["ok"] else _("FAIL"),
                 reworded(c.get("code"), c.get("params"), c["detail"])) for c in attempt.checks]
        colours = [("TEXTCOLOR", (1, n), (1, n), PASS_COLOUR if c["ok"] else FAIL_COLOUR)
                   for n, c in enumerate(attempt.checks, start=1)]
        story += [table((_("Check"), _("Result"), _("Detail")), rows, (55, 16, 194), extra=colours), Spacer(1, 4)]
    return story


def _infusion(report: ChainOfCustody, tz: ZoneInfo) -> list[Flowable]:
    story: list[Flowable] = [para(_("Infusion"), H2)]
    view = report.infusion
    if view is None:
        return [*story, para(_("Not infused."))]
    i = view.infusion
    reactions = "; ".join(f"{r['severity']}: {r['description']}"
                          + (" " + _("(onset %(when)s)", when=r["onset_at"]) if r.get("onset_at") else "")
                          for r in i.reactions) or _("none recorded")
    pairs = [(_("Subject"), view.subject.subject_code),
             (_("Visit"), _("week %(week)s (%(kind)s)", week=view.visit.week, kind=view.visit.kind)),
             (_("Started"), _("%(when)s by %(name)s", when=when(i.started_at, tz), name=view.started_by.full_name)),
             (_("Second verifier"), f"{view.signature.signer_name} ({view.signature.meaning}) "
                                    f"{when(view.signature.signed_at, tz)}"),
             (_("Ended"), _("%(when)s by %(name)s", when=when(i.ended_at, tz), name=view.completed_by.full_name)
              if view.completed_by else _("not yet")),
             (_("Volume given"), "" if i.volume_ml is None
              else _("%(given)s ml of %(volume)s ml", given=f"{i.volume_ml:g}", volume=f"{view.bag.volume_ml:g}")),
             (_("Ultrasound monitored"),
              {True: _("yes"), False: _("NO"), None: _("not recorded")}[i.ultrasound_monitored]),
             (_("Vital signs"), _vitals(i.vital_signs)),
             (_("Reactions"), reactions), (_("Status"), i.status)]
    return [*story, facts(pairs)]


def _vitals(vital_signs: dict) -> str:
    """``{"start": {"heart_rate": 72}, "end": {...}}`` as "start: heart_rate 72; end: ..."."""
    phases = [f"{phase}: " + ", ".join(f"{k} {v}" for k, v in sorted(readings.items()))
              for phase, readings in vital_signs.items() if isinstance(readings, dict)]
    return "; ".join(phases) or _("none recorded")


def render(report: ChainOfCustody, *, site: str, timezone: str) -> bytes:
    tz = ZoneInfo(timezone)
    story: list[Flowable] = [
        para(_("Chain of custody: bag %(bag)s", bag=report.bag.bag_code), TITLE),
        para(_("Printed %(when)s UTC; times below in %(zone)s.", when=f"{datetime.now(UTC):%Y-%m-%d %H:%M}",
               zone=timezone), SMALL)]
    story += _identity(report, tz)
    if report.collection is not None:
        story += [para(_("Cord %(din)s: custody events", din=report.collection.din), H2),
                  _events(report, report.collection_events, tz)]
    story += [para(_("Bag %(bag)s: custody events", bag=report.bag.bag_code), H2),
              _events(report, report.bag_events, tz)]
    story += _excursions(report, tz) + _bedside(report, tz) + _infusion(report, tz)
    return pdf_document.render(story, title=_("Chain of custody %(bag)s", bag=report.bag.bag_code), site=site, tz=tz,
                               wide=True)
