"""Migration 0015_separated_duties adds the role grants and leaves existing accounts and their roles as they
were; the migrated schema is the models' schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

import cellchain.tables as tables
from cellchain.core import migrate


def test_accounts_keep_their_roles_and_role_grants_start_empty(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    migrate.upgrade(url, "0010_partial_infusion")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO users (id, username, full_name, password_hash, active, failed_logins, "
                                "auth_version, created_at) VALUES (1, 'old.qa', 'Old QA', 'x', 1, 0, 1, "
                                "'2026-11-01 08:00:00')"))
        connection.execute(text("INSERT INTO user_roles (id, user_id, role) VALUES (1, 1, 'qa')"))
    migrate.upgrade(url)
    with engine.begin() as connection:
        assert connection.execute(text("SELECT role FROM user_roles WHERE user_id = 1")).scalars().all() == ["qa"]
        assert connection.execute(text("SELECT count(*) FROM role_grants")).scalar_one() == 0
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                       tables.metadata)
    assert differences == []
    engine.dispose()
