"""A database at an earlier migration with rows written there in its own SQL, for the migration tests."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, create_engine, text

from cellchain.core import migrate


def at_revision(url: str, revision: str, statements: Iterable[str]) -> Engine:
    """Migrate ``url`` to ``revision``, write ``statements`` there, and answer its engine."""
    migrate.upgrade(url, revision)
    engine = create_engine(url)
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    return engine
