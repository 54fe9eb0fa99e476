"""What audited writes need beside the session, handed in instead of read from Flask's ``current_app``.

``trail.record`` seals each entry with the keyring's active key and, after the commit, ``checkpoints`` may
append a signed checkpoint: both need the site's settings (``AUDIT_KEYRING``, ``AUDIT_CHECKPOINT_*``) and a
place to keep what they cache (the keyring read once a second, the last checkpoint written). The
application binds one ``AuditContext`` to its engine when it is made (``create_app``), so a session of that
engine finds it without a Flask app: a script, a worker or a test can write and verify the trail with a
plain ``Session(engine)``. A session of an engine nobody bound falls back to ``current_app``.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import UnboundExecutionError


@dataclass(eq=False)
class AuditContext:
    """The settings and caches of audited writes; shaped like the Flask app the keyring and checkpoint code
    read (``config``, ``extensions``, ``instance_path``), so a Flask app is one too."""

    config: Mapping[str, Any]
    instance_path: str
    extensions: dict[str, Any] = field(default_factory=dict)


_BOUND: weakref.WeakKeyDictionary[Engine, AuditContext] = weakref.WeakKeyDictionary()


def bind(engine: Engine, context: AuditContext) -> None:
    _BOUND[engine] = context


def of(session: Any) -> AuditContext | None:
    """The context bound to the session's engine, or None (no bind, or not an engine of ours)."""
    get_bind = getattr(session, "get_bind", None)
    if get_bind is None:
        return None
    try:
        engine = get_bind()
    except UnboundExecutionError:  # an unbound session: nothing was handed in
        return None
    engine = getattr(engine, "engine", engine)  # a Connection's engine
    return _BOUND.get(engine)
