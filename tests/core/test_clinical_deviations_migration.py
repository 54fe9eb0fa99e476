"""Migration 0023_clinical_deviations carries an existing database forward: the register starts empty beside
what was there, and the migrated schema is the models' schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

import cellchain.tables as tables
from cellchain.core import migrate


def test_an_existing_database_gets_an_empty_register_of_the_models_shape(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    migrate.upgrade(url, "0016_adverse_events")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO login_attempts (id, address, account, attempted_at) "
                                "VALUES (1, '203.0.113.9', 'nurse', '2026-11-01 08:00:00')"))
    migrate.upgrade(url)
    with engine.begin() as connection:
        assert connection.execute(text("SELECT count(*) FROM clinical_deviations")).scalar_one() == 0
        assert connection.execute(text("SELECT account FROM login_attempts")).scalar_one() == "nurse"
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                       tables.metadata)
    assert differences == []
    engine.dispose()
