"""The audit trail's hash chain (21 CFR 11.10(e), Annex 11 section 9).

Each entry's hash covers its own content and the previous entry's hash, so changing, removing or
reordering any entry breaks every hash after it. The database also refuses UPDATE and DELETE on the
table; the chain is what still catches a change made by someone who could drop those triggers.

Fields are hashed as length-prefixed text (``<len>:<text>``) so no field can absorb its neighbour and
no escaping is needed; values are hashed exactly as stored, so verifying needs no re-serialisation
and runs at hundreds of thousands of entries per second.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

GENESIS_HASH = "0" * 64

# The stored columns, in hashing order. A verifier reads rows in exactly this shape.
HASHED_FIELDS = ("seq", "recorded_at", "actor", "record_type", "record_id", "action",
                 "old_values", "new_values", "reason")


def entry_hash(seq: int, recorded_at: str, actor: str, record_type: str, record_id: str, action: str,
               old_values: str | None, new_values: str | None, reason: str | None, prev_hash: str) -> str:
    parts = (str(seq), recorded_at, actor, record_type, record_id, action,
             old_values or "", new_values or "", reason or "", prev_hash)
    text = "".join(f"{len(p)}:{p}" for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    """``first_bad`` is the sequence number of the first entry that does not verify (None when ok)."""

    ok: bool
    entries: int
    first_bad: int | None
    problem: str | None = None

    def as_dict(self) -> dict:
        return {"ok": self.ok, "entries": self.entries, "first_bad": self.first_bad, "problem": self.problem}


def verify_rows(rows: Iterable[tuple], head: tuple[int, str] | None = None) -> ChainReport:
    """Check rows of ``HASHED_FIELDS + (prev_hash, hash)`` ordered by ``seq``.

    ``head`` is the recorded (seq, hash) of the newest entry: it reveals entries cut off the end,
    which a chain alone cannot.
    """
    sha256 = hashlib.sha256
    expected_prev, expected_seq, count = GENESIS_HASH, 1, 0
    for seq, at, actor, rtype, rid, action, old, new, reason, prev, digest in rows:
        if seq != expected_seq:
            return ChainReport(False, count, expected_seq, f"entry {expected_seq} is missing")
        if prev != expected_prev:
            return ChainReport(False, count, seq, "previous-hash link does not match")
        parts = (str(seq), at, actor, rtype, rid, action, old or "", new or "", reason or "", prev)
        text = "".join([f"{len(p)}:{p}" for p in parts])
        if sha256(text.encode()).hexdigest() != digest:
            return ChainReport(False, count, seq, "content does not match its hash")
        expected_prev, expected_seq, count = digest, seq + 1, count + 1
    if head is not None and (head[0] != count or (count and head[1] != expected_prev)):
        return ChainReport(False, count, count + 1 if head[0] > count else head[0],
                           f"chain ends at entry {count} but the recorded head is entry {head[0]}")
    return ChainReport(True, count, None)
