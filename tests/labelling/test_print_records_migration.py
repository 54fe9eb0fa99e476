"""Migration 0030_print_records_regulated carries an existing database forward: its print jobs keep their
state and are queued as of their creation, printed labels, printers and print jobs are watched by the
row-change log (one set of triggers each, whether the database is old or new), and the migrated schema is
the models' schema."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

import cellchain.tables as tables
from cellchain.audit import row_changes
from cellchain.core import migrate
from tests.factories import old_databases

AT = "'2026-11-01 08:00:00'"
# A database migrated before label_prints was regulated has no triggers on it (0019 makes those of the tables
# regulated when it runs): dropped here first to stand for one.
INSERTS = (
    *row_changes.drop_table_sql("sqlite", "label_prints"),
    "INSERT INTO users (id, username, full_name, password_hash, active, failed_logins, auth_version, created_at) "
    f"VALUES (1, 'lab', 'Lab', 'x', true, 0, 1, {AT})",
    "INSERT INTO label_prints (id, item_type, item_id, item_key, label_kind, reprint, content_hash, content, status, "
    f"printed_by, printed_at) VALUES (1, 'bag', 1, 'B1', 'bag', false, 'h', '{{}}', 'printed', 1, {AT})",
    "INSERT INTO printers (id, name, place, kind, address, dpi, label_sizes, active, created_by, created_at) VALUES "
    f"(1, 'Zebra lab 1', 'Lab', 'zpl', '10.0.0.5:9100', 203, '[\"101.6x101.6\"]', true, 1, {AT})",
    "INSERT INTO print_jobs (id, printer_id, label_kind, target, item_key, label_ids, fmt, dpi, document, status, "
    f"error, attempts, created_by, created_at) VALUES (1, 1, 'bag', 'bag', 'B1', '[1]', 'zpl', 203, X'5E5841', "
    f"'failed', 'refused', 1, 1, {AT})",
)
TRIGGERS = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%row_change%' AND tbl_name = :t"


def _triggers(connection, table: str) -> list[str]:
    return sorted(row[0] for row in connection.execute(text(TRIGGERS), {"t": table}))


def test_old_jobs_are_queued_as_of_their_creation_and_label_records_are_watched(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = old_databases.at_revision(url, "0027_materials", INSERTS)
    migrate.upgrade(url)
    with engine.begin() as connection:
        job = connection.execute(text("SELECT status, error, attempts, queued_at FROM print_jobs")).one()
        assert tuple(job)[:3] == ("failed", "refused", 1) and str(job[3]).startswith("2026-11-01 08:00:00")
        for table in ("label_prints", "printers", "print_jobs"):
            assert _triggers(connection, table) == [f"{table}_row_change_{op}" for op in ("delete", "insert",
                                                                                        "update")]
        connection.execute(text("UPDATE label_prints SET status = 'voided' WHERE id = 1"))
        connection.execute(text("UPDATE printers SET active = false WHERE id = 1"))
        connection.execute(text("UPDATE print_jobs SET status = 'sent' WHERE id = 1"))
        logged = connection.execute(text("SELECT table_name, row_key, operation FROM row_changes "
                                         "WHERE table_name <> 'users' ORDER BY id")).all()
        assert [tuple(r) for r in logged] == [("label_prints", "1", "UPDATE"), ("printers", "1", "UPDATE"),
                                              ("print_jobs", "1", "UPDATE")]
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                       tables.metadata)
    assert differences == []
    engine.dispose()


def test_a_database_made_from_empty_has_one_set_of_triggers_and_goes_down_and_up_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.sqlite'}"
    migrate.upgrade(url)
    config = migrate.alembic_config(url)
    command.downgrade(config, "0027_materials")
    engine = old_databases.at_revision(url, "0027_materials", ())
    with engine.begin() as connection:
        assert _triggers(connection, "print_jobs") == []
        columns = [row[1] for row in connection.execute(text("PRAGMA table_info(print_jobs)"))]
        assert "queued_at" not in columns
    migrate.upgrade(url)
    with engine.begin() as connection:
        assert len(_triggers(connection, "label_prints")) == 3 and len(_triggers(connection, "print_jobs")) == 3
    engine.dispose()
