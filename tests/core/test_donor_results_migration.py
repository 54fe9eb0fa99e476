"""Migration 0021_donor_results carries an existing database forward: each cord's screening becomes its result
rows and the cord keeps its eligibility; a notice whose mail failed becomes a failed outbox mail that is sent
again; the migrated schema is the models' schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

import cellchain.tables as tables
from cellchain.core import migrate
from tests.factories import old_databases

INSERTS = (
    "INSERT INTO users (id, username, full_name, password_hash, active, failed_logins, auth_version, created_at, "
    "email) VALUES (1, 'lab', 'Lab', 'x', true, 0, 1, '2026-11-01 08:00:00', 'lab@hospital.example')",
    "INSERT INTO collections (id, din, donor_code, collected_at, site, consent_obtained, screening, "
    "medical_history_ok, eligibility, eligibility_reasons, created_by, created_at) VALUES (1, 'A999926000007', "
    "'D-7', '2026-11-01 08:00:00', 'ward', true, '{\"HIV-1/2\": \"negative\", \"HBV\": \"positive\"}', true, "
    "'ineligible', '[]', 1, '2026-11-01 08:00:00')",
    "INSERT INTO notifications (id, recipient_id, kind, subject, body, link, created_at, mail_error) VALUES "
    "(1, 1, 'lot_on_hold', 'HOLD', 'Lot on hold', '/qa/holds/1', '2026-11-02 08:00:00', 'ConnectionRefused')",
    "INSERT INTO notifications (id, recipient_id, kind, subject, body, link, created_at, mailed_at) VALUES "
    "(2, 1, 'lot_on_hold', 'HOLD', 'Lot on hold', '', '2026-11-02 08:00:00', '2026-11-02 08:00:01')",
)


def test_cords_keep_their_results_and_eligibility_and_a_failed_mail_waits_in_the_outbox(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = old_databases.at_revision(url, "0016_adverse_events", INSERTS)
    migrate.upgrade(url)
    with engine.begin() as connection:
        results = connection.execute(text("SELECT test, result, late, entered_by FROM donor_results "
                                          "WHERE collection_id = 1 ORDER BY test")).all()
        assert [tuple(r) for r in results] == [("HBV", "positive", 0, 1), ("HIV-1/2", "negative", 0, 1)]
        assert connection.execute(text("SELECT eligibility FROM collections")).scalar_one() == "ineligible"
        mails = connection.execute(text("SELECT notification_id, to_address, status, body FROM mail_outbox")).all()
        assert len(mails) == 1 and tuple(mails[0][:3]) == (1, "lab@hospital.example", "failed")
        assert "/qa/holds/1" in mails[0][3]
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                       tables.metadata)
    assert differences == []
    engine.dispose()
