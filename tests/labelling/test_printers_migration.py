"""Migration 0026_printers carries an existing database forward: its labels stay as they were, the printer
registry and the print jobs start empty, and the migrated schema is the models' schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

import cellchain.tables as tables
from cellchain.core import migrate
from tests.factories import old_databases

INSERTS = (
    "INSERT INTO users (id, username, full_name, password_hash, active, failed_logins, auth_version, created_at, "
    "email, language) VALUES (1, 'lab', 'Lab', 'x', true, 0, 1, '2026-11-01 08:00:00', 'lab@hospital.example', "
    "NULL)",
)


def test_an_existing_database_gains_an_empty_printer_registry_and_the_models_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = old_databases.at_revision(url, "0024_user_language", INSERTS)
    migrate.upgrade(url)
    with engine.begin() as connection:
        assert connection.execute(text("SELECT username FROM users")).scalar_one() == "lab"
        assert connection.execute(text("SELECT count(*) FROM printers")).scalar_one() == 0
        assert connection.execute(text("SELECT count(*) FROM print_jobs")).scalar_one() == 0
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                       tables.metadata)
    assert differences == []
    engine.dispose()
