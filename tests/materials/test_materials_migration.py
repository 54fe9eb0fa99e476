"""Migration 0027_materials carries an existing database forward: bags filled before it keep their typed
anticoagulant and saline lot numbers (no material lot is invented for them), the new tables have their
row-change triggers and the uses are append-only; the migrated schema is the models' schema."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

import cellchain.tables as tables
from cellchain.core import migrate
from tests.factories import old_databases

INSERTS = (
    "INSERT INTO users (id, username, full_name, password_hash, active, failed_logins, auth_version, created_at) "
    "VALUES (1, 'lab', 'Lab', 'x', true, 0, 1, '2026-11-01 08:00:00')",
    "INSERT INTO bags (id, bag_code, din, product_code, collection_type, division, kind, saline_lot, volume_ml, "
    "filled_at, expires_at, quality_status, preservation, created_by, created_at) VALUES (1, "
    "'A999926000009-D0002VA0', 'A999926000009', 'D0002', 'V', 'A0', 'placebo', 'NS2611B', 50.0, "
    "'2026-11-01 08:00:00', '2027-01-01 08:00:00', 'released', 'fresh', 1, '2026-11-01 08:00:00')",
)


def test_bags_keep_their_typed_lot_numbers_and_the_materials_tables_match_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = old_databases.at_revision(url, "0024_user_language", INSERTS)
    migrate.upgrade(url)
    with engine.begin() as connection:
        assert connection.execute(text("SELECT saline_lot FROM bags WHERE id = 1")).scalar_one() == "NS2611B"
        assert connection.execute(text("SELECT count(*) FROM material_lots")).scalar_one() == 0
        triggers = {row[0] for row in connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))}
        assert {"material_lots_row_change_update", "materials_row_change_insert", "material_uses_no_update"} <= triggers
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                       tables.metadata)
    assert differences == []
    with engine.begin() as connection:  # a change typed beside the application is logged
        connection.execute(text("INSERT INTO materials (name, supplier, catalogue_number, kind, storage, "
                                "human_animal_origin, created_by, created_at) VALUES ('M', 'S', 'C', 'medium', "
                                "'2-8 C', false, 1, '2026-11-02 08:00:00')"))
        logged = connection.execute(text("SELECT table_name, operation FROM row_changes "
                                         "WHERE table_name LIKE 'material%'")).all()
        assert [tuple(r) for r in logged] == [("materials", "INSERT")]
    engine.dispose()


def test_a_use_once_written_is_never_changed(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.sqlite'}"
    migrate.upgrade(url)
    engine = old_databases.at_revision(url, "head", (INSERTS[0],
        "INSERT INTO materials (id, name, supplier, catalogue_number, kind, storage, human_animal_origin, created_by, "
        "created_at) VALUES (1, 'Saline', 'S', 'C', 'saline', 'room', false, 1, '2026-11-01 08:00:00')",
        "INSERT INTO material_lots (id, code, material_id, supplier_lot, expires_on, quantity_received, quantity_left, "
        "unit, status, received_by, received_at) VALUES (1, 'ML-000001', 1, 'NS-1', '2030-01-01', 10, 10, 'ml', "
        "'released', 1, '2026-11-01 08:00:00')",
        "INSERT INTO material_uses (material_lot_id, din, role, quantity, unit, status_at_use, used_at, recorded_by, "
        "recorded_at) VALUES (1, 'A999926000009', 'saline', 5, 'ml', 'released', '2026-11-01 08:00:00', 1, "
        "'2026-11-01 08:00:00')"))
    with pytest.raises(DatabaseError), engine.begin() as connection:
        connection.execute(text("UPDATE material_uses SET quantity = 1"))
    engine.dispose()
