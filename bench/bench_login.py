"""Bench: a failed login for a real username beside one for an unknown username, at the production hash cost.

Why: the login must not tell which usernames exist by its timing (docs/security.md). An unknown name is
checked against a hash made with the site's own method and cost (``accounts._dummy_hash``), so both cost one
scrypt at ``PASSWORD_HASH_METHOD``; the two medians should match within noise. The throttle is set out of
reach here so every attempt reaches the password check.

Run from the repo root: ``python bench/bench_login.py``; writes ``bench/results/login.json``.
"""

from __future__ import annotations

import statistics
import time

from common import make_app, scratch_sqlite_url, table, write_result

PRODUCTION_HASH = "scrypt:32768:8:1"
ROUNDS = 25


def _failed_login_ms(client, username: str, n: int) -> float:
    start = time.perf_counter()
    response = client.post("/api/v1/auth/token", json={"username": username, "password": f"wrong-{n}"})
    assert response.status_code == 401, response.get_json()
    return (time.perf_counter() - start) * 1000


def _medians(client, *usernames: str) -> list[float]:
    """The median failed login of each name, the names taken in turn so a busy moment of a shared machine
    falls on both alike."""
    times: dict[str, list[float]] = {name: [] for name in usernames}
    for n in range(ROUNDS):
        for name in usernames:
            times[name].append(_failed_login_ms(client, name, n))
    return [statistics.median(times[name]) for name in usernames]


def main() -> None:
    from cellchain.core import db
    from cellchain.people import accounts

    app = make_app(scratch_sqlite_url("login"))
    app.config.update(PASSWORD_HASH_METHOD=PRODUCTION_HASH, MAX_FAILED_LOGINS=10**6, LOGIN_THROTTLE_FAILURES=10**6,
                      LOGIN_THROTTLE_ADDRESS_FAILURES=10**6)
    with app.app_context():
        accounts.create_user(db.session(), actor=None, username="real.nurse", full_name="Real Nurse",
                             password="quiet-lantern-river", roles=["nurse"],
                             policy=accounts.Policy.from_config(app.config))
        db.commit()
    client = app.test_client()
    _failed_login_ms(client, "warm-up", 0)  # builds the dummy hash once, as a worker's first unknown name does
    known, unknown = _medians(client, "real.nurse", "no.such.person")
    print(table([("real username, wrong password", f"{known:.1f}"), ("unknown username", f"{unknown:.1f}")],
                ("failed login", "median ms")))
    print(f"ratio unknown/real: {unknown / known:.2f} ({ROUNDS} attempts each, {PRODUCTION_HASH})")
    path = write_result("login", {"hash_method": PRODUCTION_HASH, "rounds": ROUNDS, "known_median_ms": round(known, 1),
                                  "unknown_median_ms": round(unknown, 1), "ratio": round(unknown / known, 3)})
    print(f"written {path.relative_to(path.parents[2])}")


if __name__ == "__main__":
    main()
