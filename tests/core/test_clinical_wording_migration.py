"""Migration 0029_clinical_wording carries an existing database forward: deviations and holds written before
it keep their stored sentence and read as stored, in any reader's language; the migrated schema is the models'
schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_babel import force_locale
from sqlalchemy import text
from sqlmodel import Session

import cellchain.tables as tables
from cellchain.core import migrate
from cellchain.quality.models import Deviation, Hold
from cellchain.safety.models import ClinicalDeviation
from tests.core.test_cell_banks_migration import INSERTS
from tests.factories import old_databases

MISSED = "Week 4 infusion visit (window 2026-11-20 to 2026-11-24) marked missed: subject travelling"
OOS = "Out-of-specification result 1: Sterility: positive is OUT OF SPECIFICATION (limit negative)"
CAUSE = "Sterility result 1 after release is positive (limit negative)"
BEFORE = (
    "INSERT INTO qc_results (id, lot_id, test_code, value, within_spec, limit_text, unit, method, spec_version, "
    "recorded_by, recorded_at, sample_stage, sampled_at, after_release) VALUES (1, 1, 'sterility', 'positive', "
    "false, 'negative', '', '', 'UCMSC-1', 1, '2026-11-15 09:00:00', 'final_product', '2026-11-01 09:00:00', true)",
    "INSERT INTO holds (id, item_kind, item_id, collection_id, lot_id, qc_result_id, cause, recall, raised_at, "
    f"raised_by) VALUES (1, 'lot', 1, 1, 1, 1, '{CAUSE}', false, '2026-11-15 09:00:00', 1)",
    "INSERT INTO deviations (id, number, lot_id, qc_result_id, kind, test_code, description, status, opened_by, "
    f"opened_at) VALUES (1, 'DEV-2026-0001', 1, 1, 'oos', 'sterility', '{OOS}', 'open', 1, '2026-11-15 09:00:00')",
    "INSERT INTO clinical_deviations (id, subject_id, kind, description, automatic, status, opened_by, opened_at) "
    f"VALUES (1, 1, 'missed_visit', '{MISSED}', true, 'open', 1, '2026-11-25 09:00:00')",
)


def test_deviations_and_holds_written_before_keep_their_sentence_for_every_reader(tmp_path, app):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = old_databases.at_revision(url, "0004", INSERTS)
    migrate.upgrade(url, "0027_materials")
    with engine.begin() as connection:
        for statement in BEFORE:
            connection.execute(text(statement))
    migrate.upgrade(url)
    with engine.begin() as connection:
        assert connection.execute(text("SELECT description_code, description_values FROM clinical_deviations")).one() \
            == (None, None)
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                       tables.metadata)
    assert differences == []
    with Session(engine) as session, app.test_request_context(), force_locale("zh"):
        assert session.get(ClinicalDeviation, 1).description_text == MISSED
        assert session.get(Deviation, 1).description_text == OOS
        assert session.get(Hold, 1).cause_text == CAUSE
    engine.dispose()
