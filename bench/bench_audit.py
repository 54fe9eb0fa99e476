"""How fast `audit-verify` walks the chain on SQLite: links, hashes and keyed seals of every entry, and
the signed checkpoints. Targets: the whole chain at 250,000 entries per second or more; an incremental
verify of the last 10,000 entries (from a checkpoint) in under one second.

Builds a chain of N entries (default 1,000,000; BENCH_AUDIT_ENTRIES to change) with the real hashing
and sealing code, written in bulk, then times the real verify service over it, three runs, best and
median; then writes a checkpoint 10,000 entries before the head (as the app writes them) and times the
incremental verify from it the same way.
"""

from __future__ import annotations

import os
import statistics
import time

from common import extend_chain, make_app, scratch_sqlite_url, stopwatch, table, write_result

TARGET = 250_000
INCREMENTAL_ENTRIES = 10_000
INCREMENTAL_TARGET_S = 1.0
# This process's own CPU seconds per run, beside the wall clock: on a shared machine the two differ.
CPU_RUNS: dict[bool, list[float]] = {}


def _release_entry(seq: int):
    """A bag's release, as the chain holds a million of them in a busy year."""
    from cellchain.core.canonical import canonical_json

    at = f"2026-11-25T08:{(seq // 60000) % 60:02d}:{(seq // 1000) % 60:02d}.{seq % 1_000_000:06d}Z"
    new = canonical_json({"status": "released", "bag": f"A999926{seq:06d}-D0001VA0", "n": seq})
    return at, "qa", "bag", str(seq), "update", '{"status":"quarantine"}', new


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
    app = make_app(scratch_sqlite_url("audit"))
    with stopwatch() as built:
        extend_chain(app, count, _release_entry)

    runs, report = _timed(app, incremental=False)
    assert report.ok and report.entries == count, report
    best, median = min(runs), statistics.median(runs)
    rate = count / median

    back = min(INCREMENTAL_ENTRIES, count - 1)
    since = _checkpoint_before_head(app, back)
    inc_runs, inc_report = _timed(app, incremental=True)
    assert inc_report.ok and inc_report.checked_from == since and inc_report.entries == back + 1, inc_report
    inc_median = statistics.median(inc_runs)
    print(table([("whole chain", f"{count:,}", f"{best:.2f}", f"{median:.2f}", f"{rate:,.0f} entries/s",
                  f">= {TARGET:,} entries/s", "met" if rate >= TARGET else "MISSED"),
                 (f"since checkpoint {since:,}", f"{back + 1:,}", f"{min(inc_runs):.3f}", f"{inc_median:.3f}",
                  f"{(back + 1) / inc_median:,.0f} entries/s", f"< {INCREMENTAL_TARGET_S:.0f} s",
                  "met" if inc_median < INCREMENTAL_TARGET_S else "MISSED")],
                ("verify", "entries", "best s", "median s", "rate (median)", "target", "")))
    cpu_rate = count / statistics.median(CPU_RUNS[False])
    print(f"(chain of {count:,} built in {built['seconds']:.1f} s; links, hashes and keyed seals checked; "
          f"whole chain on this process's CPU time: {cpu_rate:,.0f} entries/s, load average {os.getloadavg()[0]:.1f})")
    write_result("audit_verify", {"entries": count, "runs_s": runs, "entries_per_s_median": rate,
                                  "target_entries_per_s": TARGET, "met": rate >= TARGET,
                                  "cpu_runs_s": CPU_RUNS[False], "entries_per_cpu_s_median": cpu_rate,
                                  "load_average": os.getloadavg()[0],
                                  "incremental": {"from_seq": since, "entries": back + 1, "runs_s": inc_runs,
                                                  "median_s": inc_median, "target_s": INCREMENTAL_TARGET_S,
                                                  "met": inc_median < INCREMENTAL_TARGET_S}})


if __name__ == "__main__":
    main()
