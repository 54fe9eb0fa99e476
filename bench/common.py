"""Shared bench plumbing: a scratch app on its own database, timing, and result files."""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))


def scratch_sqlite_url(name: str) -> str:
    directory = Path(tempfile.mkdtemp(prefix=f"cellchain-bench-{name}-"))
    return f"sqlite:///{directory / 'bench.sqlite'}"


def checkpoint_dir(url: str) -> str:
    """Beside a scratch SQLite database (or a folder of its own): a scratch chain's checkpoints never go into
    the site's log in instance/."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        return str(Path(parsed.database).parent / "audit_checkpoints")
    return tempfile.mkdtemp(prefix="cellchain-bench-checkpoints-")


def make_app(url: str):
    from cellchain import create_app
    from cellchain.core import migrate

    migrate.upgrade(url)
    # Fills through the service name released material lots (MATERIAL_LOTS_REQUIRED at its default, true): the
    # demo's (demo/materials.py); bags written in bulk keep a typed lot number, as bags filled before 0027 do.
    return create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
                       "AUDIT_CHECKPOINT_DIR": checkpoint_dir(url)})


@contextmanager
def stopwatch():
    box = {}
    start = time.perf_counter()
    yield box
    box["seconds"] = time.perf_counter() - start


def write_result(name: str, result: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {"bench": name, "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                         "platform": platform.platform()},
              "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **result}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path


def table(rows: list[tuple], header: tuple) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, strict=True)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([line.format(*header), line.format(*("-" * w for w in widths)),
                      *(line.format(*map(str, row)) for row in rows)])


def extend_chain(app, count: int, entry) -> None:
    """``count`` more audit entries after the chain's head, hashed by the real code, written in bulk.

    ``entry(seq)`` gives ``(recorded_at, actor, record_type, record_id, action, old_json, new_json)``.
    The insert trigger (migration 0003) checks each link and moves the head; each entry is sealed with
    the app's audit key, as ``trail.record`` seals it.
    """
    from sqlalchemy import text

    from cellchain.audit import keyring
    from cellchain.audit.rules.hash_chain import entry_hash
    from cellchain.audit.rules.seals import seal
    from cellchain.core import db

    with app.app_context():
        keys = keyring.for_app()
        key_id, secret = keys.active_id, keys.active_secret
        connection = db.session().connection()
        head, prev = connection.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).one()
        batch, last = [], head + count
        for seq in range(head + 1, last + 1):
            at, actor, kind, rid, action, old, new = entry(seq)
            digest = entry_hash(seq, at, actor, kind, rid, action, old, new, None, prev)
            batch.append({"seq": seq, "at": at, "actor": actor, "kind": kind, "rid": rid, "action": action,
                          "old": old, "new": new, "prev": prev, "hash": digest, "key_id": key_id,
                          "seal": seal(secret, digest)})
            prev = digest
            if len(batch) == 50_000 or seq == last:
                connection.execute(text(
                    "INSERT INTO audit_entries (seq, recorded_at, actor, record_type, record_id, action, old_values,"
                    " new_values, reason, prev_hash, hash, key_id, seal) VALUES (:seq, :at, :actor, :kind, :rid,"
                    " :action, :old, :new, NULL, :prev, :hash, :key_id, :seal)"), batch)
                batch = []
        db.commit()
