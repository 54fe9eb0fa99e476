"""The audit keys: a file outside the database (docs/security.md, "Audit trail").

The keyring is a JSON file, mode 0600, at ``AUDIT_KEYRING`` (default ``instance/audit_keyring.json``):
``{"active": id, "keys": {id: {"secret": hex, "created": utc}}}``. The active key seals new entries
and checkpoints; older keys stay to verify what they sealed. The database login never sees a key, so
a row it inserts has no valid seal. Every host of a site reads the same file (a shared mount).
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from cellchain.core.canonical import format_utc
from cellchain.core.types import utcnow

CACHE = "audit.keyring"
RECHECK_SECONDS = 1.0  # a rotation elsewhere is seen within this long


class KeyringError(RuntimeError):
    """The keyring is missing (where it must not be made) or unreadable."""


@dataclass(frozen=True)
class Keyring:
    active_id: str
    secrets: dict[str, bytes]

    @property
    def active_secret(self) -> bytes:
        return self.secrets[self.active_id]


def _new_key() -> tuple[str, dict[str, str]]:
    return secrets.token_hex(4), {"secret": secrets.token_hex(32), "created": format_utc(utcnow())}


def _write_new_file(path: Path, document: dict, *, replace: bool) -> bool:
    """Write ``document`` whole, mode 0600: into a temporary file beside ``path``, then moved in place.
    Without ``replace`` an existing file wins (link fails), so workers starting at once agree on one key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".keyring-", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(document, handle, indent=1, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temporary, path)
            return True
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _parse(path: Path) -> Keyring:
    try:
        document = json.loads(path.read_text())
        keys = {key_id: bytes.fromhex(entry["secret"]) for key_id, entry in document["keys"].items()}
        active = document["active"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise KeyringError(f"the audit keyring {path} cannot be read: {error}") from error
    if active not in keys or any(len(secret) < 32 for secret in keys.values()):
        raise KeyringError(f"the audit keyring {path} names no usable active key")
    return Keyring(active, keys)


def ensure(path: str | os.PathLike) -> bool:
    """Make the keyring with one new key if there is none. True when it was made."""
    target = Path(path)
    if target.exists():
        return False
    key_id, entry = _new_key()
    return _write_new_file(target, {"active": key_id, "keys": {key_id: entry}}, replace=False)


def load(path: str | os.PathLike, *, create: bool = False) -> Keyring:
    target = Path(path)
    if create:
        ensure(target)
    if not target.exists():
        raise KeyringError(f"the audit keyring {target} does not exist (flask --app cellchain init-db makes it)")
    return _parse(target)


def rotate(path: str | os.PathLike) -> tuple[str, str]:
    """Make a new active key; the old ones stay for verifying. Returns (old id, new id)."""
    target = Path(path)
    document = json.loads(target.read_text())
    old_id = document["active"]
    key_id, entry = _new_key()
    document["keys"][key_id] = entry
    document["active"] = key_id
    _write_new_file(target, document, replace=True)
    return old_id, key_id


def default_path(instance_path: str | os.PathLike) -> Path:
    return Path(instance_path) / "audit_keyring.json"


def for_app(app=None) -> Keyring:
    """The application's keyring, read again when its file changes (a rotation on another host).

    No database statement, and at most one ``stat`` a second: every audited write asks for it.
    """
    app = app or current_app
    cached = app.extensions.get(CACHE)
    now = time.monotonic()
    if cached is not None and now - cached[0] < RECHECK_SECONDS:
        return cached[2]
    path = app.config["AUDIT_KEYRING"]
    try:
        stamp = os.stat(path).st_mtime_ns
    except FileNotFoundError:
        stamp = None
    if cached is not None and cached[1] == stamp and stamp is not None:
        app.extensions[CACHE] = (now, stamp, cached[2])
        return cached[2]
    # Only the default file is made on first use (so `make run` needs no step); a keyring the site
    # named must be there, or a missing mount would quietly start a new key.
    keyring = load(path, create=Path(path) == default_path(app.instance_path))
    app.extensions[CACHE] = (now, os.stat(path).st_mtime_ns, keyring)
    return keyring


def forget(app=None) -> None:
    """Read the keyring again at the next use (after this process rotated it)."""
    (app or current_app).extensions.pop(CACHE, None)
