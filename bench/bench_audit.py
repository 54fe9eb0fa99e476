"""How fast `audit-verify` walks the chain on SQLite. Target: at least 200,000 entries per second.

Builds a chain of N entries (default 1,000,000; BENCH_AUDIT_ENTRIES to change) with the real hashing
code, written in bulk, then times the real verify service over it, three runs, best and median.
"""

from __future__ import annotations

import os
import statistics
import time

from common import make_app, scratch_sqlite_url, stopwatch, table, write_result

TARGET = 200_000


def build_chain(app, count: int) -> None:
    from sqlalchemy import text

    from cellchain import db
    from cellchain.domain.audit_chain import GENESIS_HASH, entry_hash
    from cellchain.domain.canonical import canonical_json

    with app.app_context():
        connection = db.session().connection()
        prev, batch = GENESIS_HASH, []
        for seq in range(1, count + 1):
            at = f"2026-11-25T08:{(seq // 60000) % 60:02d}:{(seq // 1000) % 60:02d}.{seq % 1_000_000:06d}Z"
            new = canonical_json({"status": "released", "bag": f"A999926{seq:06d}-D0001VA0", "n": seq})
            digest = entry_hash(seq, at, "qa", "bag", str(seq), "update", '{"status":"quarantine"}', new, None, prev)
            batch.append({"seq": seq, "at": at, "new": new, "prev": prev, "hash": digest})
            prev = digest
            if len(batch) == 50_000 or seq == count:
                connection.execute(text(
                    "INSERT INTO audit_entries (seq, recorded_at, actor, record_type, record_id, action, old_values,"
                    " new_values, reason, prev_hash, hash) VALUES (:seq, :at, 'qa', 'bag', :seq, 'update',"
                    " '{\"status\":\"quarantine\"}', :new, NULL, :prev, :hash)"), batch)
                batch = []
        connection.execute(text("UPDATE audit_head SET seq = :seq, hash = :hash WHERE id = 1"),
                           {"seq": count, "hash": prev})
        db.commit()


def main() -> None:
    count = int(os.environ.get("BENCH_AUDIT_ENTRIES", "1000000"))
    app = make_app(scratch_sqlite_url("audit"))
    with stopwatch() as built:
        build_chain(app, count)
    from cellchain import db
    from cellchain.services import audit

    runs = []
    for _ in range(3):
        with app.app_context():
            start = time.perf_counter()
            report = audit.verify_chain(db.session())
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
