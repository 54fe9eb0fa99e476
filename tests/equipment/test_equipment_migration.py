"""Migration 0028_equipment carries an existing database forward: each storage unit becomes an instrument of the
registry, the new tables are watched by the row-change log, and the migrated schema is the models' schema."""

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
    "INSERT INTO storage_units (id, code, name, kind, low_c, high_c, created_by, created_at) VALUES "
    "(1, 'LN2-01', 'Cell bank LN2 tank', 'ln2_vapour', -196, -150, 1, '2026-11-01 08:00:00')",
)


def test_storage_units_become_instruments_and_the_schema_matches_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = old_databases.at_revision(url, "0024_user_language", INSERTS)
    migrate.upgrade(url)
    with engine.begin() as connection:
        rows = connection.execute(text("SELECT code, name, kind, status, storage_unit_id, calibration_due "
                                       "FROM instruments")).all()
        assert [tuple(r) for r in rows] == [("LN2-01", "Cell bank LN2 tank", "storage_unit", "in_service", 1, None)]
        connection.execute(text("UPDATE instruments SET place = 'Cryostore' WHERE code = 'LN2-01'"))
        logged = connection.execute(text("SELECT table_name, operation FROM row_changes "
                                         "WHERE table_name = 'instruments'")).all()
        assert [tuple(r) for r in logged] == [("instruments", "UPDATE")]
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                       tables.metadata)
    assert differences == []
    engine.dispose()
