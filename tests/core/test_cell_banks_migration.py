"""Migration 0006_cell_banks carries an existing database forward: each lot gets its cord's DIN and stays a
dosing lot from P0, a cord may then have more than one lot, and the migrated schema is the models' schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

import cellchain.tables as tables
from cellchain.core import migrate
from tests.factories import old_databases

INSERTS = (
    "INSERT INTO users (id, username, full_name, password_hash, active, failed_logins, auth_version, created_at) "
    "VALUES (1, 'lab', 'Lab', 'x', true, 0, 1, '2026-11-01 08:00:00')",
    "INSERT INTO collections (id, din, donor_code, collected_at, site, consent_obtained, screening, "
    "medical_history_ok, eligibility, eligibility_reasons, created_by, created_at) VALUES (1, 'A999926000007', "
    "'D-7', '2026-11-01 08:00:00', 'ward', true, '{}', true, 'eligible', '[]', 1, '2026-11-01 08:00:00')",
    "INSERT INTO lots (id, lot_number, collection_id, status, spec_version, created_by, created_at) "
    "VALUES (1, 'A999926000007', 1, 'released', 'UCMSC-1', 1, '2026-11-01 09:00:00')",
)


def test_lots_made_before_banking_become_dosing_lots_of_their_cord_and_the_schema_matches_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = old_databases.at_revision(url, "0004", INSERTS)
    migrate.upgrade(url)
    with engine.begin() as connection:
        row = connection.execute(text("SELECT din, purpose, first_passage, starting_doublings, source_vial_id "
                                      "FROM lots WHERE id = 1")).one()
        assert tuple(row) == ("A999926000007", "dosing", 0, 0.0, None)
        connection.execute(text(
            "INSERT INTO lots (id, lot_number, collection_id, din, purpose, first_passage, starting_doublings, "
            "status, spec_version, created_by, created_at) VALUES (2, 'A999926000007-L01', 1, 'A999926000007', "
            "'dosing', 3, 6.0, 'in_process', 'UCMSC-1', 1, '2026-11-20 09:00:00')"))
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                       tables.metadata)
    assert differences == []
    engine.dispose()
