"""Alembic, driven from the app: ``flask init-db`` upgrades the configured database to head."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from cellchain.core.config import ROOT
from cellchain.core.db import normalize_url


def alembic_config(url: str, audit_keyring: str | None = None, facility_fin: str | None = None) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = normalize_url(url)
    if audit_keyring:  # migration 0014 seals the entries already written with it
        config.attributes["audit_keyring"] = audit_keyring
    if facility_fin:  # migration 0025 issues chain-of-identity identifiers under it
        config.attributes["facility_fin"] = facility_fin
    return config


def upgrade(url: str, revision: str = "head", *, audit_keyring: str | None = None,
            facility_fin: str | None = None) -> None:
    command.upgrade(alembic_config(url, audit_keyring, facility_fin), revision)
