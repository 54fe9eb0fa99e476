"""What the bedside check could cost at best: the product's own code with SQLAlchemy taken out from under it.

Two endpoints, each one transaction on the database driver's own connection, answering only after
the commit:

* ``POST /floor``: only the database work every check has to do, done with as little Python as it
  allows. It runs the product's own statements for the token with its user and roles, and for the
  bedside (one statement). It inserts the attempt with every check passed, reads the locked audit
  head, and appends one audit entry, hashed by the product's code, sealed with the product's audit key
  and checked by the chain trigger. Rows come back as the driver gives them. The client sends the
  subject and bag codes, so no scan is parsed and no rule runs.
* ``POST /check``: the product's whole check service, ``bedside.verify``, unchanged: the scans are
  parsed, the facts gathered, every guard run, and the attempt and its audit entry recorded.

``/check`` calls the product's functions with a stand-in for the ORM session. Its ``connection()``
runs the same Core statements, compiled once per database, straight on the driver's cursor. The
column types still convert the values (their public ``bind_processor`` and ``result_processor``).
Neither endpoint has SQLAlchemy's execution machinery, the ORM session, or the app's request hooks
(CSRF, the NUL-character guard, security headers, the login decorator). Flask serves both, with
gunicorn, the same way it serves the baseline.

``/check`` is about what a hand-written driver path under the check would reach. ``/floor`` is about
what any implementation that keeps the check's records would reach. bench/bench_bedside.py measures both
beside the real check and the bare select, in the same run.
"""

from __future__ import annotations

import os
from collections import namedtuple
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from flask import Flask, abort, jsonify, request
from sqlalchemy import Insert
from sqlalchemy.engine import Dialect, make_url

from cellchain.audit import keyring, trail
from cellchain.audit.rules.hash_chain import HASHED_FIELDS, entry_hash
from cellchain.audit.rules.seals import seal
from cellchain.core import config
from cellchain.core.canonical import canonical_json, format_utc, sha256_hex
from cellchain.core.config import DEFAULTS, ROOT
from cellchain.core.db import make_engine, normalize_url
from cellchain.core.types import utcnow
from cellchain.people import accounts
from cellchain.ward import bedside, bedside_facts
from cellchain.ward.rules import bedside_checks

ENGINE = "floor.engine"
PROTOCOL = bedside.Protocol.from_config(DEFAULTS)


class DriverStatement:
    """One Core statement compiled for one database, its values converted by the column types."""

    def __init__(self, statement: Any, dialect: Dialect, keys: tuple[str, ...]) -> None:
        if isinstance(statement, Insert):  # the product's inserts return nothing; the new row's key, as Core gets it
            columns = list(statement.table.primary_key)
            statement = statement.returning(*columns)
        else:
            columns = list(statement.exported_columns)
        compiled = statement.compile(dialect=dialect, column_keys=list(keys) or None)
        self.sql = str(compiled)
        self._compiled = compiled
        self._binds = {key: _typed(bind.type, dialect).bind_processor(dialect) for key, bind in compiled.binds.items()}
        self._types = [_typed(column.type, dialect) for column in columns]
        self._dialect = dialect
        self._results: list | None = None  # built on first use, from the driver's own column types
        self.row = namedtuple("Row", [column.key for column in columns], rename=True)

    def args(self, values: Mapping[str, Any]) -> Any:
        params = self._compiled.construct_params(dict(values))
        params = {key: _converted(self._binds.get(key), value) for key, value in params.items()}
        return [params[key] for key in self._compiled.positiontup] if self._compiled.positional else params

    def rows(self, raw: list[tuple], description: Any) -> list[tuple]:
        if self._results is None:
            self._results = [kind.result_processor(self._dialect, column[1])
                             for kind, column in zip(self._types, description, strict=True)]
        return [self.row(*map(_converted, self._results, row)) for row in raw]


def _typed(column_type: Any, dialect: Dialect) -> Any:
    return column_type.dialect_impl(dialect)  # SQLite's dates are text: its own types convert them


def _converted(convert: Any, value: Any) -> Any:
    return convert(value) if convert else value


class DriverResult:
    """The little of SQLAlchemy's result the product's functions use."""

    def __init__(self, rows: list[tuple]) -> None:
        self._rows = rows

    def all(self) -> list[tuple]:
        return self._rows

    def one(self) -> tuple:
        (row,) = self._rows
        return row

    @property
    def inserted_primary_key(self) -> tuple:
        return self.one()


class DriverConnection:
    """Stands in for a SQLAlchemy connection: ``execute`` runs the statement on the driver's cursor."""

    def __init__(self, cursor: Any, dialect: Dialect, cache: dict) -> None:
        self._cursor, self._dialect, self._cache = cursor, dialect, cache

    def execute(self, statement: Any, values: Mapping[str, Any] | None = None) -> DriverResult:
        prepared, raw = self._run(statement, values or {})
        return DriverResult(prepared.rows(raw, self._cursor.description))

    def raw(self, statement: Any, values: Mapping[str, Any] | None = None) -> list[tuple]:
        """The driver's own rows, as the driver returns them: the floor converts nothing it need not."""
        return self._run(statement, values or {})[1]

    def _run(self, statement: Any, values: Mapping[str, Any]) -> tuple[DriverStatement, list[tuple]]:
        keys = tuple(sorted(values)) if isinstance(statement, Insert) else ()
        prepared = self._cache.get((statement, keys))
        if prepared is None:
            prepared = self._cache[(statement, keys)] = DriverStatement(statement, self._dialect, keys)
        self._cursor.execute(prepared.sql, prepared.args(values))
        return prepared, self._cursor.fetchall()


class DriverSession:
    """Stands in for the ORM session the services take: they only flush and ask for its connection."""

    def __init__(self, connection: DriverConnection) -> None:
        self._connection = connection

    def connection(self) -> DriverConnection:
        return self._connection

    def flush(self) -> None:
        """Nothing is pending: every write goes straight to the driver."""


def create_app(url: str | None = None, audit_keyring: str | None = None) -> Flask:
    """``audit_keyring`` None: the keyring the product's configuration names (instance folder, environment)."""
    url = normalize_url(url or os.environ["DATABASE_URL"])
    sqlite = make_url(url).get_backend_name() == "sqlite"
    engine = make_engine(url)  # the product's pool: SQLite's pragmas and its writer queue, PostgreSQL's pool
    cache: dict = {}
    app = Flask(__name__, instance_path=str(ROOT / "instance"))
    app.extensions[ENGINE] = engine
    app.config["AUDIT_KEYRING"] = audit_keyring or config.load(app.instance_path)["AUDIT_KEYRING"]

    @contextmanager
    def transaction() -> Iterator[DriverSession]:
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            if sqlite:
                cursor.execute("BEGIN IMMEDIATE")  # as the product does: the head is serialised by the write lock
            yield DriverSession(DriverConnection(cursor, engine.dialect, cache))
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            connection.close()

    def principal(session: DriverSession):
        found = accounts.principal_for_token(session, request.headers.get("Authorization", "").removeprefix("Bearer "))
        if found is None:
            abort(401)
        return found

    BAG_ID = len(bedside_checks.SubjectView._fields)  # the bag's id follows the subject's columns in the row

    @app.post("/floor")
    def floor():
        data = request.get_json()
        checks = [{"name": name, "ok": True, "detail": "passed"} for name in bedside_checks.CHECK_NAMES]
        digest = sha256_hex(request.headers.get("Authorization", "").removeprefix("Bearer "))
        with transaction() as session:
            driver = session.connection()
            user = driver.raw(accounts._TOKEN_USER, {"digest": digest})
            if not user:
                abort(401)
            actor_id, actor = user[0][2], user[0][3]  # the token's user id and username
            found = driver.raw(bedside_facts._BEDSIDE, {"subject": data["subject"], "bag": data["bag_code"]})
            now = utcnow()
            ((attempt_id,),) = driver.raw(bedside._INSERT_ATTEMPT, {
                "wristband_scan": data["wristband"], "bag_scan": data["bag"], "subject_id": found[0][0],
                "bag_id": found[0][BAG_ID], "ok": True, "checks": checks, "purpose": "verify", "checked_by": actor_id,
                "checked_at": now})
            ((seq, prev_hash),) = driver.raw(trail._HEAD)
            entry = {"seq": seq + 1, "recorded_at": format_utc(now), "actor_id": actor_id, "actor": actor,
                     "record_type": "bedside_check", "record_id": str(attempt_id), "action": "verify",
                     "old_values": None, "new_values": canonical_json({"ok": True, "bag": data["bag_code"]}),
                     "reason": None, "prev_hash": prev_hash}
            entry["hash"] = entry_hash(**{name: entry[name] for name in (*HASHED_FIELDS, "prev_hash")})
            keys = keyring.for_app()  # sealed as trail.record seals, with the product's keyring
            entry["key_id"], entry["seal"] = keys.active_id, seal(keys.active_secret, entry["hash"])
            driver.raw(trail._APPEND, entry)
        return jsonify({"ok": True, "checks": checks, "bedside_check_id": attempt_id, "checked_at": format_utc(now),
                        "rows": len(found)})

    @app.post("/check")
    def check():
        data = request.get_json()
        with transaction() as session:
            result = bedside.verify(session, actor=principal(session), wristband=data["wristband"],
                                    bag=data["bag"], protocol=PROTOCOL)
        return jsonify({"ok": result.ok, "checks": [c.as_dict() for c in result.checks],
                        "bedside_check_id": result.record.id, "checked_at": format_utc(result.record.checked_at)})

    return app

