"""Do the box map and "where is this" stay flat as the containers in storage grow?

Times the box map page (/storage/boxes/<code>) and the where-is page for a bag's scan (/storage/where) with
100 stored containers, then again after the database has grown to 10,000 stored containers (in boxes of
9 x 9 on racks of one LN2 tank). Target: the larger database answers within 1.5 times the smaller one's
latency (median of the requests) for each page, with the same number of SQL statements per request
(tests/storage/test_pages.py holds that count fixed as a box fills).

The measured box and bag are made through the operations (set-up, put, move: custody events and audit
entries); the other containers are inserted in bulk with plain SQL, each a placebo bag with its filled and
stored custody events and its current placement, so every table the pages read grows with them.

Environment: BENCH_STORAGE_CONTAINERS (default 10000), BENCH_STORAGE_REQUESTS (per page and size, default 40).
Writes bench/results/storage.json (SQLite).
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench_growth import compare, time_pages
from common import checkpoint_dir, make_app, scratch_sqlite_url, stopwatch, write_result
from sqlalchemy import insert, text

CONTAINERS = int(os.environ.get("BENCH_STORAGE_CONTAINERS", "10000"))
REQUESTS = int(os.environ.get("BENCH_STORAGE_REQUESTS", "40"))
SMALL = 100
TARGET_RATIO = 1.5
BOX = 9  # rows and columns of every box
BOXES_PER_RACK = 10


def measured_records(app) -> dict[str, str]:
    """The demo people, a tank with a rack and the measured box, 40 bags put in it and one of them moved twice."""
    from cellchain.core import db
    from cellchain.demo import loader as demo
    from cellchain.demo import materials as demo_materials
    from cellchain.manufacturing import bags
    from cellchain.people import accounts
    from cellchain.people.accounts import Policy
    from cellchain.storage import placements, places

    with app.app_context():
        session = db.session()
        policy = Policy(hash_method="scrypt:1024:8:1")
        demo.load_people(session, policy=policy)
        demo_materials.load(session, config=app.config, policy=policy)  # the released saline lot the fill names
        lab = accounts.find_user(session, "lab")
        unit = places.create_unit(session, actor=lab, data={"code": "LN2-01", "name": "Tank 1", "kind": "ln2_vapour"})
        rack = places.create_location(session, actor=lab, unit=unit, data={"code": "R0", "kind": "rack"})
        box = places.create_box(session, actor=lab, location=rack, data={"code": "BX-M", "rows": BOX, "columns": BOX})
        stored = bags.fill_placebo(session, actor=lab, data={"count": 40, "saline_lot": "NS2611B"},
                                   settings=bags.FillSettings.from_config(app.config))
        ranges = app.config["TEMPERATURE_RANGES"]
        for number, bag in enumerate(stored):
            placements.put(session, actor=lab, item=placements.Item("bag", bag.id), box=box, row=number // BOX + 1,
                           column=number % BOX + 1, ranges=ranges)
        measured = stored[0]
        for row, column in ((8, 1), (9, 9)):
            placements.move(session, actor=lab, item=placements.Item("bag", measured.id), box=box, row=row,
                            column=column, ranges=ranges)
        db.commit()
        return {"box map": "/storage/boxes/BX-M", "where is": f"/storage/where?scan={measured.bag_code}"}


def _next_ids(connection, tables: tuple[str, ...]) -> dict[str, int]:
    return {t: connection.execute(text(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {t}")).scalar_one() for t in tables}


def stored_count(app) -> int:
    from cellchain.core import db

    with app.app_context():
        return db.session().connection().execute(
            text("SELECT COUNT(*) FROM placements WHERE taken_at IS NULL")).scalar_one()


def bulk_containers(app, count: int) -> None:
    """``count`` more stored placebo bags in new boxes of BOX x BOX, ten boxes a rack, in one tank."""
    from cellchain.core import db
    from cellchain.identifiers.isbt128 import format_din
    from cellchain.tables import metadata

    if count <= 0:
        return
    tables = ("storage_locations", "storage_boxes", "bags", "custody_events", "placements")
    now = datetime.now(UTC) - timedelta(days=1)
    with app.app_context():
        connection = db.session().connection()
        maker = connection.execute(text("SELECT id FROM users WHERE username = 'lab'")).scalar_one()
        unit = connection.execute(text("SELECT id FROM storage_units WHERE code = 'LN2-01'")).scalar_one()
        ids = _next_ids(connection, tables)
        first_box = connection.execute(text("SELECT COUNT(*) FROM storage_boxes WHERE code LIKE 'BB-%'")).scalar_one()
        rows: dict[str, list[dict]] = {t: [] for t in tables}
        per_box = BOX * BOX
        boxes = -(-count // per_box)
        for b in range(boxes):
            number = first_box + b
            if number % BOXES_PER_RACK == 0 or b == 0:
                location = ids["storage_locations"] + len(rows["storage_locations"])
                rows["storage_locations"].append({"id": location, "unit_id": unit, "code": f"RB-{number:05d}",
                                                  "name": f"Rack {number}", "kind": "rack", "created_at": now})
            rows["storage_boxes"].append({"id": ids["storage_boxes"] + b, "location_id": location,
                                          "code": f"BB-{number:05d}", "name": f"Box {number}", "rows": BOX,
                                          "columns": BOX, "created_at": now})
        for n in range(count):
            bag_id, event = ids["bags"] + n, ids["custody_events"] + 2 * n
            box_id, place = ids["storage_boxes"] + n // per_box, n % per_box
            din = format_din("A9997", 25, first_box * per_box + n + 1)
            rows["bags"].append({"id": bag_id, "bag_code": f"{din}-D0002VA0", "din": din, "product_code": "D0002",
                                 "collection_type": "V", "division": "A0", "kind": "placebo", "lot_id": None,
                                 "saline_lot": "NS-BULK", "volume_ml": 50.0, "filled_at": now,
                                 "expires_at": now + timedelta(days=30), "quality_status": "released",
                                 "custody_state": "in_storage", "created_by": maker, "created_at": now})
            for e, (name, before, after) in enumerate((("filled", None, "at_lab"), ("stored", "at_lab", "in_storage"))):
                rows["custody_events"].append({"id": event + e, "item_type": "bag", "item_id": bag_id, "event": name,
                                               "from_state": before, "to_state": after, "location": "bulk",
                                               "condition": "intact", "excursion": False,
                                               "occurred_at": now + timedelta(minutes=e), "recorded_by": maker,
                                               "recorded_at": now})
            rows["placements"].append({"id": ids["placements"] + n, "item_type": "bag", "item_id": bag_id,
                                       "box_id": box_id, "row": place // BOX + 1, "column": place % BOX + 1,
                                       "placed_at": now + timedelta(minutes=1), "placed_by": maker,
                                       "put_event_id": event + 1})
        for name in tables:
            for start in range(0, len(rows[name]), 2000):
                connection.execute(insert(metadata.tables[name]), rows[name][start:start + 2000])
        db.commit()


def grown_copy(app, url: str):
    from cellchain import create_app
    from cellchain.core import db

    app.extensions[db.EXTENSION].dispose()
    shutil.copyfile(Path(app.config["DATABASE_URL"].removeprefix("sqlite:///")), Path(url.removeprefix("sqlite:///")))
    large = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "AUDIT_CHECKPOINT_DIR": checkpoint_dir(url)})
    bulk_containers(large, CONTAINERS - stored_count(large))
    return large


def report(sizes: dict[str, int], timed: dict[str, dict[str, dict]], pages: dict[str, str]) -> dict:
    return compare(timed, pages, f"{sizes['small']:,} stored", f"{sizes['large']:,} stored")


def measure(small_url: str, large_url: str) -> None:
    small = make_app(small_url)
    pages = measured_records(small)
    bulk_containers(small, SMALL - stored_count(small))
    with stopwatch() as grown:
        large = grown_copy(small, large_url)
    sizes = {"small": stored_count(small), "large": stored_count(large)}
    timed = time_pages({"small": small, "large": large}, pages, REQUESTS)
    verdicts = report(sizes, timed, pages)
    print(f"stored containers: {sizes['small']} / {sizes['large']} (grown in {grown['seconds']:.0f} s)")
    write_result("storage", {"requests_per_page": REQUESTS, "stored": sizes, "pages": timed, "verdicts": verdicts,
                             "target_ratio": TARGET_RATIO,
                             "met": all(v["met"] and v["same_statements"] for v in verdicts.values())})


def main() -> None:
    urls = [scratch_sqlite_url("storage"), scratch_sqlite_url("storage-large")]
    try:
        measure(*urls)
    finally:
        for url in urls:
            shutil.rmtree(Path(url.removeprefix("sqlite:///")).parent, ignore_errors=True)


if __name__ == "__main__":
    main()
