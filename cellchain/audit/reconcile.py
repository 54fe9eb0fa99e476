"""Reconciliation: every regulated row holds the values its audit entries last recorded for it.

The hash chain proves the trail was not rewritten; it says nothing of a row changed beside it (an UPDATE
typed with the database login, a restore of one table). Here each regulated table (``rules/regulated.py``)
is read in key order, a batch of rows at a time, with the entries of that batch's records (the
``record_type, record_id`` index), oldest first; each field's value in the newest entry that names it is
what the row must hold. A difference names the table, the row's key, the column, the value the trail
holds (and its entry) and the value the row holds. docs/security.md, "Reconciliation and the row-change
log".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, select
from sqlmodel import Session, SQLModel

from cellchain.audit.models import AuditEntry
from cellchain.audit.rules.regulated import REGULATED, Regulated
from cellchain.core.canonical import canonical_json

BATCH = 1000  # rows per statement: the entries of 1,000 records come back in one indexed statement
MAX_DIFFERENCES = 200
_MISSING = object()


@dataclass(frozen=True)
class Difference:
    table: str
    key: str
    field: str  # the row's column
    trail_value: Any
    current_value: Any
    seq: int  # the entry that last recorded the field

    def as_dict(self) -> dict[str, Any]:
        return {"table": self.table, "key": self.key, "field": self.field, "trail_value": self.trail_value,
                "current_value": self.current_value, "seq": self.seq}

    @property
    def trail_text(self) -> str:
        return _text(self.trail_value)

    @property
    def current_text(self) -> str:
        return _text(self.current_value)

    def describe(self) -> str:
        return f"{self.table} {self.key}: {self.field} is {self.current_text}, the trail says {self.trail_text} " \
               f"(entry {self.seq})"


@dataclass
class Reconciliation:
    rows: int = 0  # regulated rows read
    fields: int = 0  # (row, column) pairs the trail records and that were compared
    differences: list[Difference] = field(default_factory=list)
    difference_count: int = 0

    @property
    def ok(self) -> bool:
        return self.difference_count == 0

    def add(self, difference: Difference) -> None:
        self.difference_count += 1
        if len(self.differences) < MAX_DIFFERENCES:
            self.differences.append(difference)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "rows": self.rows, "fields": self.fields, "difference_count": self.difference_count,
                "differences": [d.as_dict() for d in self.differences]}


def _text(value: Any) -> str:
    return "empty" if value is None else canonical_json(value)


_AS_STORED = (str, int, float, bool, type(None))  # canonical JSON reads these back as they are


def plain(value: Any) -> Any:
    """A value as an audit entry stores it (canonical JSON read back): times as UTC text, dates ISO."""
    if type(value) in _AS_STORED:
        return value
    return json.loads(canonical_json(value))


def same(recorded: Any, current: Any) -> bool:
    if recorded == current:
        return True
    numbers = (int, float)
    if (isinstance(recorded, numbers) and isinstance(current, numbers) and not isinstance(recorded, bool)
            and not isinstance(current, bool)):
        return abs(float(recorded) - float(current)) <= 1e-9 * max(1.0, abs(float(recorded)))
    return False


def _table(name: str) -> Table:
    # The models' own table (their column types read times as aware datetimes, JSON as values); the audit
    # area imports no other area's models, and every model is in the one metadata once the app is made.
    return SQLModel.metadata.tables[name]


def _check_table(session: Session, regulated: Regulated, report: Reconciliation, batch: int) -> None:
    table = _table(regulated.table)
    key = table.c[regulated.key]
    columns = [table.c[name] for name in regulated.columns()]
    connection = session.connection()
    after = None
    while True:
        statement = select(key, *columns).order_by(key).limit(batch)
        if after is not None:
            statement = statement.where(key > after)
        rows = connection.execute(statement).all()
        if not rows:
            return
        after = rows[-1][0]
        report.rows += len(rows)
        current = {str(row[0]): row for row in rows}
        entries = connection.execute(
            select(AuditEntry.seq, AuditEntry.record_id, AuditEntry.new_values)
            .where(AuditEntry.record_type == regulated.record_type, AuditEntry.record_id.in_(list(current)),
                   AuditEntry.new_values.is_not(None))
            .order_by(AuditEntry.seq))
        recorded: dict[str, dict[str, tuple[Any, int]]] = {}
        for seq, record_id, stored in entries:
            values = json.loads(stored)
            if not isinstance(values, dict):
                continue
            mine = recorded.setdefault(record_id, {})
            for name, value in values.items():
                column = regulated.fields.get(name)
                if column is not None:
                    mine[column] = (value, seq)
        position = {name: i + 1 for i, name in enumerate(regulated.columns())}
        for record_id, last in recorded.items():
            row = current[record_id]
            for column, (value, seq) in last.items():
                report.fields += 1
                now = plain(row[position[column]])
                if not same(value, now):
                    report.add(Difference(regulated.table, record_id, column, value, now, seq))
        if len(rows) < batch:
            return


def reconcile(session: Session, *, batch: int = BATCH) -> Reconciliation:
    """Compare every regulated row's recorded columns with the trail's newest values for them."""
    report = Reconciliation()
    for regulated in REGULATED:
        if regulated.fields:
            _check_table(session, regulated, report, batch)
    return report
