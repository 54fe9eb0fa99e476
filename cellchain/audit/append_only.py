"""Database triggers that make a table append-only (21 CFR 11.10(e); docs/rules.md, "Audit trail").

The application never updates or deletes these rows; the triggers make the database refuse it too, so
a hand-typed SQL statement or a bug cannot rewrite history. Used by the migrations.
"""

from __future__ import annotations

MESSAGE = "is append-only: corrections are new records"


def create_sql(dialect: str, table: str) -> list[str]:
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} {MESSAGE}'); END",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} {MESSAGE}'); END",
        ]
    if dialect == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION cellchain_append_only() RETURNS trigger AS $$ BEGIN "
            f"RAISE EXCEPTION '% {MESSAGE}', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation'; "
            "END $$ LANGUAGE plpgsql",
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION cellchain_append_only()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION cellchain_append_only()",
        ]
    raise NotImplementedError(f"append-only triggers for {dialect}")


def drop_sql(dialect: str, table: str) -> list[str]:
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_no_update", f"DROP TRIGGER IF EXISTS {table}_no_delete"]
    return [f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}"]
