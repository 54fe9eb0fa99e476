"""Audit entries carry a keyed seal (HMAC-SHA256 over their hash) and the id of the key that made it.

Entries written before this revision had no key. They are sealed here, with the active key of the
keyring (made now if it is the default one and absent), and one system entry records it: the key id,
how many entries, and the last of them (number and hash). So every entry verifies the same way; what
an auditor can rely on for the entries sealed here is said in docs/security.md ("Audit trail").
The append-only trigger is lifted for this one statement and put back in the same transaction.

Revision ID: 0014_keyed_audit
Revises: 0012_list_indexes
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import op

from cellchain.audit import append_only, keyring
from cellchain.audit.rules.hash_chain import entry_hash
from cellchain.audit.rules.seals import seal
from cellchain.core import config as app_config
from cellchain.core.canonical import canonical_json, format_utc
from cellchain.core.types import utcnow

revision = "0014_keyed_audit"
down_revision = "0012_list_indexes"
branch_labels = None
depends_on = None


def _keyring() -> keyring.Keyring:
    path = op.get_context().config.attributes.get("audit_keyring")
    if path is None:  # plain `alembic` or a caller that named none: the app's configured keyring
        instance = app_config.ROOT / "instance"
        path = app_config.load(str(instance))["AUDIT_KEYRING"]
    return keyring.load(path, create=keyring.default_path(app_config.ROOT / "instance") == Path(path))


def _seal_existing(bind) -> None:
    rows = bind.execute(sa.text("SELECT seq, hash FROM audit_entries ORDER BY seq")).all()
    if not rows:
        return
    keys = _keyring()
    dialect = bind.dialect.name
    for statement in append_only.drop_sql(dialect, "audit_entries"):
        op.execute(statement)
    bind.execute(sa.text("UPDATE audit_entries SET key_id = :key_id, seal = :seal WHERE seq = :seq"),
                 [{"seq": seq, "key_id": keys.active_id, "seal": seal(keys.active_secret, digest)}
                  for seq, digest in rows])
    for statement in append_only.create_sql(dialect, "audit_entries"):
        op.execute(statement)
    last_seq, last_hash = rows[-1]
    entry = {"seq": last_seq + 1, "recorded_at": format_utc(utcnow()), "actor": "system",
             "record_type": "audit_chain", "record_id": "1", "action": "seal_existing", "old_values": None,
             "new_values": canonical_json({"key_id": keys.active_id, "entries": len(rows), "through_seq": last_seq,
                                           "through_hash": last_hash}),
             "reason": "entries written before audit keys existed, sealed at migration 0014", "prev_hash": last_hash}
    entry["hash"] = entry_hash(**entry)
    entry["key_id"], entry["seal"] = keys.active_id, seal(keys.active_secret, entry["hash"])
    bind.execute(sa.text("INSERT INTO audit_entries (seq, recorded_at, actor, record_type, record_id, action, "
                         "old_values, new_values, reason, prev_hash, hash, key_id, seal) VALUES (:seq, :recorded_at, "
                         ":actor, :record_type, :record_id, :action, :old_values, :new_values, :reason, :prev_hash, "
                         ":hash, :key_id, :seal)"), entry)


def upgrade() -> None:
    # ADD COLUMN in place (no batch copy of the table): its triggers stay as they are.
    op.add_column("audit_entries", sa.Column("key_id", sa.String(length=16), nullable=True))
    op.add_column("audit_entries", sa.Column("seal", sa.String(length=64), nullable=True))
    _seal_existing(op.get_bind())


def downgrade() -> None:
    # In place, not a batch copy, which would lose the table's triggers on SQLite.
    op.execute("ALTER TABLE audit_entries DROP COLUMN seal")
    op.execute("ALTER TABLE audit_entries DROP COLUMN key_id")
