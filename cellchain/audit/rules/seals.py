"""Keyed seals on audit entries and signed checkpoints of the chain's head (docs/security.md, "Audit trail").

The hash chain alone is keyless: anyone who can insert a row can compute the next hash. So each entry
also carries a seal, HMAC-SHA256 over its hash with a key kept outside the database, named by its key
id; an entry written without the key has no valid seal. A checkpoint is the head (sequence number,
hash, time) signed the same way and written outside the database, so a chain cut short or rebuilt
underneath it is found.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass


def seal(secret: bytes, entry_hash: str) -> str:
    """The entry's seal: HMAC-SHA256 of its hash (hex) under ``secret``."""
    return hmac.digest(secret, entry_hash.encode(), "sha256").hex()


def pads(secret: bytes) -> tuple:
    """HMAC-SHA256's inner and outer hashes with the key already absorbed (RFC 2104), for a verifier
    sealing a million hashes: each seal is then two copies and two small updates, the same HMAC as
    :func:`seal` at a third of its cost."""
    block = (hashlib.sha256(secret).digest() if len(secret) > 64 else secret).ljust(64, b"\0")
    return (hashlib.sha256(bytes(b ^ 0x36 for b in block)), hashlib.sha256(bytes(b ^ 0x5C for b in block)))


def _checkpoint_text(seq: int, entry_hash: str, at: str, key_id: str) -> bytes:
    return f"cellchain-checkpoint|{seq}|{entry_hash}|{at}|{key_id}".encode()


@dataclass(frozen=True)
class Checkpoint:
    """The chain's head as it was at ``at`` (canonical UTC text), signed with key ``key_id``."""

    seq: int
    hash: str
    at: str
    key_id: str
    mac: str

    @classmethod
    def signed(cls, secret: bytes, *, seq: int, entry_hash: str, at: str, key_id: str) -> Checkpoint:
        mac = hmac.digest(secret, _checkpoint_text(seq, entry_hash, at, key_id), "sha256").hex()
        return cls(seq, entry_hash, at, key_id, mac)

    def is_signed_by(self, keys: dict[str, bytes]) -> bool:
        secret = keys.get(self.key_id)
        if secret is None:
            return False
        expected = hmac.digest(secret, _checkpoint_text(self.seq, self.hash, self.at, self.key_id), "sha256").hex()
        return hmac.compare_digest(expected, self.mac)

    def as_line(self) -> str:
        return json.dumps({"seq": self.seq, "hash": self.hash, "at": self.at, "key_id": self.key_id,
                           "mac": self.mac}, separators=(",", ":"), sort_keys=True)

    def as_dict(self) -> dict:
        return {"seq": self.seq, "hash": self.hash, "at": self.at, "key_id": self.key_id}


def parse_line(line: str) -> Checkpoint | None:
    """A checkpoint log line, or None when it is not one (the verifier reports such a line)."""
    try:
        data = json.loads(line)
        checkpoint = Checkpoint(int(data["seq"]), str(data["hash"]), str(data["at"]), str(data["key_id"]),
                                str(data["mac"]))
    except (ValueError, KeyError, TypeError):
        return None
    return checkpoint if checkpoint.seq >= 0 else None


def is_due(last: Checkpoint | None, head_seq: int, now_utc: str, *, every_entries: int,
           every_seconds: float, seconds_between) -> bool:
    """Whether a new checkpoint of ``head_seq`` is due: none yet, or the head moved ``every_entries``
    since the last one, or the last one is older than ``every_seconds`` (and the head moved at all).
    ``seconds_between(a, b)`` reads two canonical UTC texts."""
    if last is None:
        return head_seq > 0
    if head_seq <= last.seq:
        return False
    return head_seq - last.seq >= every_entries or seconds_between(last.at, now_utc) >= every_seconds
