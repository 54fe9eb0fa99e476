"""Migration 0012_list_indexes counts the audit entries already written per record type, the database
counts each new one as it is written, and the migrated schema is the models' schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

import cellchain.tables as tables
from cellchain.audit import keyring
from cellchain.audit.rules.hash_chain import entry_hash
from cellchain.core import migrate


def counts(connection) -> dict[str, int]:
    return dict(connection.execute(text("SELECT record_type, entries FROM audit_type_counts")).all())


def grouped(connection) -> dict[str, int]:
    return dict(connection.execute(text("SELECT record_type, COUNT(*) FROM audit_entries GROUP BY record_type")).all())


def write_raw(connection, entries: list[tuple[str, str]]) -> None:
    """Entries as the schema of 0010/0012 holds them (no seal yet): the chain's next links, by plain SQL."""
    seq, prev = connection.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).one()
    for record_type, record_id in entries:
        seq += 1
        entry = {"seq": seq, "recorded_at": f"2026-10-01T08:00:{seq:02d}.000000Z", "actor": "system",
                 "record_type": record_type, "record_id": record_id, "action": "noted", "old_values": None,
                 "new_values": None, "reason": None, "prev_hash": prev}
        entry["hash"] = prev = entry_hash(**entry)
        connection.execute(text("INSERT INTO audit_entries (seq, recorded_at, actor, record_type, record_id, action, "
                                "old_values, new_values, reason, prev_hash, hash) VALUES (:seq, :recorded_at, :actor, "
                                ":record_type, :record_id, :action, :old_values, :new_values, :reason, :prev_hash, "
                                ":hash)"), entry)


def test_entries_written_before_and_after_the_upgrade_are_counted_per_record_type(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    migrate.upgrade(url, "0010_partial_infusion")
    engine = create_engine(url)
    with engine.begin() as connection:
        write_raw(connection, [("lot", "L0"), ("lot", "L1"), ("lot", "L2"), ("bag", "B1")])
    migrate.upgrade(url, "0012_list_indexes")
    with engine.begin() as connection:
        assert counts(connection) == {"lot": 3, "bag": 1}
        write_raw(connection, [("bag", "B2"), ("deviation", "D1")])
        assert counts(connection) == grouped(connection) == {"lot": 3, "bag": 2, "deviation": 1}
    engine.dispose()
    ring = tmp_path / "keys.json"
    keyring.ensure(ring)
    migrate.upgrade(url, audit_keyring=str(ring))
    plain = create_engine(url)
    with plain.begin() as connection:
        assert counts(connection) == grouped(connection)  # the newest migrations' own entries are counted too
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                       tables.metadata)
    assert differences == []
    plain.dispose()
