"""Migration 0019_row_change_log adds the row-change log to an existing database without logging or changing
its rows; from then on a change typed with the database login is logged, and a downgrade takes the log and
its triggers away again. The migrated schema is the models' schema."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

import cellchain.tables as tables
from cellchain.core import migrate


def test_an_existing_database_gets_the_log_and_only_later_outside_changes_are_in_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    migrate.upgrade(url, "0016_adverse_events")
    engine = create_engine(url)  # a plain login: none of the application's marks
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO users (id, username, full_name, password_hash, active, failed_logins, "
                                "auth_version, created_at) VALUES (1, 'old.qa', 'Old QA', 'x', 1, 0, 1, "
                                "'2026-11-01 08:00:00')"))
    migrate.upgrade(url)
    with engine.begin() as connection:
        assert connection.execute(text("SELECT count(*) FROM row_changes")).scalar_one() == 0
        assert connection.execute(text("SELECT full_name FROM users WHERE id = 1")).scalar_one() == "Old QA"
        connection.execute(text("UPDATE users SET full_name = 'Someone Else' WHERE id = 1"))
        logged = connection.execute(text("SELECT table_name, row_key, operation FROM row_changes")).all()
        assert [tuple(row) for row in logged] == [("users", "1", "UPDATE")]
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                       tables.metadata)
    assert differences == []
    engine.dispose()
    command.downgrade(migrate.alembic_config(url), "0016_adverse_events")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE users SET full_name = 'Old QA' WHERE id = 1"))  # no trigger left to fire
        names = connection.execute(text("SELECT name FROM sqlite_master WHERE name LIKE '%row_change%'")).all()
    assert names == []
    engine.dispose()
