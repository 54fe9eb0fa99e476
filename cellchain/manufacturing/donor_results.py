"""Maternal screening results that arrive after the cord was registered, and the investigator's signed
determination of a pending cord (docs/rules.md, "Manufacturing: donor results").

A cord may be registered with results still to come: it is ``pending``, a lot may start from it, and
nothing made from it is released until the investigator signs the determination once every required
result is in (21 CFR 1271.50). A late positive result makes the donor ineligible and holds the cord, so
everything derived from it, in the same transaction (``quality.holds.place_hold`` on the collection), and
tells QA, the investigators and the lab (``notices.inbox``, mailed through the outbox).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext
from sqlmodel import Session, select

from cellchain.audit import signatures, trail
from cellchain.core.errors import Invalid, Refused
from cellchain.core.words import N_, translated
from cellchain.core.words.sentences import sentence
from cellchain.manufacturing import lookups
from cellchain.manufacturing.models import Collection, DonorResult, Lot
from cellchain.manufacturing.rules import donor
from cellchain.notices import inbox
from cellchain.people.accounts import Policy
from cellchain.people.rules.roles import Actor, require_role
from cellchain.quality import holds
from cellchain.quality.models import Hold

ENTERERS = ("lab",)
NOTIFIED_ROLES = ("qa", "investigator", "lab")
POSITIVE_NOTICE = "donor_result_positive"
DETERMINATION_NOTICE = "donor_determination_due"


@dataclass(frozen=True)
class Entered:
    """A result entered, the cord as it stands after it, and the holds it raised (a positive result)."""

    result: DonorResult
    collection: Collection
    holds: list[Hold]


def _cord(session: Session, din: Any) -> Collection:
    if not isinstance(din, str) or not din.strip():
        raise Invalid({"din": translated(N_("give the collection's DIN"))})
    return lookups.collection_by_din(session, din.strip(), for_update=True)


def _assess(row: Collection, screening: Mapping[str, str]) -> donor.DonorEligibility:
    return donor.assess_donor(screening, consent_obtained=row.consent_obtained,
                              specimen_collected_at=row.specimen_collected_at, collected_at=row.collected_at,
                              medical_history_ok=row.medical_history_ok)


def record_registered(session: Session, *, actor: Actor, collection: Collection) -> None:
    """The results given at registration, one row each (laboratory and report day not given there)."""
    session.add_all([DonorResult(collection_id=collection.id, test=test, result=result, entered_by=actor.id,
                                 entered_at=collection.created_at)
                     for test, result in collection.screening.items()])
    session.flush()


def enter_result(session: Session, *, actor: Actor, din: Any, data: Mapping[str, Any], today: date) -> Entered:
    """Enter one result as it arrives; re-decide the cord; a positive one holds everything made from it."""
    require_role(actor.roles, *ENTERERS, action=N_("enter a donor result"))
    entry = donor.parse_result_entry(data, today=today)
    row = _cord(session, din)
    result = DonorResult(collection_id=row.id, test=entry.test, result=entry.result, result_date=entry.result_date,
                         laboratory=entry.laboratory, late=True, entered_by=actor.id)
    session.add(result)
    session.flush()
    old = {"screening": dict(row.screening), "eligibility": row.eligibility}
    screening = donor.merged(row.screening, entry.test, entry.result)
    verdict = _assess(row, screening)
    row.screening = screening
    row.eligibility = donor.after_result(row.eligibility, verdict)
    row.eligibility_reasons = [r.as_dict() for r in verdict.reasons]
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type="collection", record_id=row.id, action="donor_result",
                 old=old, new={"result_id": result.id, "test": entry.test, "result": entry.result,
                               "result_date": entry.result_date.isoformat(), "laboratory": entry.laboratory,
                               "screening": screening, "eligibility": row.eligibility})
    raised = hold_and_tell(session, actor=actor, collection=row, result=result) if entry.result == "positive" else []
    if row.eligibility == donor.PENDING and verdict.eligible:
        values = {"din": row.din, "test": entry.test, "result": entry.result, "laboratory": entry.laboratory}
        inbox.notify(session, roles=("investigator",), kind=DETERMINATION_NOTICE,
                     subject=lambda: gettext("Cord %(din)s: every donor result is in; sign the eligibility "
                                             "determination", **values),
                     body=lambda: gettext(
                         "The last required maternal result of cord %(din)s (%(test)s %(result)s, %(laboratory)s) is "
                         "in and none stands against the donor. Nothing made from the cord is released before an "
                         "investigator signs the determination on the cord's page.", **values),
                     link=f"/lab/collections/{row.din}")
    return Entered(result, row, raised)


def hold_and_tell(session: Session, *, actor: Actor, collection: Collection, result: DonorResult) -> list[Hold]:
    """The one call a late positive result makes: hold the donor's collection, which holds everything derived
    from it (docs/rules.md, "Quality: holds"), then tell the people who must act (QA, the investigators for
    the look-back, the lab). A cord already on an open hold keeps it: a second positive adds no hold."""
    cause = sentence("donor_late_positive", test=result.test, result_id=result.id, din=collection.din,
                     laboratory=result.laboratory, date=result.result_date)
    already = holds.open_hold_on(session, "collection", collection.id)
    raised = [] if already is not None else [holds.place_hold(session, "collection", collection.id, cause, actor)]
    numbers = list(session.exec(select(Lot.lot_number).where(Lot.collection_id == collection.id).order_by(Lot.id)))
    values = {"test": result.test, "din": collection.din, "laboratory": result.laboratory,
              "date": result.result_date, "lots": ", ".join(numbers)}

    def body() -> str:
        held = (gettext("Lots held: %(lots)s.", **values) if numbers else gettext("No lot was made from it."))
        return (gettext("A %(test)s result reported positive by %(laboratory)s on %(date)s makes the donor of cord "
                        "%(din)s ineligible.", **values) + " " + held + " "
                + gettext("Bags still in stock are refused; the hold's look-back lists the subjects already infused "
                          "for the treating physician."))

    inbox.notify(session, roles=NOTIFIED_ROLES, kind=POSITIVE_NOTICE,
                 subject=lambda: gettext("POSITIVE donor %(test)s on cord %(din)s: donor ineligible", **values),
                 body=body, link=f"/lab/collections/{collection.din}")
    return raised


def determination_content(row: Collection, results: list[DonorResult]) -> dict[str, Any]:
    """What the investigator's signature signs: the cord and every result it was decided on."""
    return {"collection": row.id, "din": row.din, "consent_obtained": row.consent_obtained,
            "medical_history_ok": row.medical_history_ok, "specimen_collected_at": row.specimen_collected_at,
            "screening": dict(row.screening),
            "results": [{"id": r.id, "test": r.test, "result": r.result, "laboratory": r.laboratory,
                         "result_date": r.result_date.isoformat() if r.result_date else None} for r in results]}


def sign_determination(session: Session, *, actor: Actor, din: Any, signature: signatures.SignatureInput,
                       policy: Policy) -> Collection:
    """The investigator signs a pending cord eligible (meaning ``approved``) once every required result is in."""
    require_role(actor.roles, "investigator", action=N_("sign a donor eligibility determination"))
    row = _cord(session, din)
    verdict = _assess(row, row.screening)
    reasons = donor.guard_determination(row.eligibility, verdict)
    if reasons:
        raise Refused(reasons)
    signed = signatures.sign(session, signature, record_type="collection", record_id=row.id,
                             content=determination_content(row, results_of(session, row)), policy=policy,
                             meanings=("approved",), roles=("investigator",),
                             action=N_("sign a donor eligibility determination"), typist=actor)
    row.eligibility, row.eligibility_reasons, row.determination_signature_id = "eligible", [], signed.id
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type="collection", record_id=row.id, action="determine",
                 old={"eligibility": "pending"}, new={"eligibility": "eligible", "signature_id": signed.id})
    return row


def results_of(session: Session, row: Collection) -> list[DonorResult]:
    """The cord's results in the order they were entered."""
    statement = select(DonorResult).where(DonorResult.collection_id == row.id).order_by(DonorResult.id)
    return list(session.exec(statement))
