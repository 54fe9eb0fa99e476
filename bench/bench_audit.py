"""How fast `audit-verify` walks the chain on SQLite: links, hashes and keyed seals of every entry, and
the signed checkpoints. Targets: the whole chain at 250,000 entries per second or more; an incremental
verify of the last 10,000 entries (from a checkpoint) in under one second. Beside it, reconciliation (every
regulated row against the newest values its entries recorded): 100,000 bags (BENCH_RECONCILE_ROWS), each
named by ten entries of the chain, at 10,000 records (100,000 entries) per second or more.

Builds a chain of N entries (default 1,000,000; BENCH_AUDIT_ENTRIES to change) with the real hashing
and sealing code, written in bulk, then times the real verify service over it, three runs, best and
median; then writes a checkpoint 10,000 entries before the head (as the app writes them) and times the
incremental verify from it the same way.
"""

from __future__ import annotations

import functools
import os
import statistics
import time

from common import extend_chain, make_app, scratch_sqlite_url, stopwatch, table, write_result

TARGET = 250_000
INCREMENTAL_ENTRIES = 10_000
INCREMENTAL_TARGET_S = 1.0
RECONCILE_TARGET = 10_000  # records per second
# This process's own CPU seconds per run, beside the wall clock: on a shared machine the two differ.
CPU_RUNS: dict[bool | str, list[float]] = {}


def _bag_code(bag: int) -> str:
    return f"A999926{bag:06d}-D0001VA0"


def _release_entry(seq: int, *, bags: int):
    """A bag's release, as the chain holds a million of them in a busy year; entry n names bag n mod ``bags``,
    so every bag of the reconciliation has entries all along the chain."""
    from cellchain.core.canonical import canonical_json

    bag = seq % bags + 1
    at = f"2026-11-25T08:{(seq // 60000) % 60:02d}:{(seq // 1000) % 60:02d}.{seq % 1_000_000:06d}Z"
    new = canonical_json({"quality_status": "released", "bag_id": _bag_code(bag), "n": seq})
    return at, "qa", "bag", str(bag), "update", '{"quality_status":"quarantine"}', new


def _bags(app, count: int) -> None:
    """``count`` released placebo bags, the rows the chain's entries name, written in bulk."""
    from sqlalchemy import text

    from cellchain.core import db

    with app.app_context():
        connection = db.session().connection()
        connection.execute(text("INSERT INTO users (id, username, full_name, password_hash, active, failed_logins, "
                                "auth_version, created_at) VALUES (1, 'bench', 'Bench', 'x', 1, 0, 1, "
                                "'2026-11-01 08:00:00')"))
        rows = [{"id": n, "code": _bag_code(n), "din": f"A999926{n:06d}"} for n in range(1, count + 1)]
        connection.execute(text(
            "INSERT INTO bags (id, bag_code, din, product_code, collection_type, division, kind, volume_ml, filled_at, "
            "expires_at, quality_status, preservation, created_by, created_at) VALUES (:id, :code, :din, 'E0001', "
            "'V', 'A0', 'placebo', 100.0, '2026-11-01 08:00:00', '2027-11-01 08:00:00', 'released', "
            "'fresh', 1, '2026-11-01 08:00:00')"), rows)
        db.commit()


def _timed_reconcile(app) -> tuple[list[float], object]:
    from cellchain.audit import reconcile
    from cellchain.core import db

    runs, report = [], None
    for _ in range(3):
        with app.app_context():
            start, cpu = time.perf_counter(), time.process_time()
            report = reconcile.reconcile(db.session())
            runs.append(time.perf_counter() - start)
            CPU_RUNS.setdefault("reconcile", []).append(time.process_time() - cpu)
    return runs, report


def _timed(app, *, incremental: bool) -> tuple[list[float], object]:
    from cellchain.audit import trail
    from cellchain.core import db

    runs, report = [], None
    for _ in range(3):
        with app.app_context():
            start, cpu = time.perf_counter(), time.process_time()
            report = trail.verify_chain(db.session(), incremental=incremental)
            runs.append(time.perf_counter() - start)
            CPU_RUNS.setdefault(incremental, []).append(time.process_time() - cpu)
    return runs, report


def _checkpoint_before_head(app, back: int) -> int:
    """A signed checkpoint of the entry ``back`` entries before the head, as the app writes one."""
    from sqlalchemy import text

    from cellchain.audit import checkpoints
    from cellchain.core import db

    with app.app_context():
        connection = db.session().connection()
        seq, digest = connection.execute(text("SELECT seq, hash FROM audit_entries WHERE seq = "
                                              "(SELECT seq FROM audit_head) - :back"), {"back": back}).one()
        checkpoints.write(app.config, seq, digest, force=True)
    return seq


def main() -> None:
    count = int(os.environ.get("BENCH_AUDIT_ENTRIES", "1000000"))
    bags = min(int(os.environ.get("BENCH_RECONCILE_ROWS", "100000")), count)
    app = make_app(scratch_sqlite_url("audit"))
    with stopwatch() as built:
        _bags(app, bags)
        extend_chain(app, count, functools.partial(_release_entry, bags=bags))

    runs, report = _timed(app, incremental=False)
    assert report.ok and report.entries == count, report
    best, median = min(runs), statistics.median(runs)
    rate = count / median

    back = min(INCREMENTAL_ENTRIES, count - 1)
    since = _checkpoint_before_head(app, back)
    inc_runs, inc_report = _timed(app, incremental=True)
    assert inc_report.ok and inc_report.checked_from == since and inc_report.entries == back + 1, inc_report
    inc_median = statistics.median(inc_runs)
    rec_runs, records = _timed_reconcile(app)
    assert records.ok and records.rows == bags + 1 and records.fields == 2 * bags, records  # and the user
    rec_rate = bags / statistics.median(rec_runs)
    print(table([("whole chain", f"{count:,}", f"{best:.2f}", f"{median:.2f}", f"{rate:,.0f} entries/s",
                  f">= {TARGET:,} entries/s", "met" if rate >= TARGET else "MISSED"),
                 (f"since checkpoint {since:,}", f"{back + 1:,}", f"{min(inc_runs):.3f}", f"{inc_median:.3f}",
                  f"{(back + 1) / inc_median:,.0f} entries/s", f"< {INCREMENTAL_TARGET_S:.0f} s",
                  "met" if inc_median < INCREMENTAL_TARGET_S else "MISSED"),
                 ("records against the trail", f"{bags:,} bags", f"{min(rec_runs):.2f}",
                  f"{statistics.median(rec_runs):.2f}", f"{rec_rate:,.0f} records/s",
                  f">= {RECONCILE_TARGET:,} records/s",
                  "met" if rec_rate >= RECONCILE_TARGET else "MISSED")],
                ("verify", "entries", "best s", "median s", "rate (median)", "target", "")))
    cpu_rate = count / statistics.median(CPU_RUNS[False])
    print(f"(chain of {count:,} built in {built['seconds']:.1f} s; links, hashes and keyed seals checked; "
          f"whole chain on this process's CPU time: {cpu_rate:,.0f} entries/s, records against the trail "
          f"{bags / statistics.median(CPU_RUNS['reconcile']):,.0f} records/s; load average {os.getloadavg()[0]:.1f})")
    write_result("audit_verify", {"entries": count, "runs_s": runs, "entries_per_s_median": rate,
                                  "target_entries_per_s": TARGET, "met": rate >= TARGET,
                                  "cpu_runs_s": CPU_RUNS[False], "entries_per_cpu_s_median": cpu_rate,
                                  "load_average": os.getloadavg()[0],
                                  "incremental": {"from_seq": since, "entries": back + 1, "runs_s": inc_runs,
                                                  "median_s": inc_median, "target_s": INCREMENTAL_TARGET_S,
                                                  "met": inc_median < INCREMENTAL_TARGET_S},
                                  "reconcile": {"records": bags, "entries": count, "runs_s": rec_runs,
                                                "records_per_s_median": rec_rate,
                                                "cpu_runs_s": CPU_RUNS["reconcile"],
                                                "target_records_per_s": RECONCILE_TARGET,
                                                "met": rec_rate >= RECONCILE_TARGET}})


if __name__ == "__main__":
    main()
