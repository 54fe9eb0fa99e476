"""How fast is the look-back from a cord, a bank, a lot or a bag on a grown site?

A recall cannot wait: QA and the investigators open the look-back the moment a hold is placed. This bench
grows the site as the growth bench does (``bench_growth``: the demo through the services, then lots in bulk
with their cords, passages, QC results and bags) to 10,000 lots, adds bags in bulk to 100,000, and times
``GET /api/v1/lookback/{kind}/{code}`` and the look-back page from the demo's banked cord (cord, MCB, WCB,
a dosing lot thawed from a WCB vial, an infused bag) and from a bulk cord and lot. Target: p95 under
100 ms for each, with the same number of statements whatever the site's size (docs/rules.md, "Quality:
look-back").

Environment: BENCH_LOOKBACK_LOTS (default 10000), BENCH_LOOKBACK_BAGS (default 100000),
BENCH_LOOKBACK_REQUESTS (per look-back, default 60). Writes bench/results/lookback.json (SQLite).
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench_growth import bulk_lots, counts, measured_records, time_pages
from common import make_app, scratch_sqlite_url, stopwatch, table, write_result
from sqlalchemy import insert, text

LOTS = int(os.environ.get("BENCH_LOOKBACK_LOTS", "10000"))
BAGS = int(os.environ.get("BENCH_LOOKBACK_BAGS", "100000"))
REQUESTS = int(os.environ.get("BENCH_LOOKBACK_REQUESTS", "60"))
TARGET_P95_MS = 100.0
EXTRA_DIVISIONS = tuple(f"{letter}0" for letter in "DEFGHIJKLMNOPQRSTUVWXYZ")


def more_bags(app, total: int) -> None:
    """Bags in bulk on the bulk lots (divisions D0, E0, ... after the growth bench's A0-C0) until ``total``."""
    from cellchain.core import db
    from cellchain.tables import metadata

    with app.app_context():
        connection = db.session().connection()
        missing = total - connection.execute(text("SELECT COUNT(*) FROM bags")).scalar_one()
        lots = connection.execute(text("SELECT id, lot_number FROM lots WHERE lot_number IN "
                                       "(SELECT din FROM collections WHERE donor_code LIKE 'BULK-%') "
                                       "ORDER BY id")).all()
        maker = connection.execute(text("SELECT id FROM users WHERE username = 'lab'")).scalar_one()
        next_id = connection.execute(text("SELECT COALESCE(MAX(id), 0) + 1 FROM bags")).scalar_one()
        filled = datetime.now(UTC) - timedelta(days=30)
        rows = []
        for division in EXTRA_DIVISIONS:
            for lot_id, din in lots:
                if len(rows) >= missing:
                    break
                rows.append({"id": next_id + len(rows), "bag_code": f"{din}-D0001V{division}", "din": din,
                             "product_code": "D0001", "collection_type": "V", "division": division, "kind": "ucmsc",
                             "lot_id": lot_id, "volume_ml": 70.0, "total_cells": 70_000_000,
                             "anticoagulant": "heparin", "anticoagulant_lot": "HEP1", "filled_at": filled,
                             "expires_at": filled + timedelta(hours=48), "quality_status": "released",
                             "custody_state": "in_storage", "created_by": maker, "created_at": filled})
        for start in range(0, len(rows), 5000):
            connection.execute(insert(metadata.tables["bags"]), rows[start:start + 5000])
        db.commit()


def lookbacks(app) -> dict[str, tuple[str, str]]:
    """The look-backs timed: (who opens it, its address)."""
    from cellchain.core import db

    with app.app_context():
        connection = db.session().connection()
        mcb, din = connection.execute(text("SELECT bank_code, din FROM cell_banks WHERE level = 'MCB' "
                                           "ORDER BY id")).first()
        wcb = connection.execute(text("SELECT bank_code FROM cell_banks WHERE level = 'WCB' AND din = :din "
                                      "ORDER BY id"), {"din": din}).scalar()
        dosing = connection.execute(text("SELECT lots.lot_number FROM lots JOIN bags ON bags.lot_id = lots.id "
                                         "JOIN infusions ON infusions.bag_id = bags.id WHERE lots.din = :din "
                                         "AND lots.source_vial_id IS NOT NULL ORDER BY lots.id"), {"din": din}).scalar()
        bag = connection.execute(text("SELECT bags.bag_code FROM bags JOIN infusions ON infusions.bag_id = bags.id "
                                      "JOIN lots ON lots.id = bags.lot_id WHERE lots.din = :din ORDER BY bags.id"),
                                 {"din": din}).scalar()
        bulk = connection.execute(text("SELECT din FROM collections WHERE donor_code LIKE 'BULK-%' "
                                       "ORDER BY id DESC")).scalar()
    found = {"cord (banked, infused)": ("collection", din), "MCB": ("bank", mcb), "WCB": ("bank", wcb),
             "dosing lot from a WCB vial": ("lot", dosing), "infused bag": ("bag", bag),
             "bulk cord": ("collection", bulk), "bulk lot": ("lot", bulk)}
    pages = {f"API {name}": ("qa", f"/api/v1/lookback/{kind}/{code}") for name, (kind, code) in found.items()
             if code}
    pages["page, cord (banked, infused)"] = ("investigator", f"/lookback/collection/{din}")
    return pages


def main() -> None:
    url = scratch_sqlite_url("lookback")
    try:
        measure(url)
    finally:
        shutil.rmtree(Path(url.removeprefix("sqlite:///")).parent, ignore_errors=True)


def measure(url: str) -> None:
    app = make_app(url)
    measured_records(app)
    with stopwatch() as grown:
        bulk_lots(app, LOTS - counts(app)["lots"])
        more_bags(app, BAGS)
    size = counts(app)
    pages = lookbacks(app)
    timed = time_pages({"large": app}, pages, REQUESTS)["large"]
    rows, met = [], True
    for name, figures in timed.items():
        ok = figures["p95_ms"] < TARGET_P95_MS
        met = met and ok
        rows.append((name, f"{figures['median_ms']:.1f}", f"{figures['p95_ms']:.1f}", figures["statements"],
                     f"{figures['bytes'] / 1024:.0f}", "met" if ok else "MISSED"))
    print(f"rows: {size} (grown in {grown['seconds']:.0f} s)")
    print(table(rows, ("look-back", "median ms", f"p95 ms (< {TARGET_P95_MS:.0f})", "statements", "KiB", "")))
    write_result("lookback", {"requests": REQUESTS, "rows": size, "lookbacks": timed, "target_p95_ms": TARGET_P95_MS,
                              "met": met})


if __name__ == "__main__":
    main()
