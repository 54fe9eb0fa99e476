"""Migration 0032_reaction_draft_wording carries an existing database forward: an adverse event drafted from a
reaction before it keeps its stored sentence and reads as stored, in any reader's language; the migrated schema
is the models' schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_babel import force_locale
from sqlalchemy import text
from sqlmodel import Session

import cellchain.tables as tables
from cellchain.core import migrate
from cellchain.safety.models import AdverseEvent
from tests.core.test_cell_banks_migration import INSERTS
from tests.factories import old_databases

DRAFTED = "护士在输注 7 结束时记录：寒战（严重程度 moderate，发生于 2026-11-26T04:00:00.000000Z）。"
BEFORE = (
    "INSERT INTO adverse_events (id, subject_id, infusion_id, status, source, version, term, category, description, "
    "seriousness, serious, special_interest, aware_at, recorded_by, recorded_at) VALUES (1, 1, NULL, 'draft', "
    f"'reaction', 1, '寒战', 'infusion_reaction', '{DRAFTED}', '[]', false, false, '2026-11-26 05:00:00', 1, "
    "'2026-11-26 05:00:00')",
)


def test_a_draft_written_before_keeps_its_sentence_for_every_reader_and_the_schema_matches(tmp_path, app):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = old_databases.at_revision(url, "0004", INSERTS)
    migrate.upgrade(url, "0031_thaw_instruments")
    with engine.begin() as connection:
        for statement in BEFORE:
            connection.execute(text(statement))
    migrate.upgrade(url)
    with engine.begin() as connection:
        assert connection.execute(text("SELECT description, description_code, description_values "
                                       "FROM adverse_events")).one() == (DRAFTED, None, None)
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                       tables.metadata)
    assert differences == []
    with Session(engine) as session, app.test_request_context():
        for language in ("en", "zh"):
            with force_locale(language):
                assert session.get(AdverseEvent, 1).description_text == DRAFTED
    engine.dispose()
