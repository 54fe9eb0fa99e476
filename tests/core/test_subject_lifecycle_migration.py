"""Migration 0020_subject_lifecycle carries existing subjects forward from their data: a screen failure, an
eligible subject waiting, a randomized one, one on treatment, one whose last infusion visit is done, one whose
last follow-up visit is done; and the migrated schema is the models' schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

import cellchain.tables as tables
from cellchain.core import migrate

NOW = "2026-11-01 08:00:00"


def _subject(connection, n: int, *, eligible: bool, arm: str | None) -> None:
    connection.execute(text(
        "INSERT INTO subjects (id, subject_code, screening_number, birth_date, sex, day0, weight_kg, answers, "
        "eligible, eligibility_reasons, arm, randomization_position, created_by, created_at) VALUES (:id, :code, :scr, "
        "'1970-01-01', 'male', '2026-08-01', 70, '{}', :eligible, '[]', :arm, :pos, 1, :now)"),
        {"id": n, "code": f"SUBJ-{n:04d}", "scr": f"SCR-{n}", "eligible": eligible, "arm": arm,
         "pos": n if arm else None, "now": NOW})


def _visit(connection, n: int, subject: int, week: int, kind: str, status: str) -> None:
    connection.execute(text(
        "INSERT INTO visits (id, subject_id, week, kind, target_date, window_start, window_end, status) VALUES "
        "(:id, :subject, :week, :kind, '2026-08-01', '2026-08-01', '2026-08-04', :status)"),
        {"id": n, "subject": subject, "week": week, "kind": kind, "status": status})


def _infused(connection, subject: int, visit: int) -> None:
    """An infusion row (SQLite here does not hold the keys to their rows: only the subject's matters)."""
    connection.execute(text(
        "INSERT INTO infusions (id, bag_id, subject_id, visit_id, bedside_check_id, started_at, started_by, "
        "verifier_id, verifier_signature_id, status, vital_signs, reactions) VALUES (:id, :id, :subject, :visit, "
        ":id, :now, 1, 1, 1, 'completed', '{}', '[]')"), {"id": visit, "subject": subject, "visit": visit, "now": NOW})


def test_existing_subjects_take_the_state_their_data_shows(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    migrate.upgrade(url, "0016_adverse_events")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO users (id, username, full_name, password_hash, active, failed_logins, "
                                "auth_version, created_at) VALUES (1, 'coordinator', 'C', 'x', true, 0, 1, :now)"),
                           {"now": NOW})
        _subject(connection, 1, eligible=False, arm=None)
        _subject(connection, 2, eligible=True, arm=None)
        _subject(connection, 3, eligible=True, arm="A")
        _subject(connection, 4, eligible=True, arm="B")
        _subject(connection, 5, eligible=True, arm="A")
        _subject(connection, 6, eligible=True, arm="B")
        for subject, statuses in ((4, ("done", "planned")), (5, ("done", "done")), (6, ("done", "done"))):
            _visit(connection, subject * 10, subject, 0, "infusion", statuses[0])
            _visit(connection, subject * 10 + 1, subject, 12, "infusion", statuses[1])
            _infused(connection, subject, subject * 10)
        _visit(connection, 62, 6, 48, "follow_up", "done")
    migrate.upgrade(url)
    with engine.begin() as connection:
        states = dict(connection.execute(text("SELECT id, status FROM subjects")).all())
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                       tables.metadata)
    assert states == {1: "screen_failed", 2: "eligible", 3: "randomized", 4: "on_treatment",
                      5: "treatment_completed", 6: "study_completed"}
    assert differences == []
    engine.dispose()
