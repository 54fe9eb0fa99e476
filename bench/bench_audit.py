"""How fast `audit-verify` walks the chain on SQLite. Target: at least 200,000 entries per second.

Builds a chain of N entries (default 1,000,000; BENCH_AUDIT_ENTRIES to change) with the real hashing
code, written in bulk, then times the real verify service over it, three runs, best and median.
"""

from __future__ import annotations

import os
import statistics
import time

from common import extend_chain, make_app, scratch_sqlite_url, stopwatch, table, write_result

TARGET = 200_000


def _release_entry(seq: int):
    """A bag's release, as the chain holds a million of them in a busy year."""
    from cellchain.core.canonical import canonical_json

    at = f"2026-11-25T08:{(seq // 60000) % 60:02d}:{(seq // 1000) % 60:02d}.{seq % 1_000_000:06d}Z"
    new = canonical_json({"status": "released", "bag": f"A999926{seq:06d}-D0001VA0", "n": seq})
    return at, "qa", "bag", str(seq), "update", '{"status":"quarantine"}', new


def main() -> None:
    count = int(os.environ.get("BENCH_AUDIT_ENTRIES", "1000000"))
    app = make_app(scratch_sqlite_url("audit"))
    with stopwatch() as built:
        extend_chain(app, count, _release_entry)
    from cellchain.audit import trail
    from cellchain.core import db

    runs = []
    for _ in range(3):
        with app.app_context():
            start = time.perf_counter()
            report = trail.verify_chain(db.session())
            runs.append(time.perf_counter() - start)
        assert report.ok and report.entries == count, report
    best, median = min(runs), statistics.median(runs)
    rate = count / median
    print(table([(f"{count:,}", f"{best:.2f}", f"{median:.2f}", f"{rate:,.0f}", f"{TARGET:,}",
                  "met" if rate >= TARGET else "MISSED")],
                ("entries", "best s", "median s", "entries/s (median)", "target", "")))
    print(f"(chain of {count:,} built in {built['seconds']:.1f} s)")
    write_result("audit_verify", {"entries": count, "runs_s": runs, "entries_per_s_median": rate,
                                  "target_entries_per_s": TARGET, "met": rate >= TARGET})


if __name__ == "__main__":
    main()
