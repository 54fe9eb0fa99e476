"""A long run at steady load: no errors, and the server's memory stays flat.

A leak (a session never closed, a cache that only grows, a list of every request) does not show in a
5-second bench; it shows after hours on the ward. This serves the app as a site does (PostgreSQL,
``gunicorn -w 4``; SQLite with ``gunicorn -w 1 --threads 8`` when PostgreSQL is not reachable or
BENCH_SOAK_DATABASE=sqlite), then keeps a steady rate of nurse requests going (bedside check, bag,
bag custody) for BENCH_SOAK_SECONDS (default 600), sampling every BENCH_SOAK_SAMPLE seconds (default 15)
the resident memory (RSS, from /proc) of the master and each worker, the requests and the errors.

Memory is called flat when the workers' total RSS at the end is within 10% (and 25 MB) of what it was
after a warm-up (a tenth of the run, at least 15 s, not counted in the run), with no worker replaced.
Every answer must be 200 and every bedside check must pass; anything else is an error.

Not part of ``make bench`` unless BENCH_SOAK=1. Environment: BENCH_SOAK_SECONDS, BENCH_SOAK_RPS
(requests per second across all clients, default 40), BENCH_SOAK_CLIENTS (default 4), BENCH_SOAK_SAMPLE,
BENCH_SOAK_DATABASE (postgresql or sqlite), BENCH_PG_URL. Writes bench/results/soak.json.
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench_bedside import (
    PG_URL,
    Scene,
    build_database,
    drop_scratch_sqlite,
    postgres_reachable,
    scratch_postgres,
    serve_app,
    token,
)
from common import scratch_sqlite_url, table, write_result

SECONDS = float(os.environ.get("BENCH_SOAK_SECONDS", "600"))
RATE = float(os.environ.get("BENCH_SOAK_RPS", "40"))
CLIENTS = int(os.environ.get("BENCH_SOAK_CLIENTS", "4"))
SAMPLE = float(os.environ.get("BENCH_SOAK_SAMPLE", "15"))
WARMUP = max(15.0, SECONDS / 10)  # worker start-up, first imports and caches: not counted as growth
DATABASE = os.environ.get("BENCH_SOAK_DATABASE", "postgresql")
FLAT_FRACTION = 0.10
FLAT_MB = 25.0


# --- memory, from /proc --------------------------------------------------------------------------------

def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        text = (task / "children").read_text() if (task / "children").exists() else ""
        found += [int(p) for p in text.split()]
    return sorted(found)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --- steady load ---------------------------------------------------------------------------------------

@dataclass
class Counters:
    requests: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    first_errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, problem: str | None) -> None:
        with self.lock:
            self.requests += 1
            self.latencies.append(seconds)
            if problem:
                self.errors += 1
                if len(self.first_errors) < 5:
                    self.first_errors.append(problem)

    def window(self) -> tuple[int, int, list[float]]:
        with self.lock:
            taken, self.latencies = self.latencies, []
            return self.requests, self.errors, taken


def _calls(scene: Scene, bearer: str) -> list[tuple[str, str, bytes | None]]:
    body = json.dumps({"wristband": scene.wristband, "bag": scene.bag_scan}).encode()
    return [("POST", "/api/v1/infusions/verify", body), ("GET", f"/api/v1/bags/{scene.bag_code}", None),
            ("GET", f"/api/v1/bags/{scene.bag_code}/custody", None)]


def _one(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None, bearer: str) -> str | None:
    headers = {"Authorization": f"Bearer {bearer}", "Content-Type": "application/json"}
    try:
        conn.request(method, path, body, headers)
        response = conn.getresponse()
        data = response.read()
    except (OSError, http.client.HTTPException) as error:
        conn.close()
        return f"{method} {path}: {error!r}"
    if response.status != 200:
        return f"{method} {path}: {response.status} {data[:200]!r}"
    if method == "POST" and json.loads(data).get("ok") is not True:
        return f"{method} {path}: a check failed {data[:300]!r}"
    return None


def client(port: int, scene: Scene, period: float, stop: threading.Event, counters: Counters) -> None:
    """One scanner station: a request every ``period`` seconds, round the three calls, on one connection."""
    bearer = token(port)
    calls, conn = _calls(scene, bearer), http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    due, n = time.monotonic(), 0
    while not stop.is_set():
        method, path, body = calls[n % len(calls)]
        start = time.perf_counter()
        problem = _one(conn, method, path, body, bearer)
        counters.add(time.perf_counter() - start, problem)
        n, due = n + 1, due + period
        stop.wait(max(0.0, due - time.monotonic()))
    conn.close()


@contextmanager
def load(port: int, scenes: list[Scene], counters: Counters) -> Iterator[None]:
    stop = threading.Event()
    threads = [threading.Thread(target=client, args=(port, scenes[n % len(scenes)], CLIENTS / RATE, stop, counters),
                                daemon=True) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)


# --- the run -------------------------------------------------------------------------------------------

def sample(master: int, counters: Counters, began: float) -> dict:
    workers = children(master)
    requests, errors, window = counters.window()
    window.sort()
    return {"t_s": round(time.monotonic() - began), "requests": requests, "errors": errors,
            "p95_ms": round(window[int(0.95 * (len(window) - 1))] * 1000, 1) if window else None,
            "master_rss_mb": round(rss_mb(master), 1), "workers": workers,
            "workers_rss_mb": round(sum(rss_mb(w) for w in workers), 1)}


def soak(url: str, how: dict) -> tuple[list[dict], list[str]]:
    """Samples over the warm-up (marked) and then over SECONDS of steady load."""
    scenes = build_database(url)
    counters, samples = Counters(), []
    with serve_app(url, **how) as served, load(served.port, scenes, counters):
        began = time.monotonic()
        while time.monotonic() - began < WARMUP + SECONDS:
            time.sleep(min(SAMPLE, max(0.0, WARMUP + SECONDS - (time.monotonic() - began))))
            samples.append({**sample(served.pid, counters, began), "warmup": time.monotonic() - began <= WARMUP})
            last = samples[-1]
            print(f"  {last['t_s']:>5} s{' (warm-up)' if last['warmup'] else ''}  {last['requests']:>7} requests  "
                  f"{last['errors']} errors  p95 {last['p95_ms']} ms  workers {last['workers_rss_mb']} MB", flush=True)
    return samples, counters.first_errors


def verdict(samples: list[dict]) -> dict:
    """Flat: the workers' RSS at the end within 10% and 25 MB of the first sample after the warm-up."""
    measured = [s for s in samples if not s["warmup"]] or samples
    settled, end = measured[0], measured[-1]
    growth = end["workers_rss_mb"] - settled["workers_rss_mb"]
    minutes = max((end["t_s"] - settled["t_s"]) / 60, 1e-9)
    flat = (growth <= FLAT_FRACTION * settled["workers_rss_mb"] and growth <= FLAT_MB
            and end["workers"] == settled["workers"])
    return {"settled_at_s": settled["t_s"], "settled_workers_rss_mb": settled["workers_rss_mb"],
            "end_workers_rss_mb": end["workers_rss_mb"], "growth_mb": round(growth, 1),
            "growth_mb_per_min": round(growth / minutes, 2), "memory_flat": flat, "requests": end["requests"],
            "errors": end["errors"], "workers_replaced": end["workers"] != settled["workers"]}


def main() -> None:
    if DATABASE == "postgresql" and postgres_reachable(PG_URL):
        label, how = "postgresql", {"workers": 4}
        with scratch_postgres(PG_URL, f"cellchain_bench_soak_{os.getpid()}") as url:
            samples, first_errors = soak(url, how)
    else:
        label, how, url = "sqlite", {"workers": 1, "threads": 8}, scratch_sqlite_url("soak")
        try:
            samples, first_errors = soak(url, how)
        finally:
            drop_scratch_sqlite(url)
    result = verdict(samples)
    print(table([(label, f"{SECONDS:.0f}", f"{RATE:g}", result["requests"], result["errors"],
                  result["settled_workers_rss_mb"], result["end_workers_rss_mb"], result["growth_mb"],
                  "flat" if result["memory_flat"] else "GROWING")],
                ("database", "seconds", "req/s", "requests", "errors", "RSS settled MB", "RSS end MB", "growth MB",
                 "memory")))
    for problem in first_errors:
        print("  error:", problem)
    write_result("soak", {"database": label, "server": how, "seconds": SECONDS, "rate_rps": RATE, "clients": CLIENTS,
                          **result, "first_errors": first_errors, "samples": samples,
                          "met": result["memory_flat"] and result["errors"] == 0})


if __name__ == "__main__":
    main()
