"""The allocation list (docs/rules.md, "Trial: randomization"): permuted blocks of 2 and 4, arms A and B 1:1."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cellchain.core.errors import Invalid
from cellchain.trial.rules.allocation_list import extend_list, generate_list, list_hash, new_seed, verify_list

seeds = st.text(min_size=1, max_size=40).filter(lambda s: s.strip())


def max_imbalance(entries: list[str]) -> int:
    worst = difference = 0
    for arm in entries:
        difference += 1 if arm == "A" else -1
        worst = max(worst, abs(difference))
    return worst


def blocks_of(lst):
    start = 0
    for size in lst.block_sizes:
        yield lst.entries[start : start + size]
        start += size


@given(seeds)
def test_a_50_subject_list_never_lets_the_arms_differ_by_more_than_2_at_any_prefix(seed):
    lst = generate_list(seed, 50)
    assert max_imbalance(lst.entries) <= 2


@given(seeds, st.integers(min_value=1, max_value=120))
def test_the_list_is_whole_balanced_blocks_of_2_or_4_covering_at_least_the_size(seed, size):
    lst = generate_list(seed, size)
    assert set(lst.block_sizes) <= {2, 4}
    assert sum(lst.block_sizes) == len(lst.entries)
    assert size <= len(lst.entries) < size + lst.block_sizes[-1]
    for block in blocks_of(lst):
        assert block.count("A") == block.count("B")


def test_the_default_list_covers_the_trials_50_subjects_with_equal_arms():
    lst = generate_list(new_seed())
    assert len(lst.entries) >= 50
    assert lst.entries.count("A") == lst.entries.count("B")


def test_block_sizes_vary_at_random_so_the_last_allocation_of_a_block_is_not_predictable():
    assert set(generate_list("varied sizes", 50).block_sizes) == {2, 4}


@given(seeds)
def test_the_same_seed_always_gives_the_same_list(seed):
    assert generate_list(seed, 50) == generate_list(seed, 50)


def test_a_recorded_seed_rebuilds_the_same_list_on_any_python_process():
    # Pinned: if this changes, lists generated earlier could no longer be rebuilt from their seeds.
    lst = generate_list("cellchain-golden", 12)
    assert lst.block_sizes == [2, 4, 4, 4]
    assert "".join(lst.entries) == "ABBABAAABBAABB"
    assert lst.digest == "969847da8949ac542b51a195253c132ed60fb0d790ebcc01e85501bd44e8cf06"


def test_different_seeds_give_different_lists():
    assert generate_list("seed one").entries != generate_list("seed two").entries


def test_the_hash_is_sha256_hex_and_repeatable():
    lst = generate_list("hash me")
    digest = list_hash(lst.seed, lst.entries)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert digest == list_hash("hash me", list(lst.entries)) == lst.digest


def test_the_hash_changes_when_any_single_entry_changes():
    lst = generate_list("tamper", 50)
    original = list_hash(lst.seed, lst.entries)
    for i, arm in enumerate(lst.entries):
        changed = [*lst.entries[:i], "B" if arm == "A" else "A", *lst.entries[i + 1 :]]
        assert list_hash(lst.seed, changed) != original, i


def test_the_hash_changes_with_the_seed_the_order_or_a_dropped_entry():
    entries = ["A", "B", "B", "A"]
    original = list_hash("s", entries)
    assert list_hash("t", entries) != original
    assert list_hash("s", ["B", "A", "B", "A"]) != original
    assert list_hash("s", entries[:-1]) != original
    assert list_hash("s", entries, extension_seeds=["x"]) != original


def test_extending_keeps_every_existing_entry_and_adds_whole_balanced_blocks():
    lst = generate_list("first", 50)
    longer = extend_list(lst, "second", 10)
    assert longer.entries[: len(lst.entries)] == lst.entries
    assert longer.block_sizes[: len(lst.block_sizes)] == lst.block_sizes
    assert len(longer.entries) >= len(lst.entries) + 10
    assert longer.entries.count("A") == longer.entries.count("B")
    assert max_imbalance(longer.entries) <= 2
    assert longer.seed == "first"


@given(seeds, seeds)
def test_an_extended_list_still_keeps_the_arms_within_2_at_any_prefix(first, second):
    if first == second:
        return
    assert max_imbalance(extend_list(generate_list(first, 50), second, 20).entries) <= 2


def test_extending_with_a_seed_already_used_is_refused():
    lst = extend_list(generate_list("first", 10), "second", 4)
    for used in ("first", "second"):
        with pytest.raises(Invalid) as caught:
            extend_list(lst, used, 4)
        assert set(caught.value.fields) == {"seed"}


def test_the_fingerprint_of_an_extended_list_binds_the_extension_seed():
    lst = generate_list("first", 10)
    longer = extend_list(lst, "second", 4)
    assert longer.digest != lst.digest
    assert longer.digest == list_hash("first", longer.entries, extension_seeds=["second"])


def test_a_list_rebuilt_from_its_seeds_verifies_and_a_tampered_one_does_not():
    lst = extend_list(extend_list(generate_list("first", 50), "second", 6), "third", 2)
    assert verify_list(lst)
    flipped = ["B" if arm == "A" else "A" for arm in lst.entries]
    assert not verify_list(type(lst)(lst.seed, lst.block_sizes, flipped, lst.extensions))


def test_the_list_does_not_show_its_seed_or_entries_when_printed_or_logged():
    lst = generate_list("very secret seed", 50)
    text = repr(lst) + str(lst)
    assert "very secret seed" not in text
    assert "'A'" not in text and "'B'" not in text


@pytest.mark.parametrize(
    ("seed", "size"), [("", 50), ("   ", 50), (None, 50), ("ok", 0), ("ok", -1), ("ok", True)]
)
def test_an_empty_seed_or_a_size_below_one_is_refused(seed, size):
    with pytest.raises(Invalid):
        generate_list(seed, size)


def test_new_seeds_are_unguessable_and_distinct():
    first, second = new_seed(), new_seed()
    assert first != second and len(first) == 32
