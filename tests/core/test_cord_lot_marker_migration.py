"""Migration 0017_cord_lot_marker carries an existing database forward: each cord that has a lot is marked
with its first lot's start, each bag already made is tallied by custody state and quality status, the
database keeps both from then on, whoever writes the rows, and the migrated schema is the models' schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

import cellchain.tables as tables
from cellchain.core import migrate

USER = ("INSERT INTO users (id, username, full_name, password_hash, active, failed_logins, auth_version, created_at) "
        "VALUES (1, 'lab', 'Lab', 'x', true, 0, 1, '2026-11-01 08:00:00')")
CORD = ("INSERT INTO collections (id, din, donor_code, collected_at, site, consent_obtained, screening, "
        "medical_history_ok, eligibility, eligibility_reasons, custody_state, created_by, created_at) VALUES "
        "(:id, :din, 'D-1', '2026-11-01 08:00:00', 'ward', true, '{}', true, 'eligible', '[]', 'at_lab', 1, "
        "'2026-11-01 08:00:00')")
LOT = ("INSERT INTO lots (id, lot_number, collection_id, din, purpose, first_passage, starting_doublings, status, "
       "spec_version, created_by, created_at) VALUES (:id, :number, :cord, :din, 'dosing', 0, 0.0, 'released', "
       "'UCMSC-1', 1, :at)")
BAG = ("INSERT INTO bags (id, bag_code, din, product_code, collection_type, division, kind, lot_id, volume_ml, "
       "filled_at, expires_at, quality_status, custody_state, preservation, created_by, created_at) VALUES "
       "(:id, :code, 'A999926000001', 'D0001', 'V', :division, 'ucmsc', 1, 70.0, '2026-11-10 08:00:00', "
       "'2026-11-12 08:00:00', :quality, :state, 'fresh', 1, '2026-11-10 08:00:00')")
DINS = {1: "A999926000001", 2: "A999926000002", 3: "A999926000003"}


def marks(connection) -> dict[int, str | None]:
    rows = connection.execute(text("SELECT id, lot_started_at FROM collections ORDER BY id")).all()
    return {cord: str(at)[:19] if at else None for cord, at in rows}


def tally(connection) -> dict[tuple[str, str], int]:
    rows = connection.execute(text("SELECT custody_state, quality_status, bags FROM bag_tallies WHERE bags > 0"))
    return {(state, quality): n for state, quality, n in rows}


def recount(connection) -> dict[tuple[str, str], int]:
    rows = connection.execute(text("SELECT COALESCE(custody_state, ''), quality_status, COUNT(*) FROM bags "
                                   "GROUP BY COALESCE(custody_state, ''), quality_status"))
    return {(state, quality): n for state, quality, n in rows}


def bag(n: int, division: str, state: str | None, quality: str = "released") -> dict:
    return {"id": n, "code": f"A999926000001-D0001V{division}", "division": division, "quality": quality,
            "state": state}


def test_cords_with_a_lot_are_marked_and_bags_tallied_before_and_after_the_upgrade(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    migrate.upgrade(url, "0016_adverse_events")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(USER))
        for cord, din in DINS.items():
            connection.execute(text(CORD), {"id": cord, "din": din})
        # Cord 1 has two lots (the second thawed from its bank): marked with the first one's start.
        connection.execute(text(LOT), {"id": 1, "number": DINS[1], "cord": 1, "din": DINS[1],
                                       "at": "2026-11-02 09:00:00"})
        connection.execute(text(LOT), {"id": 2, "number": f"{DINS[1]}-L01", "cord": 1, "din": DINS[1],
                                       "at": "2026-11-20 09:00:00"})
        for row in (bag(1, "A0", "in_storage"), bag(2, "B0", "in_storage"), bag(3, "C0", "infused"),
                    bag(4, "D0", None, "quarantine")):
            connection.execute(text(BAG), row)
    migrate.upgrade(url)
    with engine.begin() as connection:
        assert marks(connection) == {1: "2026-11-02 09:00:00", 2: None, 3: None}
        assert tally(connection) == recount(connection) == {("in_storage", "released"): 2,
                                                             ("infused", "released"): 1, ("", "quarantine"): 1}
        # From now on the database keeps both, for rows written by plain SQL as by the application.
        connection.execute(text(LOT), {"id": 3, "number": DINS[2], "cord": 2, "din": DINS[2],
                                       "at": "2026-12-01 09:00:00"})
        connection.execute(text(BAG), bag(5, "E0", "at_lab", "quarantine"))
        connection.execute(text("UPDATE bags SET custody_state = 'discarded' WHERE id = 1"))
        connection.execute(text("UPDATE bags SET custody_state = 'at_lab', quality_status = 'released' WHERE id = 4"))
        connection.execute(text("UPDATE bags SET volume_ml = 71.0 WHERE id = 2"))  # no state changes: no count
        connection.execute(text("DELETE FROM bags WHERE id = 3"))
        assert marks(connection) == {1: "2026-11-02 09:00:00", 2: "2026-12-01 09:00:00", 3: None}
        assert tally(connection) == recount(connection) == {
            ("in_storage", "released"): 1, ("discarded", "released"): 1, ("at_lab", "released"): 1,
            ("at_lab", "quarantine"): 1}
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                       tables.metadata)
    assert differences == []
    engine.dispose()
