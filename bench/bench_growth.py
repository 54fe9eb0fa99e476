"""Do the pages people open every day slow down as the site's records grow?

Times the record pages (the lot page /lab/lots/<id>, the bag page /lab/bags/<id>, the chain-of-custody
report /reports/bags/<code>/custody), every list page and its API list (bags, lots, deviations, subjects,
excursions, the audit trail, storage, banks, labels, notices ...: LIST_PAGES), the reports (bag
accountability, dosing) and each role's home dashboard (DASHBOARDS) with 100 lots, then again after the
database has grown to 10,000 lots and a million more audit entries. Target: the larger database answers
within 1.5 times the smaller one's latency (median of the requests), for each page, with the same
number of SQL statements (a list is read a page at a time, a summary counted in SQL).

The measured records are made through the services (the demo: cords, lots, passages, QC, release,
bags; then the bag's hand-overs to the ward and a bedside check). The other lots are inserted in bulk
with plain SQL for speed, each with its cord, passages, batch steps, QC results, bags and custody
events, so every table the pages read grows with them; the audit entries extend the real hash chain
in bulk (bench.common.extend_chain), and the chain still verifies at the end. Requests go
through the app's test client, logged in as the auditor; the SQL statements of each request are
counted too (tests/ward/test_query_counts.py holds that count fixed).

Environment: BENCH_GROWTH_LOTS (default 10000), BENCH_GROWTH_AUDIT (default 1000000),
BENCH_GROWTH_REQUESTS (per page and size, default 40). Writes bench/results/growth.json (SQLite).

``--only "lab home,accountability"`` times only the pages of those names (as the table prints them) and
writes bench/results/growth-only.json, so the full run's figures stay as they were.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import checkpoint_dir, extend_chain, make_app, scratch_sqlite_url, stopwatch, table, write_result
from sqlalchemy import event, insert, text

from cellchain.identifiers.scans import wristband_data

LOTS = int(os.environ.get("BENCH_GROWTH_LOTS", "10000"))
AUDIT = int(os.environ.get("BENCH_GROWTH_AUDIT", "1000000"))
REQUESTS = int(os.environ.get("BENCH_GROWTH_REQUESTS", "40"))
SMALL_LOTS = 100
TARGET_RATIO = 1.5
PASSWORD = "cellchain-demo"  # the published demo password
QC_VALUES = (("viability", "94", "%"), ("cd73", "98.5", "%"), ("cd34", "0.4", "%"), ("sterility", "negative", ""),
             ("endotoxin", "0.8", "EU/kg"))


# --- the measured records, through the services ---------------------------------------------------------

LIST_PAGES: dict[str, tuple[str, str]] = {
    "lab home": ("lab", "/lab/"),
    "bag list": ("auditor", "/lab/bags"),
    "bag list, released": ("auditor", "/lab/bags?status=released"),
    "API bags": ("auditor", "/api/v1/bags"),
    "API bags, 200": ("auditor", "/api/v1/bags?limit=200"),
    "QA review queue": ("qa", "/qa/"),
    "deviations": ("qa", "/qa/deviations"),
    "API deviations": ("auditor", "/api/v1/deviations"),
    "holds": ("qa", "/qa/holds"),
    "QC work list": ("qc", "/qc/"),
    "trial subjects": ("coordinator", "/trial/"),
    "API subjects": ("auditor", "/api/v1/subjects"),
    "ward": ("nurse", "/ward/"),
    "audit trail": ("auditor", "/audit/"),
    "storage": ("auditor", "/storage/"),
    "API storage units": ("auditor", "/api/v1/storage/units"),
    "banks": ("auditor", "/banks/"),
    "API banks": ("auditor", "/api/v1/banks"),
    "labels": ("auditor", "/labels/"),
    "inbox": ("qa", "/inbox/"),
    "API inbox": ("qa", "/api/v1/inbox"),
    "excursions": ("auditor", "/reports/excursions"),
    "API excursions": ("auditor", "/api/v1/excursions"),
    "accountability": ("auditor", "/reports/accountability"),
    "dosing summary": ("auditor", "/reports/dosing"),
}
"""Every list page, API list and report: (who opens it, its address)."""
DASHBOARDS: dict[str, tuple[str, str]] = {
    f"home ({user})": (user, "/") for user in ("lab", "qc", "qa", "coordinator", "nurse", "auditor", "investigator",
                                                 "admin")}
"""The home page as each role sees it: a panel per role, each counted in SQL or a first page."""


def measured_records(app) -> dict[str, str]:
    """The demo (cords, lots, QC, a released lot, the trial and its allocations, the ward), then a bag of
    the released lot on the ward (moved there here if the demo left it in the lab) checked at the bedside."""
    from sqlmodel import select

    from cellchain.core import db
    from cellchain.demo import lab as demo_lab
    from cellchain.demo import loader as demo
    from cellchain.manufacturing.models import Bag
    from cellchain.people import accounts
    from cellchain.people.accounts import Policy
    from cellchain.trial.models import Allocation, Subject
    from cellchain.ward import bedside, custody

    with app.app_context():
        session = db.session()
        demo.load(session, policy=Policy(hash_method="scrypt:1024:8:1"), config=app.config)
        lot = demo_lab.demo_lot(session, "to_release")
        bags = session.exec(select(Bag).where(Bag.lot_id == lot.id).order_by(Bag.id)).all()
        bag = next((b for b in bags if b.custody_state == "at_ward"), bags[0])
        for event_name, by in (("dispatched", "lab"), ("received_at_ward", "nurse")):
            if bag.custody_state in ("at_lab", "in_storage", "dispatched"):
                custody.record_handover(session, actor=accounts.find_user(session, by), record=bag,
                                        ranges=app.config["TEMPERATURE_RANGES"],
                                        handover=custody.Handover(event=event_name, location="ward 5",
                                                                  temperature_c=5.0))
        subject = session.exec(select(Subject).join(Allocation, Allocation.subject_id == Subject.id)
                               .where(Allocation.bag_id == bag.id)).first()
        bedside.verify(session, actor=accounts.find_user(session, "nurse"), bag=bag.bag_code,
                       wristband=wristband_data(subject.subject_code if subject else "SUBJ-0003"),
                       protocol=bedside.Protocol.from_config(app.config))
        db.commit()
        return {"lot page": f"/lab/lots/{lot.lot_number}", "bag page": f"/lab/bags/{bag.bag_code}",
                "custody report": f"/reports/bags/{bag.bag_code}/custody"}


# --- the bulk: lots and what hangs off them, in plain SQL ---------------------------------------------

def _next_ids(connection, tables: tuple[str, ...]) -> dict[str, int]:
    return {t: connection.execute(text(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {t}")).scalar_one() for t in tables}


def _lot_rows(n: int, ids: dict[str, int], maker: int, now: datetime) -> dict[str, list[dict]]:
    """Cord ``n``'s rows: collection, lot, 3 passages, 5 batch steps, 5 QC results, 3 bags, 6 custody events.

    ``ids`` are each table's first free id less ``n``'s start, so row ids follow on from what is there."""
    from cellchain.identifiers.isbt128 import format_din

    din, collected = format_din("A9998", 25, n + 1), now - timedelta(days=40 + n % 300)
    cid, lid = ids["collections"] + n, ids["lots"] + n
    rows: dict[str, list[dict]] = {
        "collections": [{"id": cid, "din": din, "donor_code": f"BULK-{n:06d}", "collected_at": collected,
                         "site": "Delivery suite", "consent_obtained": True, "screening": {"HBV": "negative"},
                         "medical_history_ok": True, "eligibility": "eligible", "eligibility_reasons": [],
                         "custody_state": "at_lab", "created_by": maker, "created_at": collected}],
        "lots": [{"id": lid, "lot_number": din, "din": din, "purpose": "dosing", "first_passage": 0,
                  "starting_doublings": 0.0, "collection_id": cid, "status": "released", "spec_version": "UCMSC-1",
                  "harvested_cells": 240_000_000, "harvested_at": collected + timedelta(days=12),
                  "formulated_cells_per_ml": 1e6, "formulated_volume_ml": 210.0, "created_by": maker,
                  "created_at": collected}],
        "passages": [{"id": ids["passages"] + 3 * n + p, "lot_id": lid, "number": p, "seeded_cells": 1_000_000,
                      "harvested_cells": 8_000_000, "viability_pct": 95.0,
                      "seeded_at": collected + timedelta(days=3 * p),
                      "harvested_at": collected + timedelta(days=3 * p + 2), "population_doublings": 3.0,
                      "cumulative_doublings": 3.0 * (p + 1), "recorded_by": maker, "recorded_at": collected}
                     for p in range(3)],
        "batch_steps": [{"id": ids["batch_steps"] + 5 * n + s, "lot_id": lid, "step_key": key, "details": {},
                         "performed_by": maker, "performed_at": collected + timedelta(days=s), "recorded_at": collected}
                        for s, key in enumerate(("tissue_processing", "passage:0", "passage:1", "passage:2", "fill"))],
        "qc_results": [{"id": ids["qc_results"] + 5 * n + q, "lot_id": lid, "test_code": code, "value": value,
                        "within_spec": True, "limit_text": "within", "unit": unit, "method": "", "spec_version":
                        "UCMSC-1", "recorded_by": maker, "recorded_at": collected, "sample_stage": "final_product",
                        "sampled_at": collected, "after_release": False} for q, (code, value, unit)
                       in enumerate(QC_VALUES)],
    }
    rows["bags"], rows["custody_events"] = _bag_rows(n, din, lid, ids, maker, collected + timedelta(days=13))
    return rows


def _bag_rows(n: int, din: str, lot_id: int, ids: dict[str, int], maker: int,
              filled: datetime) -> tuple[list[dict], list[dict]]:
    """Cord ``n``'s three bags, each filled and stored (two custody events)."""
    bags, events = [], []
    for b, division in enumerate(("A0", "B0", "C0")):
        bag_id = ids["bags"] + 3 * n + b
        bags.append({"id": bag_id, "bag_code": f"{din}-D0001V{division}", "din": din, "product_code": "D0001",
                     "collection_type": "V", "division": division, "kind": "ucmsc", "lot_id": lot_id,
                     "volume_ml": 70.0, "total_cells": 70_000_000, "anticoagulant": "heparin",
                     "anticoagulant_lot": "HEP1", "filled_at": filled, "expires_at": filled + timedelta(hours=48),
                     "quality_status": "released", "custody_state": "in_storage", "created_by": maker,
                     "created_at": filled})
        for e, (name, before, after) in enumerate((("filled", None, "at_lab"), ("stored", "at_lab", "in_storage"))):
            events.append({"id": ids["custody_events"] + 6 * n + 2 * b + e, "item_type": "bag", "item_id": bag_id,
                           "event": name, "from_state": before, "to_state": after, "location": "lab",
                           "condition": "intact", "excursion": False, "occurred_at": filled + timedelta(hours=e),
                           "recorded_by": maker, "recorded_at": filled})
    return bags, events


def bulk_lots(app, count: int) -> None:
    """``count`` more lots, written 500 cords at a time with executemany."""
    from cellchain.core import db
    from cellchain.tables import metadata

    tables = ("collections", "lots", "passages", "batch_steps", "qc_results", "bags", "custody_events")
    now = datetime.now(UTC)
    with app.app_context():
        connection = db.session().connection()
        maker = connection.execute(text("SELECT id FROM users WHERE username = 'lab'")).scalar_one()
        first = connection.execute(text("SELECT COUNT(*) FROM collections WHERE donor_code LIKE 'BULK-%'")).scalar_one()
        per_cord = {"collections": 1, "lots": 1, "passages": 3, "batch_steps": 5, "qc_results": 5, "bags": 3,
                    "custody_events": 6}
        ids = {t: i - per_cord[t] * first for t, i in _next_ids(connection, tables).items()}
        for chunk in range(first, first + count, 500):
            batch: dict[str, list[dict]] = {t: [] for t in tables}
            for n in range(chunk, min(chunk + 500, first + count)):
                for name, rows in _lot_rows(n, ids, maker, now).items():
                    batch[name].extend(rows)
            for name in tables:
                connection.execute(insert(metadata.tables[name]), batch[name])
        db.commit()


def _growth_entry(seq: int):
    from cellchain.core.canonical import canonical_json

    kinds = ("bag_custody", "lot", "passage", "qc_result", "batch_step", "bedside_check")
    at = f"2025-{1 + seq // 2_600_000 % 12:02d}-{1 + seq // 90_000 % 28:02d}T08:00:00.{seq % 1_000_000:06d}Z"
    return at, "lab", kinds[seq % len(kinds)], str(seq % 30_000), "record", None, \
        canonical_json({"state": "in_storage", "n": seq})


# --- timing ------------------------------------------------------------------------------------------------

class Visitor:
    """One person's test client: logged in for the pages, with a bearer token for the API."""

    def __init__(self, app, username: str) -> None:
        self.client = app.test_client()
        login = self.client.post("/auth/login", data={"username": username, "password": PASSWORD,
                                                       "csrf_token": _csrf(self.client)})
        assert login.status_code in (302, 303), login.status_code
        token = self.client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
        self.headers = {"Authorization": f"Bearer {token.get_json()['token']}"}

    def get(self, url: str):
        return self.client.get(url, headers=self.headers if url.startswith("/api/") else None)


def logged_in(app) -> Visitor:
    return Visitor(app, "auditor")


def statements_of(app, client: Visitor, url: str) -> int:
    from cellchain.core import db

    seen: list[str] = []

    def count(_conn, _cursor, statement, *_rest) -> None:
        seen.append(statement)

    engine = app.extensions[db.EXTENSION]
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200, url
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def _lap(client: Visitor, url: str) -> float:
    start = time.perf_counter()
    response = client.get(url)
    lap = time.perf_counter() - start
    assert response.status_code == 200, url
    return lap


def time_pages(apps: dict[str, object], pages: dict[str, tuple[str, str] | str],
               requests: int) -> dict[str, dict[str, dict]]:
    """Median and p95 latency of each page on each database, the two databases taking turns request by
    request (so a busy moment on the machine falls on both alike), the statements of one request, and
    the size of its answer. ``pages``: name -> (who opens it, its address), or the address the auditor opens."""
    visitors: dict[tuple[str, str], Visitor] = {}
    results: dict[str, dict[str, dict]] = {size: {} for size in apps}
    for name, page in pages.items():
        user, url = ("auditor", page) if isinstance(page, str) else page
        clients = {size: visitors.setdefault((size, user), Visitor(app, user)) for size, app in apps.items()}
        laps: dict[str, list[float]] = {size: [] for size in apps}
        for _ in range(5):
            for client in clients.values():
                _lap(client, url)
        for _ in range(requests):
            for size, client in clients.items():
                laps[size].append(_lap(client, url))
        for size, app in apps.items():
            ordered = sorted(laps[size])
            results[size][name] = {"median_ms": round(statistics.median(ordered) * 1000, 2),
                                   "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2),
                                   "statements": statements_of(app, clients[size], url),
                                   "bytes": len(clients[size].get(url).data)}
    return results


def _csrf(client) -> str:
    """The signed token the login page's form carries (the session holds only its unsigned secret)."""
    page = client.get("/auth/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def counts(app) -> dict[str, int]:
    from cellchain.core import db

    with app.app_context():
        connection = db.session().connection()
        return {t: connection.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
                for t in ("lots", "bags", "custody_events", "audit_entries")}


def chain_ok(app) -> bool:
    from cellchain.audit import trail
    from cellchain.core import db

    with app.app_context():
        return trail.verify_chain(db.session()).ok


def grown_copy(app, url: str):
    """A copy of the small database (same measured records, same ids) grown to LOTS lots and AUDIT more entries."""
    from cellchain import create_app
    from cellchain.core import db

    app.extensions[db.EXTENSION].dispose()
    source = Path(app.config["DATABASE_URL"].removeprefix("sqlite:///"))
    target = Path(url.removeprefix("sqlite:///"))
    shutil.copyfile(source, target)
    large = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "AUDIT_CHECKPOINT_DIR": checkpoint_dir(url)})
    bulk_lots(large, LOTS - counts(large)["lots"])
    extend_chain(large, AUDIT, _growth_entry)
    return large


def compare(timed: dict[str, dict[str, dict]], pages: dict, small: str, large: str) -> dict:
    """Each page's median at the small and the large size, their ratio against the target, whether the
    statement count stayed the same, and the answer's size; printed as a table, returned as verdicts."""
    rows, verdicts = [], {}
    for name in pages:
        before, after = timed["small"][name], timed["large"][name]
        ratio = after["median_ms"] / before["median_ms"]
        verdicts[name] = {"ratio": round(ratio, 3), "met": ratio <= TARGET_RATIO,
                          "same_statements": before["statements"] == after["statements"]}
        met = verdicts[name]["met"] and verdicts[name]["same_statements"]
        rows.append((name, f"{before['median_ms']:.1f}", f"{after['median_ms']:.1f}", f"{ratio:.2f}",
                     f"{before['statements']} / {after['statements']}",
                     f"{before.get('bytes', 0) / 1024:.0f} / {after.get('bytes', 0) / 1024:.0f}",
                     "met" if met else "MISSED"))
    print(table(rows, ("page", f"median ms, {small}", f"median ms, {large}", f"ratio (<= {TARGET_RATIO})",
                       "statements", "KiB", "")))
    return verdicts


def report(sizes: dict[str, dict], timed: dict[str, dict[str, dict]], pages: dict) -> dict:
    return compare(timed, pages, f"{sizes['small']['lots']:,} lots", f"{sizes['large']['lots']:,} lots")


def main() -> None:
    parser = argparse.ArgumentParser(description="Time the pages at 100 and at 10,000 lots.")
    parser.add_argument("--only", default="", help="comma-separated page names: time only these")
    only = [name.strip() for name in parser.parse_args().only.split(",") if name.strip()]
    urls = [scratch_sqlite_url("growth"), scratch_sqlite_url("growth-large")]
    try:
        measure(*urls, only=only)
    finally:
        for url in urls:
            shutil.rmtree(Path(url.removeprefix("sqlite:///")).parent, ignore_errors=True)


def chosen(pages: dict, only: list[str]) -> dict:
    """The pages named in ``only`` (all of them when it is empty); an unknown name stops the run at once."""
    unknown = [name for name in only if name not in pages]
    if unknown:
        raise SystemExit(f"no page named {', '.join(unknown)}; the pages are: {', '.join(pages)}")
    return {name: page for name, page in pages.items() if not only or name in only}


def measure(small_url: str, large_url: str, *, only: list[str] = ()) -> None:
    small = make_app(small_url)
    pages = chosen({**measured_records(small), **LIST_PAGES, **DASHBOARDS}, list(only))
    bulk_lots(small, SMALL_LOTS - counts(small)["lots"])
    with stopwatch() as grown:
        large = grown_copy(small, large_url)
    sizes = {"small": counts(small), "large": counts(large)}
    timed = time_pages({"small": small, "large": large}, pages, REQUESTS)
    verdicts = report(sizes, timed, pages)
    ok = chain_ok(large)
    print(f"rows: {sizes['small']} / {sizes['large']} (grown in {grown['seconds']:.0f} s); "
          f"the grown audit chain verifies: {ok}")
    met = ok and all(v["met"] and v["same_statements"] for v in verdicts.values())
    write_result("growth-only" if only else "growth", {
        "requests_per_page": REQUESTS, "rows": sizes, "pages": timed, "verdicts": verdicts,
        "target_ratio": TARGET_RATIO, "audit_chain_ok": ok, "met": met})


if __name__ == "__main__":
    main()
