"""The floor under the bedside check: the database work a check must do, on the raw driver, and no more.

``POST /floor`` does, in one transaction on the driver's own connection, what every bedside check
must read and write: the bearer token with its user and roles, the one bedside read (the product's
own statements, compiled for this database), the attempt's insert, the locked audit head and one audit
entry (hashed by the product's own code and checked by the chain trigger), then a synchronous commit.
It runs no rules, parses no scans (the client sends the subject and bag codes beside the two scans),
and has no SQLAlchemy session, no ORM, no request hooks.

The gap between this floor and the bare select (``baseline_app``) is what the database work alone
costs. The gap between the floor and the real check is the cost of the rules and of the framework
around them. bench/bench_bedside.py reports all three in the same run.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime

from flask import Flask, abort, jsonify, request
from sqlalchemy import bindparam, insert
from sqlalchemy.engine import make_url

from cellchain.db import make_engine, normalize_url
from cellchain.domain.audit_chain import HASHED_FIELDS, entry_hash
from cellchain.domain.canonical import canonical_json, format_utc
from cellchain.models.audit import AuditEntry
from cellchain.models.infusions import BedsideCheck
from cellchain.services.accounts import _TOKEN_USER
from cellchain.services.audit import _HEAD
from cellchain.services.bedside_facts import _BEDSIDE

_ATTEMPT_COLUMNS = ("wristband_scan", "bag_scan", "subject_id", "bag_id", "ok", "checks", "purpose",
                    "checked_by", "checked_at")
_ENTRY_COLUMNS = ("seq", "recorded_at", "actor_id", "actor", "record_type", "record_id", "action", "old_values",
                  "new_values", "reason", "prev_hash", "hash")


ENGINE = "floor.engine"


class Statement:
    """A Core statement compiled once for one database; ``args`` gives the driver's parameters."""

    def __init__(self, statement, dialect) -> None:
        self.compiled = statement.compile(dialect=dialect)
        self.sql = str(self.compiled)

    def args(self, **values):
        params = self.compiled.construct_params(values)
        return [params[name] for name in self.compiled.positiontup] if self.compiled.positional else params


def create_app(url: str | None = None) -> Flask:
    url = normalize_url(url or os.environ["DATABASE_URL"])
    sqlite = make_url(url).get_backend_name() == "sqlite"
    engine = make_engine(url)  # the product's pool: SQLite's pragmas and its writer queue, PostgreSQL's pool
    dialect = engine.dialect
    token_user, bedside, head = (Statement(s, dialect) for s in (_TOKEN_USER, _BEDSIDE, _HEAD))
    attempt = Statement(insert(BedsideCheck.__table__).values({c: bindparam(c) for c in _ATTEMPT_COLUMNS})
                        .returning(BedsideCheck.__table__.c.id), dialect)
    append = Statement(insert(AuditEntry.__table__).values({c: bindparam(c) for c in _ENTRY_COLUMNS}), dialect)
    app = Flask(__name__)
    app.extensions[ENGINE] = engine

    def transaction(work):
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            if sqlite:
                cursor.execute("BEGIN IMMEDIATE")  # as the product does: the head is serialised by the write lock
            answer = work(cursor)
            connection.commit()
            return answer
        except BaseException:
            connection.rollback()
            raise
        finally:
            connection.close()

    @app.post("/floor")
    def floor():
        data = request.get_json()
        digest = hashlib.sha256(request.headers["Authorization"].removeprefix("Bearer ").encode()).hexdigest()
        now = datetime.now(UTC)

        def work(cursor):
            cursor.execute(token_user.sql, token_user.args(digest=digest))
            user = cursor.fetchall()
            if not user:
                abort(401)
            actor_id, actor = user[0][2], user[0][3]
            cursor.execute(bedside.sql, bedside.args(subject=data["subject"], bag=data["bag_code"]))
            rows = cursor.fetchall()
            checks = [{"name": f"check_{n}", "ok": True, "detail": "passed"} for n in range(12)]
            cursor.execute(attempt.sql, attempt.args(
                wristband_scan=data["wristband"], bag_scan=data["bag"], subject_id=None, bag_id=None, ok=True,
                checks=json.dumps(checks), purpose="verify", checked_by=actor_id,
                checked_at=now.replace(tzinfo=None).isoformat(" ") if sqlite else now))
            attempt_id = cursor.fetchone()[0]
            cursor.execute(head.sql, head.args())
            seq, prev_hash = cursor.fetchone()
            entry = {"seq": seq + 1, "recorded_at": format_utc(now), "actor_id": actor_id, "actor": actor,
                     "record_type": "bedside_check", "record_id": str(attempt_id), "action": "verify",
                     "old_values": None, "new_values": canonical_json({"ok": True, "bag": data["bag_code"]}),
                     "reason": None, "prev_hash": prev_hash}
            entry["hash"] = entry_hash(**{name: entry[name] for name in (*HASHED_FIELDS, "prev_hash")})
            cursor.execute(append.sql, append.args(**entry))
            return {"ok": True, "checks": checks, "bedside_check_id": attempt_id, "checked_at": format_utc(now),
                    "rows": len(rows)}

        return jsonify(transaction(work))

    return app
