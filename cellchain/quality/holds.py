"""Holds: a released lot stopped by an out-of-specification result that came after its release.

A 48-hour product is released on rapid tests and its 14-day sterility culture is read after release
(USP <71>, Ph. Eur. 2.6.1, 2.6.27). When such a result, or any result recorded after release, is out
of specification, ``raise_for_result`` holds the lot in the result's own transaction, tells every QA
reviewer and investigator (``notices.inbox``), and from then on every bag of the lot not yet infused is
refused by name at allocation, dispatch and the bedside (``refusals``; the bedside reads the open hold
in its one statement). Only QA lifts a hold, with an e-signature and a reason (``lift``). The hold page
lists every subject already infused from the lot, whom the treating physician must follow up.

QA also places a hold by hand, with a reason and an e-signature, on a collection (the cord), a cell bank,
a lot, a bag or a material lot (``place``); it reaches everything derived from the held item (``holds_over``:
a bag is held if it, its lot, any bank its cells came through, its cord or a material lot used in any of
those lots, or in its placebo fill, is held), found at read time, so an item made after the hold is held too.
A recall is such a hold whose look-back (``recall.lookback``) is sent to QA and the investigators when it is
placed. docs/rules.md, "Quality: holds".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext
from sqlalchemy import and_, func, or_
from sqlmodel import Session, select

from cellchain.audit import signatures, trail
from cellchain.audit.models import Signature
from cellchain.banking.models import CellBank
from cellchain.core import db
from cellchain.core.errors import Invalid, NotFound, Reason, Refused
from cellchain.core.words import N_, numbers, translated
from cellchain.core.words.labels import label
from cellchain.core.words.sentences import Sentence
from cellchain.manufacturing.models import Bag, Collection, Lot
from cellchain.materials.models import MaterialLot, MaterialUse
from cellchain.notices import inbox
from cellchain.people.accounts import Policy
from cellchain.people.rules.roles import Actor, require_role
from cellchain.quality import lineage
from cellchain.quality.models import Hold, QcResult
from cellchain.quality.recall import items, lookback
from cellchain.quality.recall.items import ItemRef
from cellchain.quality.rules import holds as hold_rules

HOLD_NOT_OPEN = "hold_not_open"
HOLD_ALREADY_OPEN = "hold_already_open"
SIGNER_NOT_ACTOR = "signer_not_actor"
NOTIFIED_ROLES = ("qa", "investigator")
MAX_REASON = 2000


def descendants_of(session: Session, lot_id: int) -> list[int]:
    """The lots a hold on ``lot_id`` also covers, the lot itself first: a bank's lot holds every lot
    thawed from its vials, tier by tier (``lineage.descendants``)."""
    return lineage.descendants(session, lot_id)


def open_holds(session: Session, lot_ids: Sequence[int]) -> dict[int, Hold]:
    """Which of these lots are held, with the open hold of each: one statement for any number of lots."""
    if not lot_ids:
        return {}
    statement = select(Hold).where(Hold.lot_id.in_(list(set(lot_ids))), Hold.lifted_at.is_(None))
    return {row.lot_id: row for row in session.exec(statement)}


def _rank(hold: Hold, item: ItemRef) -> int:
    """Nearest first: a hold on the item itself, then on its own lot, then on a bank above or a material lot
    used, then the cord."""
    if (hold.item_kind, hold.item_id) == (item.kind, item.id):
        return 0
    if (hold.item_kind, hold.item_id) == ("lot", item.lot_id):
        return 1
    return 3 if hold.item_kind == "collection" else 2


def _materials_used(refs: Sequence[ItemRef], cords: Sequence[int]) -> Any:
    """The material lots used in any lot of these cords or in the placebo fill of one of these bags, as a
    subquery (``ix_material_uses_material_lot`` from the few open holds); None when there is nowhere to look."""
    placebo = sorted({r.id for r in refs if r.kind == "bag" and r.lot_id is None})
    parts = []
    if cords:
        parts.append(select(MaterialUse.material_lot_id).join(Lot, Lot.id == MaterialUse.lot_id)
                     .where(Lot.collection_id.in_(list(cords))))
    if placebo:
        parts.append(select(MaterialUse.material_lot_id)
                     .join(Bag, and_(Bag.din == MaterialUse.din, MaterialUse.lot_id.is_(None)))
                     .where(Bag.id.in_(placebo)))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else parts[0].union(parts[1])


def _candidates(session: Session, refs: Sequence[ItemRef]) -> list[Hold]:
    """Every open hold that could reach one of these items: on their cords, on one of them (a placebo bag has
    no cord), or on a material lot used in a lot of their cords or in their placebo fill. One indexed statement
    (``ix_holds_open_per_cord``, ``uq_holds_open_per_item``)."""
    cords = sorted({r.collection_id for r in refs if r.collection_id is not None})
    wanted = [Hold.collection_id.in_(cords)] if cords else []
    for kind in {r.kind for r in refs}:
        wanted.append(and_(Hold.item_kind == kind, Hold.item_id.in_(sorted({r.id for r in refs if r.kind == kind}))))
    used = _materials_used(refs, cords)
    if used is not None:
        wanted.append(and_(Hold.item_kind == "material_lot", Hold.item_id.in_(used)))
    if not wanted:
        return []
    return list(session.exec(select(Hold).where(Hold.lifted_at.is_(None), or_(*wanted)).order_by(Hold.id)))


def _ancestry(session: Session, ref: ItemRef, candidates: Sequence[Hold]) -> set[tuple[str, int]]:
    """What the item derives from, reading the material lots used only when a material lot hold is a candidate."""
    return items.ancestry(session, ref, materials=any(h.item_kind == "material_lot" for h in candidates))


def reaching(session: Session, refs: Sequence[ItemRef]) -> dict[tuple[str, int], tuple[Hold, str]]:
    """For each item an open hold reaches, the nearest such hold and the held item's code. One statement when
    no hold is open on their cords or on a material lot they used; otherwise one more per bank tier per lot."""
    candidates = _candidates(session, refs)
    if not candidates:
        return {}
    codes = items.codes_of(session, {(h.item_kind, h.item_id) for h in candidates})
    found: dict[tuple[str, int], tuple[Hold, str]] = {}
    known: dict[tuple[int | None, int | None], set[tuple[str, int]]] = {}
    for ref in refs:
        # items of one lot share their ancestry; a placebo bag's is its own (its fill's saline)
        key = (ref.lot_id, ref.id if ref.lot_id is None and ref.kind == "bag" else None)
        if key not in known:
            known[key] = _ancestry(session, ref, candidates) - {(ref.kind, ref.id)}
        reach = known[key] | {(ref.kind, ref.id)}
        hits = sorted((h for h in candidates if (h.item_kind, h.item_id) in reach), key=lambda h: (_rank(h, ref), h.id))
        if hits:
            found[ref.kind, ref.id] = (hits[0], codes[hits[0].item_kind, hits[0].item_id])
    return found


def holds_over(session: Session, item_kind: str, item_id: int) -> list[Hold]:
    """Every open hold that reaches the item through its genealogy, nearest first: a hold on the item, on
    anything it was derived from (its lot, the banks its cells came through and their lots), or its cord."""
    ref = items.by_id(session, item_kind, item_id)
    candidates = _candidates(session, [ref])
    if not candidates:
        return []
    reach = _ancestry(session, ref, candidates)
    return sorted((h for h in candidates if (h.item_kind, h.item_id) in reach), key=lambda h: (_rank(h, ref), h.id))


def nearest_over(session: Session, item_kind: str, item_id: int) -> tuple[Hold, str] | None:
    """The nearest open hold that reaches the item, with the held item's code (the bedside names both)."""
    ref = items.by_id(session, item_kind, item_id)
    return reaching(session, [ref]).get((ref.kind, ref.id))


def lot_ref(lot: Lot) -> ItemRef:
    """A lot as an item holds reach (its cord and itself), read from the row already loaded."""
    return ItemRef("lot", lot.id, lot.lot_number, lot.collection_id, lot.id)


def _bag_refs(session: Session, bags: Sequence[Bag]) -> list[ItemRef]:
    lot_ids = sorted({b.lot_id for b in bags if b.lot_id is not None})
    cords = dict(session.exec(select(Lot.id, Lot.collection_id).where(Lot.id.in_(lot_ids))).all()) if lot_ids else {}
    return [ItemRef("bag", b.id, b.bag_code, cords.get(b.lot_id), b.lot_id) for b in bags]


def refusals(session: Session, bags: Sequence[Bag]) -> list[Reason]:
    """A reason for every bag an open hold reaches, naming the hold and the held item (allocation and
    dispatch refuse with them): ``lot_on_hold`` when it is the bag's lot's, ``item_on_hold`` otherwise."""
    held = reaching(session, _bag_refs(session, bags))
    return [hold_rules.reaching(hold.item_kind, code, hold.id, hold.cause_text, "bag", b.bag_code)
            for b in bags if (found := held.get(("bag", b.id))) for hold, code in [found]]


def refuse_if_held(session: Session, bag: Bag) -> None:
    reasons = refusals(session, [bag])
    if reasons:
        raise Refused(reasons)


def item_refusals(session: Session, item_kind: str, item_id: int) -> list[Reason]:
    """Why an item a hold reaches may not go on (the fill of a held lot), naming the hold; [] when none does."""
    ref = items.by_id(session, item_kind, item_id)
    found = reaching(session, [ref]).get((ref.kind, ref.id))
    if found is None:
        return []
    hold, code = found
    return [hold_rules.reaching(hold.item_kind, code, hold.id, hold.cause_text, ref.kind, ref.code)]


def raise_for_result(session: Session, *, actor: Actor, lot: Lot, result: QcResult, test_name: str) -> list[Hold]:
    """Hold the lot (and every lot the seam says descends from it) for an out-of-specification result
    recorded after release; notify QA and the investigators in the same transaction."""
    cause = hold_rules.cause_of(result.id, test_name, result.value, result.limit_text)
    covered = descendants_of(session, lot.id)
    already = open_holds(session, covered)
    cords = dict(session.exec(select(Lot.id, Lot.collection_id).where(Lot.id.in_(covered))).all())
    raised = []
    for lot_id in covered:
        if lot_id in already:
            continue  # one open hold per lot: the earlier hold already stops its bags
        row = Hold(item_kind="lot", item_id=lot_id, collection_id=cords[lot_id], lot_id=lot_id,
                   qc_result_id=result.id, cause=cause.said[:MAX_CAUSE], cause_code=cause.code,
                   cause_values=dict(cause.values), raised_by=actor.id)
        session.add(row)
        session.flush()
        trail.record(session, actor=actor, record_type="hold", record_id=row.id, action="raise",
                     new={"lot_id": lot_id, "qc_result": result.id, "cause": row.cause, "cause_code": cause.code},
                     reason=row.cause)
        raised.append(row)
    numbers = dict(session.exec(select(Lot.id, Lot.lot_number).where(Lot.id.in_([r.lot_id for r in raised])))
                   .all()) if raised else {}
    for row in raised:
        number = numbers[row.lot_id]
        inbox.notify(session, roles=NOTIFIED_ROLES, kind=hold_rules.LOT_ON_HOLD,
                     subject=_lot_hold_subject(number, result.test_code),
                     body=_lot_hold_body(number, row.id, cause, None if row.lot_id == lot.id else lot.lot_number),
                     link=f"/qa/holds/{row.id}")
    return raised


def _lot_hold_subject(number: str, test_code: str) -> Callable[[], str]:
    return lambda: gettext("HOLD on released lot %(lot)s: %(test)s out of specification", lot=number, test=test_code)


def _lot_hold_body(number: str, hold_id: int, cause: Sentence, bank_lot: str | None) -> Callable[[], str]:
    """The notice of a lot held by a result, worded in its recipient's language (``inbox.notify``)."""
    def words() -> str:
        origin = "" if bank_lot is None else " " + gettext("Its cells come from the cell bank of lot %(lot)s.",
                                                           lot=bank_lot)
        return (gettext("Lot %(lot)s is on hold (hold %(hold)s). %(cause)s.", lot=number, hold=hold_id,
                        cause=cause.text)
                + origin + " " + gettext("Bags still in stock are refused at allocation, dispatch and the bedside. "
                                         "Subjects already infused from this lot are listed on the hold page for "
                                         "the treating physician."))
    return words


def content(hold: Hold) -> dict[str, Any]:
    """What the lifting signature signs: the hold as raised (a lot hold raised by a result signs as it always
    did, so earlier signatures still match)."""
    signed = {"hold": hold.id, "lot_id": hold.lot_id, "qc_result": hold.qc_result_id, "cause": hold.cause,
              "raised_at": hold.raised_at, "raised_by": hold.raised_by}
    if hold.item_kind != "lot" or hold.qc_result_id is None:
        signed |= {"item_kind": hold.item_kind, "item_id": hold.item_id, "recall": hold.recall}
    return signed


def _lock(session: Session, hold_id: int) -> Hold:
    statement = (select(Hold).where(Hold.id == hold_id).with_for_update()
                 .execution_options(populate_existing=True))
    row = session.exec(statement).first()
    if row is None:
        raise NotFound(f"no hold {hold_id}")
    return row


def lift(session: Session, *, actor: Actor, hold_id: int, signature: signatures.SignatureInput, reason: Any,
         policy: Policy) -> Hold:
    """QA lifts a hold with an e-signature (meaning ``approved``) and a reason; audited."""
    require_role(actor.roles, "qa", action=N_("lift a hold"))
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
        raise Invalid({"reason": translated(N_(
            "say why the hold is lifted (up to {max_reason} characters)")).format(
            max_reason=MAX_REASON)})
    if signature.meaning != "approved":
        raise Invalid({"signature.meaning": translated(N_("here the meaning must be approved"))})
    row = _lock(session, hold_id)
    if row.lifted_at is not None:
        raise Refused(Reason(HOLD_NOT_OPEN, hold_id=hold_id))
    if signature.username != actor.username:
        raise Refused(Reason(SIGNER_NOT_ACTOR))
    signed = signatures.sign(session, signature, record_type="hold", record_id=row.id, content=content(row),
                             policy=policy, meanings=("approved",), roles=("qa",), action=N_("lift a hold"))
    row.lifted_at, row.lifted_by = signed.signed_at, actor.id
    row.lift_signature_id, row.lift_reason = signed.id, reason.strip()
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type="hold", record_id=row.id, action="lift",
                 old={"lifted_at": None}, new={"lifted_at": row.lifted_at, "signature_id": signed.id},
                 reason=row.lift_reason)
    return row


# --- placing by hand, and recalls ----------------------------------------------------------------------

MAX_CAUSE = 300
PLACE_MEANINGS = ("approved",)


def placed_content(row: Hold, code: str) -> dict[str, Any]:
    """What the placing signature signs: the held item, the reason and whether it is a recall."""
    return {"hold": row.id, "item_kind": row.item_kind, "item_id": row.item_id, "item_code": code,
            "cause": row.cause, "recall": row.recall}


def place(session: Session, *, actor: Actor, item_kind: Any, item_code: Any, reason: Any, recall: Any = False,
          signature: signatures.SignatureInput | None = None, policy: Policy | None = None) -> Hold:
    """Hold a collection, bank, lot or bag named by its code (a cord's DIN, a bank code, a lot number, a bag
    id): the page's and the API's entry. See ``place_hold``."""
    ref = items.by_code(session, item_kind, item_code)
    return _place(session, actor=actor, ref=ref, reason=reason, recall=recall, signature=signature, policy=policy)


def open_hold_on(session: Session, item_kind: str, item_id: int) -> Hold | None:
    """The open hold placed on this very item, if any (at most one: ``uq_holds_open_per_item``)."""
    return session.exec(select(Hold).where(Hold.item_kind == item_kind, Hold.item_id == item_id,
                                           Hold.lifted_at.is_(None))).first()


def place_hold(session: Session, item_kind: str, item_id: int, reason: str | Sentence, actor: Actor,
               signature: signatures.SignatureInput | None = None, recall: bool = False,
               policy: Policy | None = None) -> Hold:
    """Hold the item ``item_kind`` with row id ``item_id`` and everything derived from it; audited, and told
    to QA and the investigators in this transaction (a recall sends its look-back).

    With a ``signature``, it is QA placing the hold by hand: QA's own e-signature, meaning ``approved``.
    Without one, a rule of the software places it in the transaction of the record that called for it (as a
    result after release holds its lot; a donor's late positive result holds the cord), in the name of the
    person who recorded that record, with its cause as a ``Sentence`` (read in each reader's language).
    Refused (``hold_already_open``) when the item already has an open hold."""
    return _place(session, actor=actor, ref=items.by_id(session, item_kind, item_id), reason=reason, recall=recall,
                  signature=signature, policy=policy)


def _place(session: Session, *, actor: Actor, ref: ItemRef, reason: Any, recall: Any,
           signature: signatures.SignatureInput | None, policy: Policy | None) -> Hold:
    if signature is not None:
        require_role(actor.roles, "qa", action=N_("place a hold"))
    written = reason if isinstance(reason, Sentence) else None
    if written is not None:
        reason = written.said[:MAX_CAUSE]
    problems = {}
    if not isinstance(reason, str) or not reason.strip() or len(reason.strip()) > MAX_CAUSE:
        problems["reason"] = translated(N_(
            "say why the item is held (up to {max_cause} characters)")).format(
            max_cause=MAX_CAUSE)
    if not isinstance(recall, bool):
        problems["recall"] = translated(N_("true or false"))
    if signature is not None and signature.meaning not in PLACE_MEANINGS:
        problems["signature.meaning"] = translated(N_("here the meaning must be approved"))
    if problems:
        raise Invalid(problems)
    if signature is not None and signature.username != actor.username:
        raise Refused(Reason(SIGNER_NOT_ACTOR))
    already = open_hold_on(session, ref.kind, ref.id)
    if already is not None:
        raise Refused(Reason(HOLD_ALREADY_OPEN, item=hold_rules.item_words(ref.kind, ref.code), hold_id=already.id))
    row = Hold(item_kind=ref.kind, item_id=ref.id, collection_id=ref.collection_id,
               lot_id=ref.id if ref.kind == "lot" else None, cause=reason.strip(), recall=recall, raised_by=actor.id,
               cause_code=written.code if written else None, cause_values=dict(written.values) if written else None)
    session.add(row)
    session.flush()
    if signature is not None:
        signed = signatures.sign(session, signature, record_type="hold", record_id=row.id,
                                 content=placed_content(row, ref.code), policy=policy, meanings=PLACE_MEANINGS,
                                 roles=("qa",), action=N_("place a hold"))
        row.raise_signature_id, row.raised_at = signed.id, signed.signed_at
        session.add(row)
        session.flush()
    trail.record(session, actor=actor, record_type="hold", record_id=row.id, action="recall" if recall else "raise",
                 new={"item_kind": ref.kind, "item": ref.code, "recall": recall, "cause": row.cause,
                      "cause_code": row.cause_code, "raise_signature_id": row.raise_signature_id}, reason=row.cause)
    _tell(session, row, ref)
    return row


def _tell(session: Session, row: Hold, ref: ItemRef) -> None:
    """QA and the investigators, at once: the hold, and for a recall its look-back (every derived item and
    every subject infused from any of it, with the dates), linked to the look-back's page."""
    link = f"/lookback/{ref.kind}/{ref.code}" if row.recall else f"/qa/holds/{row.id}"
    found = lookback.of_item(session, ref) if row.recall else None

    def held() -> str:  # "cord A9999...", as hold_rules.item_words names it, in the reader's language
        return f"{label(ref.kind)} {ref.code}"

    def body() -> str:
        item = held()
        words = gettext("%(item)s is on hold (hold %(id)s): %(cause)s. Everything derived from it is refused at "
                        "allocation, dispatch, fill and the bedside until QA lifts the hold.",
                        item=item[:1].upper() + item[1:], id=row.id, cause=row.cause_text)
        if found is None:
            return words
        lines = [gettext("  %(subject)s (week %(week)s): bag %(bag)s, infused %(when)s UTC", subject=r.subject_code,
                         week=r.week, bag=r.bag_code, when=f"{r.started_at:%Y-%m-%d %H:%M}") for r in found.subjects]
        # each kind's plural ("1 lots" as the look-back's summary has always written it)
        counts = gettext(", ").join(translated(numbers.COUNTED[kind][1]).format(n=found.count(kind))
                                    for kind in ("lot", "bank", "vial", "bag"))
        return (words + "\n\n"
                + gettext("RECALL look-back: %(counts)s derived from it; %(n)s subjects infused", counts=counts,
                          n=len(found.subjects))
                + (gettext(":") + "\n" + "\n".join(lines) if lines else gettext("."))
                + "\n" + gettext("The treating physicians must be told. The full look-back (page, PDF, CSV) is "
                                  "linked."))

    def subject() -> str:
        if row.recall:
            return gettext("RECALL of %(item)s: %(cause)s", item=held(), cause=row.cause_text)
        return gettext("HOLD of %(item)s: %(cause)s", item=held(), cause=row.cause_text)

    inbox.notify(session, roles=NOTIFIED_ROLES, kind="recall" if row.recall else hold_rules.ITEM_ON_HOLD,
                 subject=subject, body=body, link=link)


# --- reading ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class InfusedSubject:
    """A subject already infused from what the hold reaches: whom the treating physician must follow up."""

    subject_code: str
    week: int
    bag_code: str
    started_at: datetime


@dataclass(frozen=True)
class HoldDetail:
    hold: Hold
    item: ItemRef
    lot: Lot | None  # a lot hold's lot
    result: QcResult | None  # the result after release that raised it, if one did
    infused: list[InfusedSubject]
    in_stock: list[lookback.DerivedItem]  # the bags it reaches not infused
    signature: Signature | None  # the lifting signature
    placed_signature: Signature | None

    @property
    def open(self) -> bool:
        return self.hold.lifted_at is None

    @property
    def lot_number(self) -> str | None:
        return self.lot.lot_number if self.lot is not None else None

    @property
    def item_words(self) -> str:
        return hold_rules.item_words(self.item.kind, self.item.code)


def detail(session: Session, hold_id: int) -> HoldDetail:
    row = session.get(Hold, hold_id)
    if row is None:
        raise NotFound(f"no hold {hold_id}")
    ref = items.by_id(session, row.item_kind, row.item_id)
    back = lookback.of_item(session, ref)
    infused = [InfusedSubject(r.subject_code, r.week, r.bag_code, r.started_at) for r in back.subjects]
    signature = session.get(Signature, row.lift_signature_id) if row.lift_signature_id else None
    placed = session.get(Signature, row.raise_signature_id) if row.raise_signature_id else None
    return HoldDetail(row, ref, session.get(Lot, row.lot_id) if row.lot_id else None,
                      session.get(QcResult, row.qc_result_id) if row.qc_result_id else None, infused,
                      back.bags_not_infused, signature, placed)


def listing(session: Session, *, open_only: bool = False, lot_id: int | None = None) -> list[tuple[Hold, str]]:
    """Holds, newest first, each with its held item's code."""
    statement = _holds(open_only, lot_id).order_by(Hold.id.desc())
    return [(hold, code) for hold, code in session.exec(statement).all()]


def page_of(session: Session, page: db.PageRequest, *, open_only: bool = False) -> db.Page:
    """One page of the holds, newest first (keyset on the id), each with its held item's code."""
    return db.keyset(session, _holds(open_only, None), (Hold.id,), page, descending=True)


def open_on(session: Session, item_kind: str, item_id: int) -> Hold | None:
    """The open hold placed on this very item, if any (its page offers to lift it, or to place one)."""
    return session.exec(select(Hold).where(Hold.item_kind == item_kind, Hold.item_id == item_id,
                                           Hold.lifted_at.is_(None))).first()


def _holds(open_only: bool, lot_id: int | None) -> Any:
    code = func.coalesce(Lot.lot_number, CellBank.bank_code, Bag.bag_code, Collection.din,
                         MaterialLot.code).label("code")
    statement = (select(Hold, code)
                 .outerjoin(Lot, and_(Hold.item_kind == "lot", Lot.id == Hold.item_id))
                 .outerjoin(CellBank, and_(Hold.item_kind == "bank", CellBank.id == Hold.item_id))
                 .outerjoin(Bag, and_(Hold.item_kind == "bag", Bag.id == Hold.item_id))
                 .outerjoin(Collection, and_(Hold.item_kind == "collection", Collection.id == Hold.item_id))
                 .outerjoin(MaterialLot, and_(Hold.item_kind == "material_lot", MaterialLot.id == Hold.item_id)))
    if open_only:
        statement = statement.where(Hold.lifted_at.is_(None))
    if lot_id is not None:
        statement = statement.where(Hold.lot_id == lot_id)
    return statement
