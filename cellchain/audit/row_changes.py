"""The row-change log: the database itself notes each row of a regulated table that is inserted, updated or
deleted by anyone but the application (docs/security.md, "Reconciliation and the row-change log").

AFTER triggers on every table of ``rules/regulated.py`` append to ``row_changes`` (migration 0019): the
table, the row's key (the one audit entries name), the operation, the database's UTC time, and on
PostgreSQL the database login and transaction id. The application's own connections are marked
(``core/db.py``: a TEMP trigger on SQLite, the ``cellchain.app`` setting on PostgreSQL) and their writes
are left out: each of them is in the audit trail already. So an UPDATE typed in ``psql`` or ``sqlite3``
is seen at once, before anyone runs the verifier, and the application's writes pay nothing for it.
The log is append-only (the same triggers as the trail's).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, insert
from sqlmodel import Session, select

from cellchain.audit import append_only, trail
from cellchain.audit.models import RowChange, RowChangeReview
from cellchain.audit.rules.regulated import REGULATED, Regulated
from cellchain.core.db import PG_APP_SETTING
from cellchain.core.errors import Invalid, Reason, Refused
from cellchain.core.types import utcnow
from cellchain.core.words import N_, translated
from cellchain.people.rules.roles import Actor, require_role

NOTHING_TO_REVIEW = "no_outside_changes_to_review"
MAX_NOTE = 2000

TABLE = "row_changes"
_SQLITE_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
_PG_NOW = """to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
_OPERATIONS = (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD"))


# Table and column names below come from the constant list in rules/regulated.py, never from input.
def _sqlite_triggers(regulated: Regulated) -> list[str]:
    table, key = regulated.table, regulated.key
    return [f"CREATE TRIGGER {table}_row_change_{operation.lower()} AFTER {operation} ON {table} BEGIN "  # noqa: S608  # nosec B608
            f"INSERT INTO {TABLE} (table_name, row_key, operation, changed_at) "
            f"VALUES ('{table}', CAST({row}.{key} AS TEXT), '{operation}', {_SQLITE_NOW}); END"
            for operation, row in _OPERATIONS]


_PG_FUNCTION = " ".join((
    "CREATE OR REPLACE FUNCTION cellchain_row_change() RETURNS trigger AS $$ DECLARE k text; BEGIN "
    "IF coalesce(current_setting(", f"'{PG_APP_SETTING}'", ", true), '') <> '' THEN RETURN NULL; END IF;",
    "IF TG_LEVEL = 'STATEMENT' THEN k := NULL;",
    "ELSIF TG_OP = 'DELETE' THEN k := to_jsonb(OLD) ->> TG_ARGV[0];",
    "ELSE k := to_jsonb(NEW) ->> TG_ARGV[0]; END IF;",
    "INSERT INTO", TABLE, "(table_name, row_key, operation, changed_at, db_user, db_txn)",
    "VALUES (TG_TABLE_NAME, k, TG_OP,", _PG_NOW, ", current_user, txid_current()::text);",
    "RETURN NULL; END $$ LANGUAGE plpgsql",
))


def _pg_triggers(regulated: Regulated) -> list[str]:
    table, key = regulated.table, regulated.key
    return [f"CREATE TRIGGER {table}_row_change AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION cellchain_row_change('{key}')",
            f"CREATE TRIGGER {table}_row_change_truncate AFTER TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION cellchain_row_change('{key}')"]


def create_sql(dialect: str, tables: Collection[str] | None = None) -> list[str]:
    """The log's own append-only guard and the triggers on every regulated table (of ``tables`` when given:
    the migration that made the log names the tables that existed then; a later one adds its own)."""
    statements = append_only.create_sql(dialect, TABLE)
    watched = [r for r in REGULATED if tables is None or r.table in tables]
    if dialect == "sqlite":
        return statements + [s for r in watched for s in _sqlite_triggers(r)]
    if dialect == "postgresql":
        return statements + [_PG_FUNCTION] + [s for r in watched for s in _pg_triggers(r)]
    raise NotImplementedError(f"the row-change log's triggers for {dialect}")


def table_sql(dialect: str, table: str) -> list[str]:
    """The row-change triggers of one regulated table, for the migration that creates it."""
    regulated = next(r for r in REGULATED if r.table == table)
    if dialect == "sqlite":
        return _sqlite_triggers(regulated)
    if dialect == "postgresql":
        return _pg_triggers(regulated)
    raise NotImplementedError(f"the row-change log's triggers for {dialect}")


def drop_table_sql(dialect: str, table: str) -> list[str]:
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_row_change_{operation.lower()}" for operation, _ in _OPERATIONS]
    return [f"DROP TRIGGER IF EXISTS {table}_row_change{tail} ON {table}" for tail in ("", "_truncate")]


def drop_sql(dialect: str) -> list[str]:
    if dialect == "sqlite":
        statements = [f"DROP TRIGGER IF EXISTS {r.table}_row_change_{operation.lower()}"
                      for r in REGULATED for operation, _ in _OPERATIONS]
    else:
        statements = [f"DROP TRIGGER IF EXISTS {r.table}_row_change{tail} ON {r.table}"
                      for r in REGULATED for tail in ("", "_truncate")]
        statements.append("DROP FUNCTION IF EXISTS cellchain_row_change()")
    return statements + append_only.drop_sql(dialect, TABLE)


def _waiting():
    reviewed = select(RowChangeReview.row_change_id).where(RowChangeReview.row_change_id == RowChange.id)
    return select(RowChange).where(~reviewed.exists())


def newest(session: Session, *, limit: int = 50, waiting_only: bool = True) -> list[RowChange]:
    """The newest changes made outside the application, newest first: by default those QA has not reviewed."""
    statement = _waiting() if waiting_only else select(RowChange)
    return list(session.exec(statement.order_by(RowChange.id.desc()).limit(limit)))


def count(session: Session, *, waiting_only: bool = False) -> int:
    statement = _waiting() if waiting_only else select(RowChange)
    return session.exec(select(func.count()).select_from(statement.subquery())).one()


def review(session: Session, *, actor: Actor, through: int, note: str, now: datetime | None = None) -> int:
    """QA reviews every outside change not yet reviewed up to number ``through`` (what the page showed),
    saying what was found; one audit entry names them. Returns how many were reviewed."""
    require_role(actor.roles, "qa", action=N_("review changes made outside the application"))
    if not isinstance(note, str) or not note.strip() or len(note) > MAX_NOTE:
        raise Invalid({"note": translated(N_(
            "say what the changes were and what was done (up to {max_note} characters)")).format(max_note=MAX_NOTE)})
    if isinstance(through, bool) or not isinstance(through, int) or through < 1:
        raise Invalid({"through": translated(N_("the newest change reviewed, by its number"))})
    changes = list(session.exec(_waiting().where(RowChange.id <= through).order_by(RowChange.id)))
    if not changes:
        raise Refused(Reason(NOTHING_TO_REVIEW, through=through))
    at = now or utcnow()
    session.connection().execute(insert(RowChangeReview.__table__), [
        {"row_change_id": c.id, "reviewed_by": actor.id, "reviewed_at": at, "note": note.strip()} for c in changes])
    trail.record(session, actor=actor, record_type="row_changes", record_id=through, action="review",
                 new={"changes": [[c.id, c.table_name, c.row_key, c.operation] for c in changes],
                      "note": note.strip()}, at=at)
    return len(changes)
