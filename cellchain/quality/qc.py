"""QC results: recorded by a QC analyst, judged by the software, never overwritten.

The lot's own specification version judges each result (``spec_limits.judge``). A repeat
test is a new row pointing at the result it repeats, with a mandatory reason; the newest result of a
test is the one that counts. An out-of-specification result opens a deviation in the same
transaction, so no OOS can be stored without one. Every result says where and when its sample was
taken (``sample_stage``, ``sampled_at``). A rejected lot takes no more results; a released lot still
takes them (the sterility culture read after release, Ph. Eur. 2.6.27), each marked ``after_release``,
and one out of specification holds the lot in the same transaction (``holds.raise_for_result``).
Stored results never change (docs/rules.md, "Quality: QC results").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_
from sqlmodel import Session, select

from cellchain.audit import trail
from cellchain.banking.models import Vial
from cellchain.core.errors import Invalid, Reason, Refused
from cellchain.core.timeinput import check_stated_times, parse_instant
from cellchain.core.types import utcnow
from cellchain.core.words import N_, translated
from cellchain.manufacturing.lot_access import lock_lot
from cellchain.manufacturing.models import Collection, Lot
from cellchain.people.rules.roles import Actor, require_role
from cellchain.quality import deviations, holds, specifications
from cellchain.quality.models import QcResult
from cellchain.quality.rules import spec_limits

TESTABLE_STATUSES = ("in_process", "awaiting_release")
DECIDED_STATUSES = ("released", "rejected")
# A released lot still takes results: the tests read after release, and any result that comes late.
RESULT_STATUSES = (*TESTABLE_STATUSES, "released")
LOT_DECIDED = "lot_decided"
LOT_NOT_TESTABLE = "lot_not_testable"
QC_RESULT_EXISTS = "qc_result_exists"
QC_REPEAT_NOT_LATEST = "qc_repeat_not_latest"
MAX_REASON = 2000


@dataclass(frozen=True)
class ResultInput:
    """What a QC analyst enters: the API's ``{test, value, sample_stage, sampled_at, tested_at?, repeat_of?,
    reason?}``."""

    test: str
    value: Any
    sample_stage: str = "final_product"
    sampled_at: datetime | None = None
    tested_at: datetime | None = None
    repeat_of: int | None = None
    reason: str | None = None


def _optional_text(value: Any, name: str, fields: dict[str, str]) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) > MAX_REASON:
        fields[name] = translated(N_("text of up to {max_reason} characters")).format(max_reason=MAX_REASON)
        return None
    return value.strip() or None


def _repeat_of(value: Any, fields: dict[str, str]) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    fields["repeat_of"] = translated(N_("the id of the result this one repeats"))
    return None


def parse_result(data: Mapping[str, Any]) -> ResultInput:
    """Read a result from JSON or a form, naming every malformed field at once."""
    fields: dict[str, str] = {}
    test = data.get("test")
    if not isinstance(test, str) or not test.strip():
        fields["test"] = translated(N_("the test code, e.g. viability or sterility"))
    value = data.get("value")
    if isinstance(value, bool) or not isinstance(value, str | int | float) or value == "":
        fields["value"] = translated(N_("the result: a number, or a word such as negative or normal"))
    stage = data.get("sample_stage")
    if not isinstance(stage, str) or stage.strip().lower() not in spec_limits.SAMPLE_STAGES:
        fields["sample_stage"] = translated(N_(
            "where the sample was taken: one of {choices}")).format(choices=', '.join(spec_limits.SAMPLE_STAGES))
    sampled_at = None
    if data.get("sampled_at") in (None, ""):
        fields["sampled_at"] = translated(N_("when the sample was taken (site time)"))
    else:
        try:
            sampled_at = parse_instant(data["sampled_at"], "sampled_at")
        except Invalid as refusal:
            fields.update(refusal.fields)
    tested_at = None
    if data.get("tested_at") not in (None, ""):
        try:
            tested_at = parse_instant(data["tested_at"], "tested_at")
        except Invalid as refusal:
            fields.update(refusal.fields)
    repeat_of = _repeat_of(data.get("repeat_of"), fields)
    reason = _optional_text(data.get("reason"), "reason", fields)
    if fields:
        raise Invalid(fields)
    return ResultInput(test=test.strip().lower(), value=value, sample_stage=stage.strip().lower(),
                       sampled_at=sampled_at, tested_at=tested_at, repeat_of=repeat_of, reason=reason)


def guard_accepts_results(lot: Lot) -> None:
    """Results while the lot is being made, awaits release, or is released (tests read after release);
    a rejected lot takes none."""
    if lot.status == "rejected":
        raise Refused(Reason(LOT_DECIDED, variant="results", lot_number=lot.lot_number, status=lot.status))
    if lot.status not in RESULT_STATUSES:
        raise Refused(Reason(LOT_NOT_TESTABLE, lot_number=lot.lot_number, status=lot.status))


def results_of(session: Session, lot: Lot, test_code: str | None = None) -> list[QcResult]:
    statement = select(QcResult).where(QcResult.lot_id == lot.id)
    if test_code is not None:
        statement = statement.where(QcResult.test_code == test_code)
    return list(session.exec(statement.order_by(QcResult.id)))


def latest_by_test(results: list[QcResult]) -> dict[str, QcResult]:
    """The result that counts per test: the newest one recorded (repeats supersede, never overwrite)."""
    latest: dict[str, QcResult] = {}
    for row in sorted(results, key=lambda r: r.id):
        latest[row.test_code] = row
    return latest


def _repeated(session: Session, lot: Lot, entry: ResultInput) -> QcResult | None:
    """The result this entry repeats, or None for a first result; refuses a second first result."""
    earlier = results_of(session, lot, entry.test)
    latest = earlier[-1] if earlier else None
    if entry.repeat_of is None:
        if latest is not None:
            raise Refused(Reason(QC_RESULT_EXISTS, test=entry.test, id=latest.id, value=latest.value))
        return None
    if not entry.reason:
        raise Invalid({"reason": translated(N_("a repeat test needs the reason it was repeated"))})
    repeated = next((row for row in earlier if row.id == entry.repeat_of), None)
    if repeated is None:
        raise Invalid({"repeat_of": translated(N_(
            "result {repeat_of} is not a {test} result of lot {lot_number}")).format(
            repeat_of=entry.repeat_of, test=entry.test, lot_number=lot.lot_number)})
    if repeated.id != latest.id:
        raise Refused(Reason(QC_REPEAT_NOT_LATEST, id=repeated.id, test=entry.test, id2=latest.id))
    return repeated


def _value_text(value: float | str) -> str:
    return f"{value:.10g}" if isinstance(value, float) else value


def record_result(session: Session, *, actor: Actor, lot_number: str, entry: ResultInput,
                  tz: ZoneInfo | None = None) -> QcResult:
    """Record and judge one result; an out-of-specification result opens a deviation (kind ``oos``)."""
    require_role(actor.roles, "qc", action=N_("record a QC result"))
    lot = lock_lot(session, lot_number)
    guard_accepts_results(lot)
    spec_test = specifications.for_lot(session, lot).find(entry.test)
    judgement = spec_limits.judge(spec_test, entry.value)
    _check_times(session, lot, entry)
    repeated = _repeated(session, lot, entry)
    after_release = lot.status == "released"
    row = QcResult(lot_id=lot.id, test_code=spec_test.code, value=_value_text(judgement.normalized_value),
                   within_spec=judgement.within_spec, limit_text=spec_test.limit.describe(spec_test.unit),
                   unit=spec_test.unit, method=spec_test.method, spec_version=lot.spec_version,
                   tested_at=entry.tested_at, recorded_by=actor.id,
                   repeat_of_id=repeated.id if repeated else None, reason=entry.reason,
                   sample_stage=entry.sample_stage, sampled_at=entry.sampled_at or utcnow(),
                   after_release=after_release)
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type="qc_result", record_id=row.id,
                 action="repeat" if repeated else "create", reason=entry.reason,
                 new={"lot": lot.lot_number, "test": row.test_code, "value": row.value, "within_spec": row.within_spec,
                      "limit": row.limit_text, "spec_version": row.spec_version, "tested_at": row.tested_at,
                      "repeat_of": row.repeat_of_id, "sample_stage": row.sample_stage, "sampled_at": row.sampled_at,
                      "after_release": row.after_release})
    if not row.within_spec:
        deviations.open_for_result(session, actor=actor, lot=lot, result=row, test_name=spec_test.name, tz=tz)
        if after_release:
            holds.raise_for_result(session, actor=actor, lot=lot, result=row, test_name=spec_test.name)
    return row


def lot_began_at(session: Session, lot: Lot) -> datetime:
    """When the lot's cells began: the thaw of the vial it was started from, else its cord's collection.
    No sample of the lot can be older."""
    if lot.source_vial_id is not None:
        vial = session.get(Vial, lot.source_vial_id)
        if vial is not None and vial.thawed_at is not None:
            return vial.thawed_at
    return session.get(Collection, lot.collection_id).collected_at


def _check_times(session: Session, lot: Lot, entry: ResultInput) -> None:
    """The stated-times rule: no sample before the lot began, no test before its sample, neither in the future."""
    check_stated_times({"sampled_at": entry.sampled_at, "tested_at": entry.tested_at}, now=utcnow(),
                       not_before=[("sampled_at", lot_began_at(session, lot), N_("the lot began")),
                                   ("tested_at", entry.sampled_at, N_("its sample was taken"))])


@dataclass(frozen=True)
class LotResult:
    """A result as the API answers it: with its lot's number, whether it is the one that counts for its
    test, and the deviation it opened (None when within specification)."""

    result: QcResult
    lot_number: str
    counts: bool
    deviation: str | None


def lot_results(session: Session, lot: Lot) -> list[LotResult]:
    """Every result of the lot, oldest first; the deviations they opened are read in one query."""
    rows = results_of(session, lot)
    latest = {row.id for row in latest_by_test(rows).values()}
    opened = deviations.numbers_by_result(session, [row.id for row in rows])
    return [LotResult(row, lot.lot_number, row.id in latest, opened.get(row.id)) for row in rows]


@dataclass
class QcLine:
    """One test of the lot's specification with its results: what the QC and QA tables show."""

    test: spec_limits.SpecTest
    results: list[QcResult] = field(default_factory=list)

    @property
    def latest(self) -> QcResult | None:
        return self.results[-1] if self.results else None

    @property
    def repeats(self) -> int:
        return max(len(self.results) - 1, 0)

    @property
    def limit(self) -> str:
        return self.test.limit.describe(self.test.unit)


def table(session: Session, lot: Lot) -> list[QcLine]:
    """Every test of the lot's specification, in the specification's order, with its results oldest first."""
    spec = specifications.for_lot(session, lot)
    lines = {t.code: QcLine(t) for t in spec.tests}
    for row in results_of(session, lot):
        if row.test_code in lines:
            lines[row.test_code].results.append(row)
    return list(lines.values())


def missing_tests(session: Session, lot: Lot) -> list[str]:
    """Codes of required tests that have no result yet (the QC work list)."""
    return [line.test.code for line in table(session, lot) if line.test.required and line.latest is None]


# A released lot stays on the work list this long for its tests read after release: a compendial
# sterility culture is read at 14 days (USP <71>, Ph. Eur. 2.6.1), so 30 days leaves room for a repeat
# while the list does not grow with every lot ever released. A later result can still be recorded.
AFTER_RELEASE_WORK_DAYS = 30


def testable_lots(session: Session) -> list[Lot]:
    """Lots being made or awaiting release, and lots released within ``AFTER_RELEASE_WORK_DAYS``."""
    recent = utcnow() - timedelta(days=AFTER_RELEASE_WORK_DAYS)
    statement = select(Lot).where(or_(Lot.status.in_(TESTABLE_STATUSES),
                                      and_(Lot.status == "released", Lot.decided_at >= recent)))
    return list(session.exec(statement.order_by(Lot.created_at, Lot.id)))


def work_list(session: Session) -> list[tuple[Lot, list[str]]]:
    """Lots that take results now, each with the required tests still without a result; a released lot
    is listed while a test read after release (the sterility culture) still has none."""
    lots = testable_lots(session)
    if not lots:
        return []
    # Three statements for the whole list, whatever its length: the lots, their specifications, and which
    # tests of theirs have any result (a test's latest result exists exactly when it has one).
    specs = specifications.for_lots(session, lots)
    resulted = set(session.exec(select(QcResult.lot_id, QcResult.test_code)
                                .where(QcResult.lot_id.in_([lot.id for lot in lots])).distinct()).all())
    work = [(lot, [t.code for t in specs[lot.spec_version].tests if t.required and (lot.id, t.code) not in resulted])
            for lot in lots]
    return [(lot, missing) for lot, missing in work if lot.status != "released" or missing]


def open_lines(session: Session, lot: Lot) -> list[QcLine]:
    """The tests of the lot's specification with no result yet, in the specification's order: the rows of
    the whole-lot form (a test with a result takes a repeat on the single-result form, with its reason)."""
    return [line for line in table(session, lot) if line.latest is None]


def rows_by_test(items: Any) -> dict[str, Mapping[str, Any]]:
    """The API's ``results`` list as ``record_results`` takes it (by test code), naming a malformed item or a
    test given twice as ``results[i]``."""
    if not isinstance(items, list) or not items:
        raise Invalid({"results": translated(N_("a list of results, one per test: {{test, value, sample_stage, "
                                                "sampled_at, tested_at?}}")).format()})
    rows: dict[str, Mapping[str, Any]] = {}
    fields = {}
    for index, item in enumerate(items):
        test = item.get("test") if isinstance(item, Mapping) else None
        if not isinstance(test, str) or not test.strip():
            fields[f"results[{index}]"] = translated(N_("an object naming its test"))
        elif test.strip().lower() in rows:
            fields[f"results[{index}]"] = translated(N_("{test} is given twice")).format(test=test)
        else:
            rows[test.strip().lower()] = {name: value for name, value in item.items() if name != "test"}
    if fields:
        raise Invalid(fields)
    return rows


def record_results(session: Session, *, actor: Actor, lot_number: str, rows: Mapping[str, Mapping[str, Any]],
                   tz: ZoneInfo | None = None) -> list[QcResult]:
    """Several first results of one lot in one transaction: each row is read and judged before any is written,
    every bad row is named at once as ``<test>.<field>``, and then each goes through ``record_result`` (its
    audit entry, deviation and hold), so the whole-lot form has no rules of its own."""
    require_role(actor.roles, "qc", action=N_("record QC results"))
    lot = lock_lot(session, lot_number)
    guard_accepts_results(lot)
    spec = specifications.for_lot(session, lot)
    open_codes = {line.test.code for line in open_lines(session, lot)}
    fields: dict[str, str] = {}
    entries = []
    for test, data in rows.items():
        try:
            entry = parse_result({**data, "test": test})
            if entry.test not in open_codes:
                spec.find(entry.test)  # an unknown test is named as such
                fields[f"{test}.test"] = translated(N_(
                    "{test} already has a result; a repeat is recorded on its own, with a reason")).format(test=test)
                continue
            spec_limits.judge(spec.find(entry.test), entry.value)
            _check_times(session, lot, entry)
            if entry.repeat_of is not None:
                fields[f"{test}.repeat_of"] = translated(N_("the whole-lot form records first results only"))
                continue
            entries.append(entry)
        except Invalid as refusal:
            fields.update({f"{test}.{name}": message for name, message in refusal.fields.items()})
    if not rows:
        fields["results"] = translated(N_("enter at least one result"))
    if fields:
        raise Invalid(fields)
    return [record_result(session, actor=actor, lot_number=lot_number, entry=entry, tz=tz) for entry in entries]
