"""Counting the SQL statements a request sends, for tests that hold a page or check to a fixed cost."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from cellchain.core import db


@contextmanager
def counting(app) -> Iterator[list[str]]:
    """Every statement sent to the database while the block runs, in order."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    engine = app.extensions[db.EXTENSION]
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)
