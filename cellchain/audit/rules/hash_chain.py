"""The audit trail's hash chain (21 CFR 11.10(e), Annex 11 section 9).

Each entry's hash covers its own content and the previous entry's hash, so changing, removing or
reordering any entry breaks every hash after it. The database also refuses UPDATE and DELETE on the
table; the chain is what still catches a change made by someone who could drop those triggers.

Fields are hashed as length-prefixed text (``<len>:<text>``) so no field can absorb its neighbour and
no escaping is needed; values are hashed exactly as stored, so verifying needs no re-serialisation
and runs at hundreds of thousands of entries per second.

The chain alone is keyless, so each entry also carries a keyed seal over its hash, and signed
checkpoints of the head are kept outside the database (``rules/seals.py``); the verifier checks all
three in one pass.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cellchain.audit.rules.seals import pads

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


NO_ANCHOR = 1 << 62  # past any entry: no checkpoint ahead
MAX_PROBLEMS = 50  # the report names this many; the count says how many more there were


@dataclass(frozen=True)
class ChainReport:
    """``first_bad`` is the sequence number of the first entry that does not verify (None when ok).

    ``problems`` names each entry that does not verify, as ``(seq, what)``, up to ``MAX_PROBLEMS``;
    the walk goes on past a bad entry, so a forged entry in the middle is named and the entries after
    it are still judged. ``checked_from`` is the first entry walked (1 for the whole chain, the last
    checkpoint's entry for an incremental verify); ``checkpoint`` the newest signed checkpoint.
    """

    ok: bool
    entries: int
    first_bad: int | None
    problem: str | None = None
    problems: tuple[tuple[int | None, str], ...] = ()
    problem_count: int = 0
    checked_from: int = 1
    checkpoint: dict | None = None
    checkpoints: int = 0

    def as_dict(self) -> dict:
        return {"ok": self.ok, "entries": self.entries, "first_bad": self.first_bad, "problem": self.problem,
                "problems": [{"seq": seq, "problem": what} for seq, what in self.problems],
                "problem_count": self.problem_count, "checked_from": self.checked_from,
                "checkpoint": self.checkpoint, "checkpoints": self.checkpoints}


class _Problems:
    def __init__(self) -> None:
        self.found: list[tuple[int | None, str]] = []
        self.count = 0

    def add(self, seq: int | None, what: str) -> None:
        self.count += 1
        if len(self.found) < MAX_PROBLEMS:
            self.found.append((seq, what))


def verify_rows(rows: Iterable[tuple], head: tuple[int, str] | None = None, *, keys: Mapping[str, bytes],
                anchors: Mapping[int, tuple[str, str]] | None = None, start: int = 1,
                log_problems: Iterable[str] = ()) -> ChainReport:
    """Check rows of ``HASHED_FIELDS + (prev_hash, hash, key_id, seal)`` ordered by ``seq``, from entry
    ``start`` on (1: the whole chain).

    Each entry must follow the one before it (number, previous hash), match its hash, and carry a seal
    by one of ``keys`` (key id -> secret). ``anchors`` maps the sequence numbers of signed checkpoints
    to their (hash, time): the entry there must still have that hash, and must still exist, so a chain
    rebuilt or cut short under a checkpoint is found. ``head`` is the recorded (seq, hash) of the newest
    entry. ``log_problems`` are problems already found in the checkpoint log itself.
    """
    sha256 = hashlib.sha256
    keyed = {key_id: pads(secret) for key_id, secret in keys.items()}
    anchors = anchors or {}
    pending = deque(sorted(anchors))  # checkpoints still ahead of the walk; one int compare per entry
    next_anchor = pending.popleft() if pending else NO_ANCHOR
    problems = _Problems()
    for what in log_problems:
        problems.add(None, what)
    expected_prev, expected_seq, missing = None if start > 1 else GENESIS_HASH, start, 0
    # The hot loop of a million entries: one f-string (not a join), pre-keyed HMAC objects, and the rare
    # cases (a gap, a checkpoint's entry) behind one comparison each.
    for seq, at, actor, rtype, rid, action, old, new, reason, prev, digest, key_id, seal in rows:
        if seq != expected_seq:
            problems.add(expected_seq, f"entry {expected_seq} is missing" if seq == expected_seq + 1
                         else f"entries {expected_seq} to {seq - 1} are missing")
            missing += seq - expected_seq
        elif prev != expected_prev and expected_prev is not None:
            problems.add(seq, "previous-hash link does not match")
        n = str(seq)
        if old is None:
            old = ""
        if new is None:
            new = ""
        if reason is None:
            reason = ""
        text = (f"{len(n)}:{n}{len(at)}:{at}{len(actor)}:{actor}{len(rtype)}:{rtype}{len(rid)}:{rid}"
                f"{len(action)}:{action}{len(old)}:{old}{len(new)}:{new}{len(reason)}:{reason}{len(prev)}:{prev}")
        if sha256(text.encode()).hexdigest() != digest:
            problems.add(seq, "content does not match its hash")
        pad = keyed.get(key_id)
        if pad is None:
            problems.add(seq, "no seal" if key_id is None else f"sealed with unknown key {key_id}")
        else:
            inner, outer = pad[0].copy(), pad[1].copy()
            inner.update(digest.encode())
            outer.update(inner.digest())
            if outer.hexdigest() != seal:
                problems.add(seq, f"seal does not match (key {key_id}): the entry was not written with the key")
        if seq >= next_anchor:
            next_anchor = _check_anchor(problems, anchors, pending, next_anchor, seq, digest)
        expected_prev, expected_seq = digest, seq + 1
    last_seq, count = expected_seq - 1, expected_seq - start - missing
    _check_end(problems, anchors, head, last_seq, expected_prev)
    return _report(problems, count, start)


def _check_anchor(problems: _Problems, anchors: Mapping[int, tuple[str, str]], pending: deque[int],
                  next_anchor: int, seq: int, digest: str) -> int:
    """The walk reached (or, across a gap, passed) checkpoint ``next_anchor``; the next one still ahead."""
    if next_anchor == seq and anchors[seq][0] != digest:
        problems.add(seq, f"entry {seq} differs from the checkpoint of {anchors[seq][1]}")
    while pending and pending[0] <= seq:  # checkpoints of entries in a gap: the gap is reported already
        pending.popleft()
    return pending.popleft() if pending else NO_ANCHOR


def _check_end(problems: _Problems, anchors: Mapping[int, tuple[str, str]], head: tuple[int, str] | None,
               last_seq: int, last_hash: str | None) -> None:
    """What only the end of the walk shows: a checkpoint beyond the last entry, a head elsewhere."""
    beyond = [seq for seq in anchors if seq > last_seq]
    if beyond:
        newest = max(beyond)
        problems.add(last_seq + 1, f"the chain ends at entry {last_seq} but the checkpoint of {anchors[newest][1]} "
                                   f"names entry {newest}: entries were cut off the end")
    if head is not None and (head[0] != last_seq or (last_seq and head[1] != last_hash)):
        problems.add(last_seq + 1 if head[0] > last_seq else head[0],
                     f"chain ends at entry {last_seq} but the recorded head is entry {head[0]}")


def _report(problems: _Problems, count: int, start: int) -> ChainReport:
    if not problems.count:
        return ChainReport(True, count, None, checked_from=start)
    located = [seq for seq, _ in problems.found if seq is not None]
    first_bad = min(located) if located else None
    first = next((what for seq, what in problems.found if seq == first_bad), problems.found[0][1])
    return ChainReport(False, count, first_bad, first, tuple(problems.found), problems.count, checked_from=start)
