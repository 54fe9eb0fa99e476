"""The pure verifier (audit/rules/hash_chain.py with rules/seals.py): seals, gaps and every checkpoint."""

from __future__ import annotations

import hmac

from cellchain.audit.rules.hash_chain import GENESIS_HASH, entry_hash, verify_rows
from cellchain.audit.rules.seals import Checkpoint, pads, seal

KEY = b"k" * 32


def _chain(count: int) -> list[tuple]:
    rows, prev = [], GENESIS_HASH
    for seq in range(1, count + 1):
        fields = (seq, f"2026-12-01T09:00:{seq % 60:02d}.000000Z", "qa", "lot", str(seq), "release", None,
                  '{"status":"released","note":"ünïcødé"}', None)
        digest = entry_hash(*fields, prev)
        rows.append((*fields, prev, digest, "k1", seal(KEY, digest)))
        prev = digest
    return rows


def test_pre_keyed_hmac_is_the_same_hmac_sha256():
    inner, outer = (pad.copy() for pad in pads(KEY))
    inner.update(b"abc")
    outer.update(inner.digest())
    assert outer.hexdigest() == hmac.new(KEY, b"abc", "sha256").hexdigest()


def test_every_checkpoint_is_checked_not_only_the_newest():
    rows = _chain(30)
    anchors = {10: (rows[9][10], "t10"), 20: ("f" * 64, "t20"), 30: (rows[29][10], "t30")}
    report = verify_rows(rows, head=(30, rows[29][10]), keys={"k1": KEY}, anchors=anchors)
    assert not report.ok and report.first_bad == 20 and "differs from the checkpoint of t20" in report.problem


def test_a_gap_over_a_checkpoint_is_reported_once_as_missing_and_later_checkpoints_still_checked():
    rows = _chain(30)
    anchors = {12: (rows[11][10], "t12"), 25: ("0" * 64, "t25")}
    kept = rows[:11] + rows[13:]
    report = verify_rows(kept, head=(30, rows[29][10]), keys={"k1": KEY}, anchors=anchors)
    assert [seq for seq, _ in report.problems] == [12, 25]
    assert report.problems[0][1] == "entries 12 to 13 are missing" and report.entries == 28


def test_a_checkpoint_names_its_head_only_with_the_key():
    checkpoint = Checkpoint.signed(KEY, seq=5, entry_hash="a" * 64, at="2026-12-01T09:00:00.000000Z", key_id="k1")
    assert checkpoint.is_signed_by({"k1": KEY})
    assert not checkpoint.is_signed_by({"k1": b"x" * 32}) and not checkpoint.is_signed_by({})
