"""Migration 0010_partial_infusion carries an existing database forward: failed logins already counted keep
counting toward their address (with no account name), infusions keep no partial reason, and the migrated
schema is the models' schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

import cellchain.tables as tables
from cellchain.core import migrate


def test_failed_logins_counted_before_the_upgrade_still_count_for_their_address(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    migrate.upgrade(url, "0008_bag_dosing")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO login_attempts (id, address, attempted_at) "
                                "VALUES (1, '203.0.113.9', '2026-11-01 08:00:00')"))
    migrate.upgrade(url)
    with engine.begin() as connection:
        assert tuple(connection.execute(text("SELECT address, account FROM login_attempts")).one()) == (
            "203.0.113.9", "")
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                       tables.metadata)
    assert differences == []
    engine.dispose()
