"""Every reason a lot cannot be released now: the one computation behind the QA queue, the dashboards,
the lot's review page and the release itself.

The rows of all the lots asked about are read together, one statement per table, so a queue of many
lots costs the same handful of statements as one lot, and judged by the pure rules
(``quality.rules.spec_limits.release_gaps``, ``manufacturing.rules.batch_record.completeness``).
Nothing here writes. The rule and its sources: docs/rules.md, "Quality: release".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import and_, or_
from sqlmodel import Session, select

from cellchain.core.errors import NotFound, Reason
from cellchain.equipment import usage
from cellchain.manufacturing import batch
from cellchain.manufacturing.models import Bag, BatchStep, BatchStepVerification, Collection, LabelPrint, Lot, Passage
from cellchain.manufacturing.rules import batch_record
from cellchain.manufacturing.rules.batch_record import DEFAULT_STEPS, StepDef
from cellchain.manufacturing.rules.corrections import effective
from cellchain.materials import usage as materials
from cellchain.people.rules.roles import Actor
from cellchain.quality import deviations, holds, lineage, qc, specifications
from cellchain.quality.models import Deviation, Hold, QcResult, Specification
from cellchain.quality.rules import holds as hold_rules
from cellchain.quality.rules import spec_limits
from cellchain.ward.models import Excursion

LOT_NOT_FILLED = "lot_not_filled"
LOT_DECIDED = qc.LOT_DECIDED
DEVIATION_OPEN = "deviation_open"
BATCH_RECORD_INCOMPLETE = "batch_record_incomplete"
DONOR_NOT_ELIGIBLE = "donor_not_eligible"
DONOR_DETERMINATION_PENDING = "donor_determination_pending"
EXCURSION_OPEN = "excursion_open"
REVIEWER_MADE_LOT = "reviewer_made_lot"
REVIEWER_TESTED_LOT = "reviewer_tested_lot"
SOURCE_BANK_NOT_RELEASED = "source_bank_not_released"
LOT_ON_HOLD = "lot_on_hold"
LABELS_UNACCOUNTED = "lot_labels_unaccounted"
INSTRUMENT_UNFIT = "instrument_unfit_when_used"


def _grouped(rows: Iterable, key: str) -> dict[int, list]:
    groups: dict[int, list] = defaultdict(list)
    for row in rows:
        groups[getattr(row, key)].append(row)
    return groups


def of_lots(session: Session, model: type, lot_ids: list[int]) -> dict[int, list]:
    """Every row of ``model`` belonging to the lots, in one statement, grouped by lot and in id order."""
    rows = session.exec(select(model).where(model.lot_id.in_(lot_ids)).order_by(model.id))
    return _grouped(rows, "lot_id")


def specifications_of(session: Session, lots: Sequence[Lot]) -> dict[str, spec_limits.Specification]:
    """The specification each lot is judged by, as ``specifications.for_lot`` reads it, in one statement."""
    versions = {lot.spec_version for lot in lots}
    found = {row.version: specifications.definition(row)
             for row in session.exec(select(Specification).where(Specification.version.in_(versions)))}
    for version in versions - found.keys():
        if version not in spec_limits.BUILT_IN_VERSIONS:
            raise NotFound(f"specification {version} is not stored")
        found[version] = spec_limits.BUILT_IN_VERSIONS[version]
    return found


@dataclass
class _LotRecords:
    """What release reads about a set of lots, loaded in a fixed number of statements."""

    collections: dict[int, Collection]
    specs: dict[str, spec_limits.Specification]
    results: dict[int, list[QcResult]]
    deviations: dict[int, list[Deviation]]
    passages: dict[int, list[Passage]]
    steps: dict[int, list[BatchStep]]
    verifiers: dict[int, int]  # step id -> who verified it
    bags: dict[int, list[Bag]]
    excursions: dict[tuple[str, int], list[Excursion]] = field(default_factory=dict)
    sources: dict[int, lineage.Source] = field(default_factory=dict)  # lot id -> the bank it was thawed from
    holds: dict[int, Hold] = field(default_factory=dict)  # lot id -> its open hold (the lot's or its bank's)
    # lot id -> the nearest open hold reaching it from further up (its cord, a bank above) and the held code
    reached: dict[int, tuple[Hold, str]] = field(default_factory=dict)
    labels: dict[int, list[LabelPrint]] = field(default_factory=dict)  # lot id -> every label printed for it
    unfit: dict[int, list[usage.Used]] = field(default_factory=dict)  # step id -> instruments unfit when used
    thaw_unfit: dict[int, list[usage.Used]] = field(default_factory=dict)  # lot id -> its vial's thaw's, unfit


def _lot_records(session: Session, lots: Sequence[Lot]) -> _LotRecords:
    ids = [lot.id for lot in lots]
    cords = {c.id: c for c in session.exec(select(Collection).where(
        Collection.id.in_([lot.collection_id for lot in lots])))}
    steps = of_lots(session, BatchStep, ids)
    step_ids = [s.id for rows in steps.values() for s in rows]
    checks = select(BatchStepVerification.step_id, BatchStepVerification.verified_by)
    verifiers = dict(session.exec(checks.where(BatchStepVerification.step_id.in_(step_ids))).all())
    lot_bags = of_lots(session, Bag, ids)
    records = _LotRecords(cords, specifications_of(session, lots), of_lots(session, QcResult, ids),
                          of_lots(session, Deviation, ids), of_lots(session, Passage, ids), steps, verifiers,
                          lot_bags)
    bag_ids = [b.id for rows in lot_bags.values() for b in rows]
    statement = select(Excursion).where(Excursion.status == "open", or_(
        and_(Excursion.item_type == "collection", Excursion.item_id.in_(list(cords))),
        and_(Excursion.item_type == "bag", Excursion.item_id.in_(bag_ids)))).order_by(Excursion.id)
    for row in session.exec(statement):
        records.excursions.setdefault((row.item_type, row.item_id), []).append(row)
    records.sources = lineage.sources_of(session, ids)
    records.holds = holds.open_holds(session, [*ids, *(s.bank_lot.id for s in records.sources.values())])
    refs = [holds.lot_ref(lot) for lot in lots]
    records.reached = {lot_id: found for (_kind, lot_id), found in holds.reaching(session, refs).items()}
    records.labels = batch.labels_of_lots(session, ids)
    for used in usage.unfit_uses(session, [s.id for rows in steps.values() for s in effective(rows)]):
        records.unfit.setdefault(used.step_id, []).append(used)
    thawed = {lot.source_vial_id: lot.id for lot in lots if lot.source_vial_id is not None}
    for vial_id, used in usage.uses_by_vial(session, thawed).items():
        records.thaw_unfit[thawed[vial_id]] = [u for u in used if not u.fit]
    return records


def _label_gaps(lot: Lot, rec: _LotRecords) -> list[Reason]:
    """Every label printed for the lot is applied (scanned on its container), voided or destroyed before
    release (FACT-JACIE label reconciliation; docs/rules.md, "Quality: release")."""
    open_keys = [row.item_key for row in rec.labels.get(lot.id, []) if row.status == "printed"]
    if not open_keys:
        return []
    shown = ", ".join(open_keys[:5]) + (f" (+{len(open_keys) - 5})" if len(open_keys) > 5 else "")
    return [Reason(LABELS_UNACCOUNTED, lot_number=lot.lot_number, count=len(open_keys), item_keys=shown)]


def _lineage_gaps(lot: Lot, rec: _LotRecords) -> list[Reason]:
    """A lot thawed from a bank vial is released only while its bank stays released and not on hold; a lot
    on hold is not released (ICH Q5D: the bank's results are the lot's; docs/rules.md "Quality: holds")."""
    gaps = []
    hold = rec.holds.get(lot.id)
    if hold is not None:
        gaps.append(Reason(LOT_ON_HOLD, variant="release", lot_number=lot.lot_number, id=hold.id,
                           cause=hold.cause_text))
    source = rec.sources.get(lot.id)
    if source is None:
        return gaps
    if source.bank_lot.status != "released":
        gaps.append(Reason(SOURCE_BANK_NOT_RELEASED, variant="lot", bank_code=source.bank.bank_code,
                                  lot_number=source.bank_lot.lot_number, status=source.bank_lot.status))
    bank_hold = rec.holds.get(source.bank_lot.id)
    if bank_hold is not None and hold is None:
        gaps.append(Reason(LOT_ON_HOLD, variant="bank", bank_code=source.bank.bank_code, id=bank_hold.id,
                           cause=bank_hold.cause_text))
    return gaps


def _reached_gap(lot: Lot, rec: _LotRecords) -> list[Reason]:
    """A hold placed further up (the donor's cord, a cell bank above) reaches the lot: it is not released
    while that hold is open (docs/rules.md, "Quality: holds"). A hold on the lot or its bank's lot is said
    once, by ``_lineage_gaps``."""
    found = rec.reached.get(lot.id)
    if found is None:
        return []
    hold, code = found
    source = rec.sources.get(lot.id)
    if hold.lot_id is not None and hold.lot_id in (lot.id, source.bank_lot.id if source else None):
        return []
    return [hold_rules.reaching(hold.item_kind, code, hold.id, hold.cause_text, "lot", lot.lot_number)]


def _record_gaps(lot: Lot, rec: _LotRecords, steps: Sequence[StepDef]) -> list[Reason]:
    """Required tests without a result or out of specification without an accepted deviation, deviations
    not closed, and batch-record steps missing or unverified."""
    latest = qc.latest_by_test(rec.results.get(lot.id, []))
    lot_deviations = rec.deviations.get(lot.id, [])
    gaps = spec_limits.release_gaps(rec.specs[lot.spec_version], {c: r.within_spec for c, r in latest.items()},
                                   deviations.accepted_test_codes(lot_deviations))
    gaps += [Reason(DEVIATION_OPEN, number=d.number, kind=d.kind, status=d.status)
             for d in lot_deviations if d.status != "closed"]
    done = {s.step_key: (True, s.id in rec.verifiers) for s in effective(rec.steps.get(lot.id, []))}
    numbers = [p.number for p in effective(rec.passages.get(lot.id, []))]
    lot_steps = batch_record.steps_for(steps, purpose=lot.purpose, from_vial=lot.source_vial_id is not None)
    gaps += [Reason(BATCH_RECORD_INCOMPLETE, gap=gap.message)
             for gap in batch_record.completeness(lot_steps, done, numbers)]
    # An instrument found unfit after the step (taken out of service from an earlier time, a calibration
    # that found it out of tolerance) makes the step's result doubtful (docs/rules.md, "Equipment").
    gaps += [Reason(INSTRUMENT_UNFIT, step=s.step_key, instrument=u.instrument.code, name=u.instrument.name,
                    why="; ".join(p.message for p in u.problems))
             for s in effective(rec.steps.get(lot.id, [])) for u in rec.unfit.get(s.id, [])]
    gaps += [Reason(INSTRUMENT_UNFIT, step="thaw", instrument=u.instrument.code, name=u.instrument.name,
                    why="; ".join(p.message for p in u.problems)) for u in rec.thaw_unfit.get(lot.id, [])]
    return gaps


def _donor_custody_and_people_gaps(lot: Lot, rec: _LotRecords, reviewer: Actor | None) -> list[Reason]:
    """Donor eligibility, open excursions, and (for a reviewer) maker and tester are not releaser."""
    collection = rec.collections[lot.collection_id]
    gaps = []
    if collection.eligibility == "pending":
        # The cord's results are still coming or await the investigator's signed determination.
        gaps.append(Reason(DONOR_DETERMINATION_PENDING, din=collection.din))
    elif collection.eligibility != "eligible":
        gaps.append(Reason(DONOR_NOT_ELIGIBLE, din=collection.din, eligibility=collection.eligibility))
    lot_bags = rec.bags.get(lot.id, [])
    items = [("collection", collection.id), *(("bag", b.id) for b in lot_bags)]
    gaps += [Reason(EXCURSION_OPEN, id=e.id, item_type=e.item_type, temperature_c=e.temperature_c)
             for item in items for e in rec.excursions.get(item, [])]
    if reviewer is None:
        return gaps
    steps = rec.steps.get(lot.id, [])
    makers = {lot.created_by, *(p.recorded_by for p in rec.passages.get(lot.id, [])),
              *(s.performed_by for s in steps), *(rec.verifiers[s.id] for s in steps if s.id in rec.verifiers),
              *(b.created_by for b in lot_bags)}
    if reviewer.id in makers:
        gaps.append(Reason(REVIEWER_MADE_LOT, full_name=reviewer.full_name, lot_number=lot.lot_number))
    if reviewer.id in {r.recorded_by for r in rec.results.get(lot.id, [])}:
        gaps.append(Reason(REVIEWER_TESTED_LOT, full_name=reviewer.full_name, lot_number=lot.lot_number))
    return gaps


def status_gaps(lot: Lot) -> list[Reason]:
    """A lot is released once, and only after its bags are filled."""
    if lot.status in qc.DECIDED_STATUSES:
        return [Reason(LOT_DECIDED, lot_number=lot.lot_number, status=lot.status)]
    if lot.status != "awaiting_release":
        return [Reason(LOT_NOT_FILLED, lot_number=lot.lot_number, status=lot.status)]
    return []


def gaps_of(session: Session, lots: Sequence[Lot], reviewer: Actor | None = None,
            steps: Sequence[StepDef] = DEFAULT_STEPS) -> dict[int, list[Reason]]:
    """Every reason each lot cannot be released now (by ``reviewer``, when given), by lot id; ``[]`` when it can.

    ``steps`` is the site's batch-record checklist (``BATCH_RECORD_STEPS``; the SOP's by default). Every
    failing element is named, not only the first, so QA sees the whole list of what is missing.
    """
    if not lots:
        return {}
    rec = _lot_records(session, lots)
    # a material lot not valid when it was used, or rejected or held since (docs/rules.md, "Materials")
    used = materials.release_gaps(session, lots, {s.id: s.step_key for rows in rec.steps.values() for s in rows})
    return {lot.id: status_gaps(lot) + _record_gaps(lot, rec, steps) + _lineage_gaps(lot, rec) + _reached_gap(lot, rec)
                    + used.get(lot.id, []) + _label_gaps(lot, rec) + _donor_custody_and_people_gaps(lot, rec, reviewer)
                    for lot in lots}


def pending_after_release(session: Session, lot: Lot) -> list[spec_limits.SpecTest]:
    """The lot's tests read after release that have no result yet (listed on the review page and the
    certificate as "pending after release"; they never block release)."""
    spec = specifications_of(session, [lot])[lot.spec_version]
    latest = qc.latest_by_test(qc.results_of(session, lot))
    return spec_limits.pending_after_release(spec, {c: r.within_spec for c, r in latest.items()})


def of_lot(session: Session, lot: Lot, reviewer: Actor | None = None,
           steps: Sequence[StepDef] = DEFAULT_STEPS) -> list[Reason]:
    """Every reason this one lot cannot be released now (by ``reviewer``, when given)."""
    return gaps_of(session, [lot], reviewer, steps)[lot.id]
