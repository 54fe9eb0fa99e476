"""How fast the bedside check answers under load, beside a bare Flask endpoint on the same database.

A nurse holds a bag and waits on ``POST /api/v1/infusions/verify``. This bench measures its throughput
and p50/p95 latency at 1, 4 and 8 concurrent clients, each a thread with its own keep-alive
``http.client`` connection and its own bearer token, for a fixed time per level after a warm-up, on:

* SQLite, one process: ``gunicorn -w 1 --threads 8`` (the gthread worker; one process is what SQLite
  supports, its threads share the one writer);
* PostgreSQL, ``gunicorn -w 4`` (sync workers), on a scratch database created and dropped here;

and, in the same run and served the same way, ``bench/baseline_app.py``: one indexed select of a bag by
its code. The target: at 8 clients the check's p95 is under 50 ms, with no error. Its throughput beside
the bare select is reported to show where the time goes; it is not a target.

Beside them, to show what the figures mean (they are not targets), the two endpoints of
``bench/floor_app.py``. Both call the product's own functions on the database driver's own connection,
with no SQLAlchemy execution machinery, no ORM session and no request hooks, and Flask serves them like
the baseline:

* ``driver_check``: the product's whole check service (``bedside.verify``), with its scans, seventeen
  guards, attempt and audit entry. It shows what a hand-written driver path under the check would reach.
* ``floor``: only the database work every check must do: the token, the bedside read, the attempt, the
  locked audit head and entry, and the commit. Any implementation that keeps the check's records does
  at least this much. Its ratio to the baseline bounds what one could reach on this machine and
  database.

The data is real: demo people, lots and bags made through the services (``demo_lab``, ``demo_qc``),
then one all-pass bedside per client (``tests.factories.ward.bedside_ready``: a released bag received
on the ward through the custody service, allocated to a subject's infusion visit today). A hold is open on the
platelet lysate lot the demo's lots used, which reaches none of those bags: every check probes it. Every answer
is checked to be 200 with every check passed; anything else counts as an error.

Environment: BENCH_BEDSIDE_SECONDS (per level, default 5), BENCH_BEDSIDE_WARMUP (default 2),
BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres; ``none`` skips PostgreSQL).
Writes bench/results/bedside.json.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from common import ROOT, checkpoint_dir, make_app, scratch_sqlite_url, table, write_result

SECONDS = float(os.environ.get("BENCH_BEDSIDE_SECONDS", "5"))
WARMUP = float(os.environ.get("BENCH_BEDSIDE_WARMUP", "2"))
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
LEVELS = (1, 4, 8)
SCENES = 8
TARGET_P95_MS = 50.0
ENDPOINTS = ("verify", "driver_check", "floor", "baseline")
PASSWORD = "cellchain-demo"
GUNICORN = Path(sys.executable).with_name("gunicorn")


# --- serving -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Served:
    """A running gunicorn: its port and its master's pid (its workers are the master's children)."""

    port: int
    pid: int
    how: str


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_ready(port: int, process: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not listen on {port} within {timeout} s")


@contextmanager
def serve(spec: str, database_url: str, *, workers: int, threads: int = 1,
          pythonpath: Path | None = None) -> Iterator[Served]:
    """Run ``spec`` under gunicorn on a free port with DATABASE_URL set; stopped (SIGTERM) on exit."""
    port = free_port()
    args = [str(GUNICORN), "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
            "--timeout", "60", "--keep-alive", "30"]
    if threads > 1:
        args += ["--threads", str(threads)]
    if pythonpath is not None:
        args += ["--pythonpath", str(pythonpath)]
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "bench", "PYTHONPATH": str(ROOT),
           "CELLCHAIN_AUDIT_CHECKPOINT_DIR": checkpoint_dir(database_url)}
    log = Path(tempfile.mkstemp(prefix="cellchain-gunicorn-", suffix=".log")[1])
    with log.open("w") as out:
        process = subprocess.Popen([*args, spec], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    how = f"gunicorn -w {workers}" + (f" --threads {threads}" if threads > 1 else "")
    try:
        _wait_ready(port, process, log)
        yield Served(port, process.pid, how)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.unlink(missing_ok=True)


def serve_app(database_url: str, *, workers: int, threads: int = 1):
    return serve("cellchain:create_app()", database_url, workers=workers, threads=threads)


def serve_baseline(database_url: str, *, workers: int, threads: int = 1):
    return serve("baseline_app:create_app()", database_url, workers=workers, threads=threads,
                 pythonpath=ROOT / "bench")


def serve_floor(database_url: str, *, workers: int, threads: int = 1):
    return serve("floor_app:create_app()", database_url, workers=workers, threads=threads,
                 pythonpath=ROOT / "bench")


# --- the data ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scene:
    wristband: str
    bag_scan: str
    bag_code: str
    subject_code: str


def build_database(url: str, scenes: int = SCENES) -> list[Scene]:
    """Migrate, load demo lots and bags through the services, then one all-pass bedside per client."""
    from cellchain.core import db
    from cellchain.demo import lab as demo_lab
    from cellchain.demo import loader as demo
    from cellchain.demo import qc as demo_qc
    from cellchain.people import accounts
    from tests.factories import ward

    app = make_app(url)
    policy = accounts.Policy(hash_method="scrypt:1024:8:1")
    with app.app_context():
        session = db.session()
        demo.load_people(session, policy=policy)
        demo_lab.load(session, config=app.config, policy=policy)
        demo_qc.load(session, config=app.config, policy=policy)
        _hold_a_material_lot_elsewhere(session)
        ready = [ward.bedside_ready(session) for _ in range(scenes)]
        found = [Scene(s.wristband, s.bag_scan, s.bag.bag_code, s.subject.subject_code) for s in ready]
        db.commit()
    app.extensions[db.EXTENSION].dispose()
    return found


def _hold_a_material_lot_elsewhere(session) -> None:
    """An open hold on the platelet lysate lot the demo's lots used (none of the bench's bags): the bedside's
    statement probes it for every check (docs/rules.md, "Quality: holds"), as on a site while QA investigates."""
    from sqlmodel import select

    from cellchain.materials.models import MaterialLot
    from cellchain.people import accounts
    from cellchain.quality import holds

    lysate = session.exec(select(MaterialLot).where(MaterialLot.supplier_lot == "HPL2610C")).one()
    holds.place_hold(session, "material_lot", lysate.id, "bench: a pool donor's late reactive result",
                     accounts.find_user(session, "qa"))


@contextmanager
def scratch_postgres(admin_url: str, name: str) -> Iterator[str]:
    """A PostgreSQL database of its own for one bench, dropped afterwards whatever happens."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from cellchain.core.db import normalize_url

    admin = create_engine(normalize_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(normalize_url(admin_url)).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_reachable(url: str) -> bool:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    try:
        with socket.create_connection((parsed.host or "127.0.0.1", parsed.port or 5432), timeout=2):
            return True
    except OSError:
        return False


# --- the load ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Call:
    """One request a client repeats, and how to tell a good answer from a bad one."""

    method: str
    path: str
    body: bytes | None
    headers: dict[str, str]
    want_ok: bool  # the verify answer must say every check passed


def token(port: int, username: str = "nurse") -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"username": username, "password": PASSWORD, "label": "bench"})
    conn.request("POST", "/api/v1/auth/token", body, {"Content-Type": "application/json"})
    response = conn.getresponse()
    answer = json.loads(response.read())
    conn.close()
    if response.status != 201:
        raise RuntimeError(f"no token for {username}: {response.status} {answer}")
    return answer["token"]


def verify_calls(scenes: list[Scene], tokens: list[str], clients: int) -> list[Call]:
    """One call per client: its own token, its own bedside (clients beyond the scenes share them)."""
    return [Call("POST", "/api/v1/infusions/verify",
                 json.dumps({"wristband": scene.wristband, "bag": scene.bag_scan}).encode(),
                 _bearer(tokens[n]), True)
            for n, scene in _dealt(scenes, clients)]


def driver_check_calls(scenes: list[Scene], tokens: list[str], clients: int) -> list[Call]:
    return [replace(call, path="/check") for call in verify_calls(scenes, tokens, clients)]


def floor_calls(scenes: list[Scene], tokens: list[str], clients: int) -> list[Call]:
    """As ``verify_calls``, with the codes the floor does not parse out of the scans itself."""
    return [Call("POST", "/floor", json.dumps({"wristband": scene.wristband, "bag": scene.bag_scan,
                                              "subject": scene.subject_code, "bag_code": scene.bag_code}).encode(),
                 _bearer(tokens[n]), True)
            for n, scene in _dealt(scenes, clients)]


def _dealt(scenes: list[Scene], clients: int) -> list[tuple[int, Scene]]:
    return [(n, scenes[n % len(scenes)]) for n in range(clients)]


def _bearer(plain: str) -> dict[str, str]:
    return {"Content-Type": "application/json", "Authorization": f"Bearer {plain}"}


def baseline_calls(scenes: list[Scene], clients: int) -> list[Call]:
    return [Call("GET", f"/bags/{scenes[n % len(scenes)].bag_code}", None, {}, False) for n in range(clients)]


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""


def _good(call: Call, status: int, data: bytes) -> bool:
    if status != 200:
        return False
    return not call.want_ok or json.loads(data).get("ok") is True


def _client(port: int, call: Call, start: threading.Barrier, stop: list[float], tally: Tally) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    start.wait()
    while time.perf_counter() < stop[0]:
        began = time.perf_counter()
        try:
            conn.request(call.method, call.path, call.body, call.headers)
            response = conn.getresponse()
            data = response.read()
            good = _good(call, response.status, data)
        except (OSError, http.client.HTTPException) as error:
            conn.close()
            good, data = False, repr(error).encode()
        tally.latencies.append(time.perf_counter() - began)
        if not good:
            tally.errors += 1
            tally.first_error = tally.first_error or data[:300].decode(errors="replace")
    conn.close()


def run_level(port: int, calls: list[Call], seconds: float) -> dict:
    """Every client hammers for ``seconds``; throughput counts answers, latency is per request."""
    tallies = [Tally() for _ in calls]
    start, stop = threading.Barrier(len(calls) + 1), [float("inf")]
    threads = [threading.Thread(target=_client, args=(port, call, start, stop, tally), daemon=True)
               for call, tally in zip(calls, tallies, strict=True)]
    for thread in threads:
        thread.start()
    stop[0] = time.perf_counter() + seconds
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    latencies = sorted(x for t in tallies for x in t.latencies)
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return {"clients": len(calls), "requests": len(latencies), "seconds": round(elapsed, 2),
            "rps": round(len(latencies) / elapsed, 1), "p50_ms": round(cuts[49] * 1000, 2),
            "p95_ms": round(cuts[94] * 1000, 2), "errors": sum(t.errors for t in tallies),
            "first_error": next((t.first_error for t in tallies if t.first_error), "")}


def measure(port: int, calls_for, seconds: float = SECONDS, warmup: float = WARMUP) -> list[dict]:
    """A warm-up at the highest level, then each level in turn."""
    run_level(port, calls_for(max(LEVELS)), warmup)
    return [run_level(port, calls_for(clients), seconds) for clients in LEVELS]


# --- the report ----------------------------------------------------------------------------------------

def bench_database(label: str, url: str, *, workers: int, threads: int) -> dict:
    scenes = build_database(url)
    results = {}
    with serve_app(url, workers=workers, threads=threads) as served:
        how = served.how
        tokens = [token(served.port) for _ in range(max(LEVELS))]
        results["verify"] = measure(served.port, lambda n: verify_calls(scenes, tokens, n))
    with serve_floor(url, workers=workers, threads=threads) as served:
        results["driver_check"] = measure(served.port, lambda n: driver_check_calls(scenes, tokens, n))
        results["floor"] = measure(served.port, lambda n: floor_calls(scenes, tokens, n))
    with serve_baseline(url, workers=workers, threads=threads) as served:
        results["baseline"] = measure(served.port, lambda n: baseline_calls(scenes, n))
    ratio, driver_ratio, floor_ratio = (_ratio(results[endpoint], results["baseline"])
                                        for endpoint in ("verify", "driver_check", "floor"))
    verdicts = {"p95_met": results["verify"][-1]["p95_ms"] < TARGET_P95_MS,
                "no_errors": not any(r["errors"] for endpoint in ENDPOINTS for r in results[endpoint])}
    return {"database": label, "server": how, **results, "ratio_at_8": ratio,
            "driver_check_ratio_at_8": driver_ratio, "floor_ratio_at_8": floor_ratio,
            "p95_at_8_ms": results["verify"][-1]["p95_ms"], **verdicts, "met": all(verdicts.values())}


def _ratio(levels: list[dict], baseline: list[dict]) -> float:
    """Throughput at the highest level against the baseline's."""
    return round(levels[-1]["rps"] / baseline[-1]["rps"], 3) if baseline[-1]["rps"] else 0.0


def print_report(runs: list[dict]) -> None:
    rows = []
    for run in runs:
        for endpoint in ENDPOINTS:
            for level in run[endpoint]:
                rows.append((run["database"], run["server"], endpoint, level["clients"], f"{level['rps']:,.0f}",
                             f"{level['p50_ms']:.1f}", f"{level['p95_ms']:.1f}", level["errors"]))
    print(table(rows, ("database", "server", "endpoint", "clients", "req/s", "p50 ms", "p95 ms", "errors")))
    for run in runs:
        print(f"{run['database']}: at 8 clients verify p95 = {run['p95_at_8_ms']:.1f} ms (target < {TARGET_P95_MS:g}: "
              f"{_word(run['p95_met'])}), errors: {'none' if run['no_errors'] else 'SOME'}; "
              f"verify/baseline throughput = {run['ratio_at_8']:.2f}")
        print(f"  on the driver (bench/floor_app.py): the product's check / baseline = "
              f"{run['driver_check_ratio_at_8']:.2f}; its database work alone (the floor) / baseline = "
              f"{run['floor_ratio_at_8']:.2f}")
        for endpoint in ENDPOINTS:
            for level in run[endpoint]:
                if level["first_error"]:
                    print(f"  {endpoint} x{level['clients']} first error: {level['first_error']}")


def _word(met: bool) -> str:
    return "met" if met else "MISSED"


def drop_scratch_sqlite(url: str) -> None:
    """The scratch database's folder goes when the bench is done (a growth run leaves 400 MB otherwise)."""
    shutil.rmtree(Path(url.removeprefix("sqlite:///")).parent, ignore_errors=True)


def main() -> None:
    sqlite_url = scratch_sqlite_url("bedside")
    try:
        runs = [bench_database("sqlite", sqlite_url, workers=1, threads=8)]
    finally:
        drop_scratch_sqlite(sqlite_url)
    if PG_URL.lower() != "none" and postgres_reachable(PG_URL):
        with scratch_postgres(PG_URL, f"cellchain_bench_bedside_{os.getpid()}") as url:
            runs.append(bench_database("postgresql", url, workers=4, threads=1))
    else:
        print(f"PostgreSQL at {PG_URL} not reachable (or BENCH_PG_URL=none): PostgreSQL skipped")
    print_report(runs)
    write_result("bedside", {"seconds_per_level": SECONDS, "warmup_s": WARMUP, "levels": list(LEVELS),
                             "targets": {"max_p95_ms_at_8": TARGET_P95_MS},
                             "runs": runs, "met": all(r["met"] for r in runs)})


if __name__ == "__main__":
    main()
