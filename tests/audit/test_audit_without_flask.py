"""The trail is written, sealed, checkpointed and verified through a plain session of the application's
engine, with no Flask app context: the keyring and checkpoint settings are handed in at create_app
(audit/context.py), not read from current_app."""

from __future__ import annotations

from flask import has_app_context
from sqlmodel import Session

from cellchain.audit import checkpoints, trail
from cellchain.core import db


def test_a_script_with_a_plain_session_writes_sealed_entries_and_a_checkpoint_and_verifies_them(app):
    engine = app.extensions[db.EXTENSION]
    assert not has_app_context()
    with Session(engine) as session:
        link = trail.record(session, actor=None, record_type="script", record_id="nightly", action="noted",
                            new={"rows": 3})
        session.commit()
    logged, problems = checkpoints.read_all(app.config["AUDIT_CHECKPOINT_DIR"])
    assert problems == [] and logged[-1].seq == link.seq  # written after the commit, signed with the key
    with Session(engine) as session:
        report = trail.verify_chain(session)
        entry = trail.history(session, "script", "nightly")[-1]
    assert report.ok and report.entries == link.seq and report.checkpoint["seq"] == link.seq
    assert entry.seal is not None and entry.key_id is not None
