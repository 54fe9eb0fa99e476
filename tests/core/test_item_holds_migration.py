"""Migration 0022_item_holds carries an existing database forward: every hold raised on a lot becomes a hold
of kind lot on that lot, with the lot's cord, still open or lifted as it was; the migrated schema is the
models' schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

import cellchain.tables as tables
from cellchain.core import migrate
from tests.core.test_cell_banks_migration import INSERTS
from tests.factories import old_databases

LATER = (
    "INSERT INTO qc_results (id, lot_id, test_code, value, within_spec, limit_text, unit, method, spec_version, "
    "recorded_by, recorded_at, sample_stage, sampled_at, after_release) VALUES (1, 1, 'sterility', 'positive', "
    "false, 'negative', '', '', 'UCMSC-1', 1, '2026-11-15 09:00:00', 'final_product', '2026-11-01 09:00:00', true)",
    "INSERT INTO holds (id, lot_id, qc_result_id, cause, raised_at, raised_by) VALUES (1, 1, 1, "
    "'Sterility positive', '2026-11-15 09:00:00', 1)",
)


def test_holds_on_lots_become_lot_holds_of_their_cord_and_the_schema_matches_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = old_databases.at_revision(url, "0004", INSERTS)
    migrate.upgrade(url, "0016_adverse_events")
    with engine.begin() as connection:
        for statement in LATER:
            connection.execute(text(statement))
    migrate.upgrade(url)
    with engine.begin() as connection:
        row = connection.execute(text("SELECT item_kind, item_id, collection_id, lot_id, recall, lifted_at "
                                      "FROM holds WHERE id = 1")).one()
        assert tuple(row) == ("lot", 1, 1, 1, 0, None)
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                       tables.metadata)
    assert differences == []
    engine.dispose()
