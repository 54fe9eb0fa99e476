"""Migration 0012_list_indexes counts the audit entries already written per record type, the database
counts each new one as it is written, and the migrated schema is the models' schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlmodel import Session

import cellchain.tables as tables
from cellchain.audit import trail
from cellchain.core import migrate
from cellchain.core.db import make_engine


def counts(connection) -> dict[str, int]:
    return dict(connection.execute(text("SELECT record_type, entries FROM audit_type_counts")).all())


def grouped(connection) -> dict[str, int]:
    return dict(connection.execute(text("SELECT record_type, COUNT(*) FROM audit_entries GROUP BY record_type")).all())


def test_entries_written_before_and_after_the_upgrade_are_counted_per_record_type(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    migrate.upgrade(url, "0010_partial_infusion")
    engine = make_engine(url)
    with Session(engine) as session:
        for n in range(3):
            trail.record(session, actor=None, record_type="lot", record_id=f"L{n}", action="noted")
        trail.record(session, actor=None, record_type="bag", record_id="B1", action="noted")
        session.commit()
    engine.dispose()
    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        assert counts(session.connection()) == {"lot": 3, "bag": 1}
        trail.record(session, actor=None, record_type="bag", record_id="B2", action="noted")
        trail.record(session, actor=None, record_type="deviation", record_id="D1", action="noted")
        session.commit()
        assert counts(session.connection()) == grouped(session.connection()) == {"lot": 3, "bag": 2, "deviation": 1}
    engine.dispose()
    plain = create_engine(url)
    with plain.begin() as connection:
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                       tables.metadata)
    assert differences == []
    plain.dispose()
