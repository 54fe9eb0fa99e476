"""Does a cord's genealogy page stay flat as its banks grow from 100 to 10,000 vials?

One cord in each database: a master cell bank, eleven working cell banks each thawed from one of its vials,
and a dosing lot thawed from the first working bank's first vial, with its bags. The small database's banks
hold 100 vials in all, the large one's 10,000; the tree has the same branches in both (the thawed vials),
so only the frozen vials grow. Target: the genealogy page (/banks/genealogy/<DIN>) and its API
(/api/v1/collections/<DIN>/genealogy) answer the larger tree within 1.5 times the smaller one's median
latency, with the same number of SQL statements (tests/banking/test_banking_pages.py holds that count too).

Rows are written in bulk through the tables (the services freeze and thaw one vial at a time, with an
audit entry each); the users come from the demo loader. Requests go through the app's test client,
logged in as the auditor. Environment: BENCH_GENEALOGY_REQUESTS (per page and size, default 40).
Writes bench/results/genealogy.json (SQLite).
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench_growth import compare, logged_in, time_pages
from common import make_app, scratch_sqlite_url, stopwatch, write_result
from sqlalchemy import insert, text

REQUESTS = int(os.environ.get("BENCH_GENEALOGY_REQUESTS", "40"))
WCBS = 11
MCB_VIALS = 12
SIZES = {"small": 100, "large": 10_000}
TARGET_RATIO = 1.5  # vials in all: MCB_VIALS + WCBS working banks of equal size


def load_people(app) -> None:
    from cellchain.core import db
    from cellchain.people import accounts
    from cellchain.people.accounts import Policy

    with app.app_context():
        session = db.session()
        for username, role in (("lab", "lab"), ("auditor", "auditor")):
            accounts.create_user(session, actor=None, username=username, full_name=username.title(),
                                 password="cellchain-demo", roles=[role], policy=Policy(hash_method="scrypt:1024:8:1"))
        db.commit()


def banked_cord(app, vials: int) -> str:
    """The cord, its lots, banks, vials (each with its ``frozen`` custody event) and bags; its DIN."""
    from cellchain.banking.rules import tiers
    from cellchain.core import db
    from cellchain.identifiers.isbt128 import format_din
    from cellchain.tables import metadata

    per_wcb = (vials - MCB_VIALS) // WCBS
    din, now = format_din("A9997", 26, 1), datetime.now(UTC)
    collected = now - timedelta(days=60)
    with app.app_context():
        connection = db.session().connection()
        maker = connection.execute(text("SELECT id FROM users WHERE username = 'lab'")).scalar_one()

        def add(table: str, rows: list[dict]) -> None:
            connection.execute(insert(metadata.tables[table]), rows)

        add("collections", [{"id": 1, "din": din, "donor_code": "BENCH-1", "collected_at": collected, "site": "ward",
                             "consent_obtained": True, "screening": {}, "medical_history_ok": True,
                             "eligibility": "eligible", "eligibility_reasons": [], "custody_state": "at_lab",
                             "created_by": maker, "created_at": collected}])
        lot = {"collection_id": 1, "din": din, "status": "released", "spec_version": "UCMSC-1", "created_by": maker,
               "created_at": collected, "starting_doublings": 0.0}
        add("lots", [{**lot, "id": 1, "lot_number": din, "purpose": "bank", "first_passage": 0}])
        banks = [("MCB", 1, 1, MCB_VIALS)] + [("WCB", n, n + 1, per_wcb) for n in range(1, WCBS + 1)]
        vial_id, frozen = 0, collected + timedelta(days=10)
        for level, sequence, bank_id, count in banks:
            code = tiers.bank_code(level, din, sequence)
            if level == "WCB":  # its lot (lot <sequence + 1>) was thawed from MCB vial <sequence>
                add("lots", [{**lot, "id": bank_id, "lot_number": f"{din}-L{sequence:02d}", "purpose": "bank",
                              "first_passage": 3, "source_vial_id": sequence}])
            add("cell_banks", [{"id": bank_id, "bank_code": code, "lot_id": bank_id, "level": level, "din": din,
                                "vial_count": count, "cells_per_vial": 5_000_000, "cryoprotectant": "10% DMSO",
                                "frozen_at": frozen, "passage": 2 if level == "MCB" else 4,
                                "cumulative_doublings": 6.0 if level == "MCB" else 10.0, "created_by": maker,
                                "created_at": frozen}])
            first = vial_id + 1
            add("vials", [{"id": first + i, "bank_id": bank_id, "number": i + 1,
                           "vial_code": tiers.vial_code(code, i + 1), "state": "frozen", "custody_state": "at_lab"}
                          for i in range(count)])
            add("custody_events", [{"item_type": "vial", "item_id": first + i, "event": "frozen", "to_state": "at_lab",
                                    "location": "lab", "condition": "intact", "excursion": False,
                                    "occurred_at": frozen, "recorded_by": maker, "recorded_at": frozen}
                                   for i in range(count)])
            vial_id += count
        # the dosing lot, from the first WCB's first vial (the vial after the MCB's)
        dosing_vial = MCB_VIALS + 1
        add("lots", [{**lot, "id": WCBS + 2, "lot_number": f"{din}-L{WCBS + 1:02d}", "purpose": "dosing",
                      "first_passage": 5, "source_vial_id": dosing_vial}])
        for vial, started in [(n, n + 1) for n in range(1, WCBS + 1)] + [(dosing_vial, WCBS + 2)]:
            connection.execute(text("UPDATE vials SET state = 'thawed', custody_state = 'thawed', "
                                    "post_thaw_viability_pct = 90, started_lot_id = :lot WHERE id = :vial"),
                               {"lot": started, "vial": vial})
        add("bags", [{"bag_code": f"{din}-D0001V{d}0", "din": din, "product_code": "D0001", "collection_type": "V",
                      "division": f"{d}0", "kind": "ucmsc", "lot_id": WCBS + 2, "volume_ml": 70.0,
                      "total_cells": 70_000_000, "filled_at": now, "expires_at": now + timedelta(hours=48),
                      "quality_status": "released", "custody_state": "at_lab", "created_by": maker, "created_at": now}
                     for d in "ABC"])
        db.commit()
    return din


def vial_count(app) -> int:
    from cellchain.core import db

    with app.app_context():
        return db.session().connection().execute(text("SELECT COUNT(*) FROM vials")).scalar_one()


def report(vials: dict[str, int], timed: dict[str, dict[str, dict]], pages: dict[str, str]) -> dict:
    return compare(timed, pages, f"{vials['small']:,} vials", f"{vials['large']:,} vials")


def main() -> None:
    urls = {size: scratch_sqlite_url(f"genealogy-{size}") for size in SIZES}
    try:
        measure(urls)
    finally:
        for url in urls.values():
            shutil.rmtree(Path(url.removeprefix("sqlite:///")).parent, ignore_errors=True)


def measure(urls: dict[str, str]) -> None:
    apps, dins = {}, {}
    for size, url in urls.items():
        apps[size] = make_app(url)
        load_people(apps[size])
        with stopwatch() as made:
            dins[size] = banked_cord(apps[size], SIZES[size])
        print(f"{size}: {vial_count(apps[size]):,} vials written in {made['seconds']:.1f} s")
    assert dins["small"] == dins["large"]  # one DIN in both: the same URLs on both databases
    din = dins["small"]
    pages = {"genealogy page": f"/banks/genealogy/{din}", "genealogy API": f"/api/v1/collections/{din}/genealogy"}
    logged_in(apps["small"])  # fails early if the auditor cannot log in
    timed = time_pages(apps, pages, REQUESTS)
    verdicts = report({size: vial_count(app) for size, app in apps.items()}, timed, pages)
    write_result("genealogy", {"requests_per_page": REQUESTS, "vials": {s: SIZES[s] for s in SIZES},
                               "pages": timed, "verdicts": verdicts, "target_ratio": TARGET_RATIO,
                               "met": all(v["met"] and v["same_statements"] for v in verdicts.values())})


if __name__ == "__main__":
    main()
