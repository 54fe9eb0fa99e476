"""Migration 0025_chain_of_identity carries an existing database forward: every subject randomized before it
gets its ISBT 128 chain-of-identity identifier (DS 040), a subject not yet randomized gets none; the migrated
schema is the models' schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

import cellchain.tables as tables
from cellchain.core import migrate
from cellchain.identifiers.isbt128 import ChainOfIdentity
from tests.factories import old_databases

_SUBJECT = ("INSERT INTO subjects (id, subject_code, screening_number, birth_date, sex, day0, weight_kg, answers, "
            "eligible, eligibility_reasons, arm, randomization_position, randomized_at, created_by, created_at, "
            "status) VALUES ({id}, 'SUBJ-000{id}', 'SCR-{id}', '1970-01-0{id}', 'male', '2026-11-10', 70.0, '{{}}', "
            "true, '[]', {arm}, {position}, {at}, 1, '2026-11-01 08:00:00', '{status}')")
INSERTS = (
    "INSERT INTO users (id, username, full_name, password_hash, active, failed_logins, auth_version, created_at) "
    "VALUES (1, 'coordinator', 'Coordinator', 'x', true, 0, 1, '2026-11-01 08:00:00')",
    _SUBJECT.format(id=1, arm="'A'", position=1, at="'2026-11-02 08:00:00'", status="randomized"),
    _SUBJECT.format(id=2, arm="'B'", position=2, at="'2027-01-03 08:00:00'", status="randomized"),
    _SUBJECT.format(id=3, arm="NULL", position="NULL", at="NULL", status="eligible"),
)


def test_randomized_subjects_get_their_chain_of_identity_and_others_none(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = old_databases.at_revision(url, "0024_user_language", INSERTS)
    migrate.upgrade(url)
    with engine.begin() as connection:
        rows = dict(connection.execute(text("SELECT id, chain_of_identity FROM subjects")).all())
        assert rows == {1: ChainOfIdentity.issue("A9999", 2026, 1).text,
                        2: ChainOfIdentity.issue("A9999", 2027, 2).text, 3: None}
        assert rows[1] == "CHA999926000001" + ChainOfIdentity.issue("A9999", 26, 1).check
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                       tables.metadata)
    assert differences == []
    engine.dispose()


def test_the_back_fill_uses_the_sites_facility_number(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = old_databases.at_revision(url, "0024_user_language", INSERTS[:2])
    migrate.upgrade(url, facility_fin="W0000")
    with engine.begin() as connection:
        coi = connection.execute(text("SELECT chain_of_identity FROM subjects WHERE id = 1")).scalar_one()
    assert coi == ChainOfIdentity.issue("W0000", 2026, 1).text
    engine.dispose()
