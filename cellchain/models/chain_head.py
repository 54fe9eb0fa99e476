"""The database keeps the audit chain's head itself (migration 0003).

A trigger on ``audit_entries`` refuses an entry that does not extend the recorded head (the next
number, linked to the head's hash) and moves the head in the same statement. So an entry written by
hand, or by a bug, cannot fork or skip the chain, and the application's append is one INSERT after
reading the locked head, not an INSERT and an UPDATE (issue 9: the bedside check writes one entry
per scan). A BEFORE trigger on both databases: it runs per row, at once, also within a multi-row insert.
"""

from __future__ import annotations


def create_sql(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [
            "CREATE TRIGGER audit_entries_extend_head BEFORE INSERT ON audit_entries BEGIN "
            "SELECT RAISE(ABORT, 'an audit entry must extend the chain head (next seq, previous hash)') "
            "WHERE NOT EXISTS (SELECT 1 FROM audit_head WHERE id = 1 AND seq = NEW.seq - 1 AND hash = NEW.prev_hash); "
            "UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1; END",
        ]
    if dialect == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION cellchain_audit_extend_head() RETURNS trigger AS $$ BEGIN "
            "UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash "
            "WHERE id = 1 AND seq = NEW.seq - 1 AND hash = NEW.prev_hash; "
            "IF NOT FOUND THEN RAISE EXCEPTION 'an audit entry must extend the chain head (next seq, previous hash)' "
            "USING ERRCODE = 'integrity_constraint_violation'; "
            "END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER audit_entries_extend_head BEFORE INSERT ON audit_entries "
            "FOR EACH ROW EXECUTE FUNCTION cellchain_audit_extend_head()",
        ]
    raise NotImplementedError(f"the chain-head trigger for {dialect}")


def drop_sql(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return ["DROP TRIGGER IF EXISTS audit_entries_extend_head"]
    return ["DROP TRIGGER IF EXISTS audit_entries_extend_head ON audit_entries",
            "DROP FUNCTION IF EXISTS cellchain_audit_extend_head()"]
