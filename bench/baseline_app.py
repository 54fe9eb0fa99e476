"""The floor the bedside check is measured against: a bare Flask endpoint doing one indexed select.

``GET /bags/<bag_code>`` reads one bag by its unique, indexed code and answers a little JSON, on the
same database as the app under test and served the same way (gunicorn), with no authentication, no
session, no ORM and no audit. What is left is the cost of the web stack and one database round trip,
so "the bedside check reaches half the baseline's throughput" says the check's own work (token, two
scans, a dozen rules, the recorded attempt) costs at most as much again as that floor.

Served by bench/bench_bedside.py: ``gunicorn --pythonpath bench 'baseline_app:create_app()'`` with
``DATABASE_URL`` in the environment.
"""

from __future__ import annotations

import os

from flask import Flask, abort, jsonify
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cellchain.core.db import normalize_url

QUERY = text("SELECT id, bag_code, quality_status, custody_state FROM bags WHERE bag_code = :code")


def create_app(url: str | None = None) -> Flask:
    url = normalize_url(url or os.environ["DATABASE_URL"])
    sqlite = make_url(url).get_backend_name() == "sqlite"
    engine = create_engine(url, connect_args={"check_same_thread": False} if sqlite else {})
    app = Flask(__name__)

    @app.get("/bags/<code>")
    def bag(code: str):
        with engine.connect() as connection:
            row = connection.execute(QUERY, {"code": code}).first()
        if row is None:
            abort(404)
        return jsonify({"bag_id": row.bag_code, "quality_status": row.quality_status,
                        "custody_state": row.custody_state})

    return app
