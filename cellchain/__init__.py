"""cellchain: chain of identity and custody for UC-MSC cell therapy, from cord to bedside."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The application factory: configuration, database, blueprints, error handlers and commands."""
    app = Flask(__name__, instance_path=str(ROOT / "instance"), instance_relative_config=True,
                template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    from cellchain import cli, config, db, web

    app.config.from_mapping(config.load(app.instance_path, test_config))
    db.init_app(app)
    web.init_app(app)
    cli.init_app(app)
    return app
