"""Fixtures: a fresh database per test (SQLite by default, PostgreSQL with TEST_DATABASE_URL), the app,
its client and CLI runner, and helpers to act as a role (``auth.login("nurse")``, ``api.token("qa")``).

The schema is built once per run by the real Alembic migrations into a template database. On SQLite
each test gets a file copy of it; on PostgreSQL each worker copies it once (``CREATE DATABASE ...
TEMPLATE``) and puts that copy back to the template's state after every test (tests/postgres_database.py).
Each worker builds its app once and serves it to every test with its configuration put back (``WorkerApp``).

Under pytest-xdist every worker builds its own template and names its databases after itself, so
workers never copy from, drop or race on another worker's database.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cellchain import create_app
from cellchain.core import db, migrate
from cellchain.core.submissions.ledger import new_id as new_submission_id
from cellchain.demo import loader as demo
from cellchain.people.accounts import Policy
from tests import postgres_database

PASSWORD = demo.DEMO_PASSWORD
FAST_HASH = "scrypt:1024:8:1"  # cheap hashing keeps tests quick; production uses the default
PG_URL = os.environ.get("TEST_DATABASE_URL")
# "gw0", "gw1", ... under pytest-xdist; the pid as well keeps two runs at once apart.
WORKER = f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"
_FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_token(client, **request_options) -> str:
    """The CSRF token a page form carries, read from the login page as a browser would get it."""
    page = client.get("/auth/login", **request_options).get_data(as_text=True)
    return _FORM_TOKEN.search(page).group(1)


def _admin_url(url: str) -> str:
    return db.normalize_url(str(make_url(db.normalize_url(url)).set(database="postgres")))


def _with_db(url: str, name: str) -> str:
    return db.normalize_url(make_url(db.normalize_url(url)).set(database=name).render_as_string(hide_password=False))


def _seed(url: str) -> None:
    migrate.upgrade(url)
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "seed", "PASSWORD_HASH_METHOD": FAST_HASH})
    with app.app_context():
        demo.load_people(db.session(), policy=Policy(hash_method=FAST_HASH))
        db.commit()
    db_engine = app.extensions[db.EXTENSION]
    db_engine.dispose()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory) -> Iterator[str]:
    if PG_URL:
        name = f"cellchain_tpl_{WORKER}"
        admin = create_engine(_admin_url(PG_URL), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        _seed(_with_db(PG_URL, name))
        yield name
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("template") / "template.sqlite"
        _seed(f"sqlite:///{path}")
        yield str(path)


class WorkerDatabase:
    """This worker's PostgreSQL database: a copy of the template, put back to it after every test."""

    def __init__(self, template: str) -> None:
        self.template, self.name = template, f"cellchain_t_{WORKER}"
        self.admin = create_engine(_admin_url(PG_URL), isolation_level="AUTOCOMMIT")
        self.url = _with_db(PG_URL, self.name)
        self.copy_template()
        self.snapshot = postgres_database.snapshot(_libpq(_with_db(PG_URL, template)))

    def copy_template(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            # WAL_LOG: FILE_COPY would force two checkpoints for each copy.
            conn.execute(text(f'CREATE DATABASE "{self.name}" TEMPLATE "{self.template}" STRATEGY WAL_LOG'))
        postgres_database.keep_insertion_order(_libpq(self.url))

    def restore(self) -> None:
        postgres_database.disconnect_others(_libpq(_admin_url(PG_URL)), self.name)
        try:
            restored = postgres_database.reset(_libpq(self.url), self.snapshot)
        except psycopg.Error:
            restored = False
        if not restored:
            self.copy_template()

    def drop(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def worker_database(template_db: str) -> Iterator[WorkerDatabase]:
    database = WorkerDatabase(template_db)
    yield database
    database.drop()


@pytest.fixture
def database_url(request: pytest.FixtureRequest, template_db: str, tmp_path_factory) -> Iterator[str]:
    """The migrated, seeded database, as the template holds it, for one test: the same name for every test
    of a worker, so that the worker's app (see ``app``) serves each of them."""
    if PG_URL:
        database = request.getfixturevalue("worker_database")
        yield database.url
        database.restore()
    else:
        path = tmp_path_factory.getbasetemp() / f"cellchain_{WORKER}.sqlite"
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)  # a connection a test left open keeps the old file, never shares it
        shutil.copyfile(template_db, path)
        yield f"sqlite:///{path}"


class WorkerApp:
    """One app per worker, served to each test as if new: building an app (every route compiled, the OpenAPI
    document assembled) costs more than most tests, so a worker builds it once and, after every test, puts
    back its configuration and extensions and drops its pooled connections to the database just reset.
    A test that must change the app itself (a route of its own) asks for ``new_app``."""

    def __init__(self, database_url: str) -> None:
        self.app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": uuid.uuid4().hex,
                               "PASSWORD_HASH_METHOD": FAST_HASH})
        self.config = copy.deepcopy(dict(self.app.config))
        self.extensions = dict(self.app.extensions)

    def serve(self, tmp_path: Path):
        app = self.app
        app.config.clear()  # the same object: the audit context holds it
        app.config.update(copy.deepcopy(self.config))
        # each test starts with no checkpoint written, as its fresh database has none
        app.config["AUDIT_CHECKPOINT_DIR"] = str(tmp_path / "audit-checkpoints")
        app.extensions.clear()
        app.extensions.update(self.extensions)
        return app

    def release(self) -> None:
        self.app.extensions[db.EXTENSION].dispose()


@pytest.fixture(scope="session")
def worker_apps() -> dict[str, WorkerApp]:
    return {}


@pytest.fixture
def app(database_url: str, worker_apps: dict[str, WorkerApp], tmp_path: Path):
    # Fills name released material lots, as on a site (MATERIAL_LOTS_REQUIRED keeps its default, true):
    # a test stocks the lots it types (tests/factories/materials.py).
    if database_url not in worker_apps:
        worker_apps[database_url] = WorkerApp(database_url)
    reused = worker_apps[database_url]
    yield reused.serve(tmp_path)
    reused.release()


@pytest.fixture
def new_app(database_url: str):
    """An app of the test's own, for a test that adds to the app itself."""
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": uuid.uuid4().hex,
                      "PASSWORD_HASH_METHOD": FAST_HASH})
    yield app
    app.extensions[db.EXTENSION].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def is_postgres() -> bool:
    return bool(PG_URL)


class AuthActions:
    """Act as a person through the pages, like flaskr's AuthActions; forms get their CSRF token."""

    def __init__(self, client):
        self._client = client

    def csrf(self) -> str:
        return form_token(self._client)

    def login(self, username: str = "lab", password: str = PASSWORD):
        return self._client.post("/auth/login", data={"username": username, "password": password,
                                                      "csrf_token": self.csrf()})

    def logout(self):
        return self._client.post("/auth/logout", data={"csrf_token": self.csrf()})

    def post(self, url: str, data: dict | None = None, **kwargs):
        """Post a page form as a freshly rendered one: the session's CSRF token and a new submission id."""
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf())
        data.setdefault("submission_id", new_submission_id())
        return self._client.post(url, data=data, **kwargs)


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


class ApiActions:
    """Call the JSON API as a person with a bearer token."""

    def __init__(self, client):
        self._client = client
        self._tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self._tokens:
            response = self._client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
            assert response.status_code == 201, response.get_json()
            self._tokens[username] = response.get_json()["token"]
        return self._tokens[username]

    def headers(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username)}"}

    def get(self, url: str, as_: str):
        return self._client.get(url, headers=self.headers(as_))

    def post(self, url: str, as_: str, json: dict | None = None):
        return self._client.post(url, json=json if json is not None else {}, headers=self.headers(as_))


@pytest.fixture
def api(client) -> ApiActions:
    return ApiActions(client)


def signature(username: str, meaning: str, password: str = PASSWORD) -> dict[str, str]:
    """An e-signature as the API takes it."""
    return {"username": username, "password": password, "meaning": meaning}
