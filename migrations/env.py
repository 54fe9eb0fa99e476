"""Alembic environment: the URL comes from cellchain's configuration, the schema from its models."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

import cellchain.tables as models
from cellchain.core.db import normalize_url

config = context.config


def _url() -> str:
    url = config.attributes.get("database_url")
    if url is None:  # plain `alembic` on the command line: ask the app for its configured URL
        from cellchain import create_app

        url = create_app().config["DATABASE_URL"]
    return normalize_url(url)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=models.metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=models.metadata, render_as_batch=True,
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
