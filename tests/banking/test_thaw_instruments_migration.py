"""Migration 0031_thaw_instruments carries an existing database forward: a vial thawed before it keeps its
thaw with no instruments, the new table is watched by the row-change log, and the migrated schema is the
models' schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

import cellchain.tables as tables
from cellchain.core import migrate
from tests.factories import old_databases

INSERTS = (
    "INSERT INTO users (id, username, full_name, password_hash, active, failed_logins, auth_version, created_at, "
    "language) VALUES (1, 'lab', 'Lab', 'x', true, 0, 1, '2026-11-01 08:00:00', NULL)",
    "INSERT INTO instruments (id, code, name, kind, place, status, created_by, created_at) VALUES "
    "(1, 'WB-01', 'Water bath 1', 'other', 'GMP lab', 'in_service', 1, '2026-11-01 08:00:00')",
)


def test_the_thaw_instruments_table_is_added_watched_and_matches_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = old_databases.at_revision(url, "0027_materials", INSERTS)
    migrate.upgrade(url)
    with engine.begin() as connection:
        assert connection.execute(text("SELECT count(*) FROM thaw_instrument_uses")).scalar() == 0
        connection.execute(text("UPDATE instruments SET place = 'Cleanroom B' WHERE code = 'WB-01'"))
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                       tables.metadata)
    assert differences == []
    engine.dispose()
