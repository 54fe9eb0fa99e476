"""A real gunicorn serving the app, for the tests that the Flask test client cannot stand in for.

Several server processes racing on one row (test_infusion_race), a server killed with SIGKILL
mid-request and a database that goes away (test_faults): these need real processes and real sockets.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from cellchain import ROOT
from tests.conftest import FAST_HASH, PASSWORD


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(port: int, method: str, path: str, body: dict | None = None, token: str | None = None,
         timeout: float = 30) -> tuple[int, dict | None]:
    """One JSON request on its own connection: the status and the decoded answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    try:
        connection.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log: Path

    def token(self, username: str) -> str:
        status, body = call(self.port, "POST", "/api/v1/auth/token", {"username": username, "password": PASSWORD})
        assert status == 201, body
        return body["token"]

    def kill(self) -> None:
        """SIGKILL to the master and its workers (their own process group): no shutdown, no rollback."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@contextmanager
def serving(database_url: str, log: Path, *, workers: int = 1, up_within: float = 60,
            env: dict[str, str] | None = None) -> Iterator[Server]:
    """``gunicorn -w workers`` on a free port, answering before this yields; stopped (SIGTERM) after.

    The server runs in a process group of its own, so a test can kill the master and its workers at
    once (``Server.kill``). ``env`` adds to the environment (configuration the test needs).
    """
    gunicorn = Path(sys.executable).with_name("gunicorn")
    assert gunicorn.exists(), f"gunicorn is not installed next to {sys.executable}"
    environment = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "live-server-test-secret",
                   "CELLCHAIN_PASSWORD_HASH_METHOD": json.dumps(FAST_HASH),
                   # the test database's checkpoints stay beside its log, never in the site's instance folder
                   "CELLCHAIN_AUDIT_CHECKPOINT_DIR": str(log.parent / f"{log.stem}-audit-checkpoints"),
                   **(env or {})}
    # The socket is bound here and handed to gunicorn (fd://): a port merely found free could be taken
    # by another xdist worker's server before gunicorn binds it, and this test would then talk to that one.
    with socket.socket() as listener, log.open("ab") as out:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        port = listener.getsockname()[1]
        process = subprocess.Popen([str(gunicorn), "-w", str(workers), "--timeout", "60",
                                    "-b", f"fd://{listener.fileno()}", "cellchain:create_app()"],
                                   cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True, pass_fds=(listener.fileno(),))
    server = Server(process, port, log)
    try:
        _wait_until_up(server, up_within)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)


def _wait_until_up(server: Server, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"gunicorn exited with {server.process.returncode}:\n{server.log.read_text()}")
        try:
            if call(server.port, "GET", "/api/v1/auth/me")[0] == 401:
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"gunicorn did not answer within {seconds:g} s:\n{server.log.read_text()}")
