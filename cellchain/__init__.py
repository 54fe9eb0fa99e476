"""cellchain: chain of identity and custody for UC-MSC cell therapy, from cord to bedside."""

from __future__ import annotations

from typing import Any

from flask import Flask

from cellchain.core.config import ROOT


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The application factory: configuration, database, request lifecycle, each area's pages and API, commands."""
    app = Flask(__name__, instance_path=str(ROOT / "instance"), instance_relative_config=True,
                template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    from cellchain import cli
    from cellchain.audit import context as audit_context
    from cellchain.core import config, db, web
    from cellchain.languages import selection as language
    from cellchain.overview import navigation
    from cellchain.people import security

    app.config.from_mapping(config.load(app.instance_path, test_config))
    db.init_app(app)
    # Audited writes find the keyring and checkpoint settings through the engine, not current_app: the
    # app's own config and caches, so a plain Session(engine) seals and checkpoints as a request does.
    audit_context.bind(app.extensions[db.EXTENSION], audit_context.AuditContext(
        config=app.config, instance_path=app.instance_path, extensions=app.extensions))
    web.init_app(app)
    language.init_app(app)
    security.init_app(app)
    navigation.init_app(app)
    register_blueprints(app)
    cli.init_app(app)
    return app


def register_blueprints(app: Flask) -> None:
    """Each area's pages, then the one JSON API blueprint with every area's routes on it."""
    from cellchain.audit import api as audit_api
    from cellchain.audit import views as audit_views
    from cellchain.banking import api as banking_api
    from cellchain.banking import views as banking_views
    from cellchain.core import api
    from cellchain.equipment import api as equipment_api
    from cellchain.equipment import views as equipment_views
    from cellchain.labelling import api as labelling_api
    from cellchain.labelling import views as labelling_views
    from cellchain.labelling.printing import api as printing_api
    from cellchain.labelling.printing import views as printing_views
    from cellchain.manufacturing import api as manufacturing_api
    from cellchain.manufacturing import views as manufacturing_views
    from cellchain.materials import api as materials_api
    from cellchain.materials import views as materials_views
    from cellchain.notices import api as notices_api
    from cellchain.notices import views as notices_views
    from cellchain.overview import openapi
    from cellchain.overview import views as overview_views
    from cellchain.people import admin_views, login_views
    from cellchain.people import api as people_api
    from cellchain.quality import api as quality_api
    from cellchain.quality import qa_views, qc_views
    from cellchain.quality.recall import views as recall_views
    from cellchain.reports import views as reports_views
    from cellchain.safety import api as safety_api
    from cellchain.safety import views as safety_views
    from cellchain.scanning import api as scanning_api
    from cellchain.scanning import views as scanning_views
    from cellchain.storage import api as storage_api
    from cellchain.storage import views as storage_views
    from cellchain.trial import api as trial_api
    from cellchain.trial import views as trial_views
    from cellchain.ward import api as ward_api
    from cellchain.ward import handover_views
    from cellchain.ward import views as ward_views

    for pages in (login_views, overview_views, admin_views, audit_views, scanning_views, labelling_views,
                  manufacturing_views, materials_views, banking_views, storage_views, equipment_views, qc_views,
                  qa_views, recall_views, trial_views, ward_views, handover_views, reports_views, notices_views,
                  safety_views, printing_views):
        app.register_blueprint(pages.bp)
    # Each API module put its routes on api.bp when it was imported above.
    del (audit_api, banking_api, equipment_api, labelling_api, manufacturing_api, materials_api, notices_api, openapi,
         people_api, quality_api, safety_api, scanning_api, storage_api, trial_api, ward_api, printing_api)
    api.init_app(app)
