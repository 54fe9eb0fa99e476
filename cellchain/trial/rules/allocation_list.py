"""The allocation list: permuted blocks of randomly varied size 2 and 4, arms A and B at 1:1.

Randomization practice (ICH E9): the list is generated in advance from a recorded seed, concealed from
the people enrolling, used strictly in order, one position per subject, never reused, and every
assignment audited. This module does the first part only: it makes the list, reproducibly from the
seed, and a SHA-256 fingerprint anyone can recompute later to show the list was not changed.

Concealment is the service's job, not this module's: the service stores the list, hands out one arm
at a time at the next unused position, and never exposes ``entries``, ``block_sizes`` or the seed
(whoever knows the seed knows every future arm). To make accidental disclosure harder,
``AllocationList``'s repr shows only its size and fingerprint, so a log line or a traceback does
not leak the sequence. Use a high-entropy seed (``new_seed()``): a guessable one lets anyone rebuild
the list and test guesses against the published fingerprint.

Why blocks of 2 and 4: every block holds as many A as B, so the arms are equal at each block boundary
and never differ by more than 2 (half the largest block) at any point; varying the size at random
stops staff from predicting the last allocation of a block.
"""

from __future__ import annotations

import hashlib
import json
import random
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice

from cellchain.core.errors import Invalid
from cellchain.core.words import N_, translated

ARMS = ("A", "B")
BLOCK_SIZES = (2, 4)
HASH_FORMAT = "cellchain-allocation-list/1"


@dataclass(frozen=True)
class Extension:
    """Blocks appended after the list was first made: the seed that drew them and how many."""

    seed: str = field(repr=False)
    blocks: int


@dataclass(frozen=True)
class AllocationList:
    """A concealed allocation list; ``entries[i]`` is the arm of the (i+1)-th subject randomized."""

    seed: str = field(repr=False)
    block_sizes: list[int] = field(repr=False)
    entries: list[str] = field(repr=False)
    extensions: tuple[Extension, ...] = field(default=(), repr=False)

    def __repr__(self) -> str:
        return f"AllocationList(size={len(self.entries)}, sha256={self.digest[:12]}...)"

    @property
    def digest(self) -> str:
        """The list's fingerprint, binding the seed, every extension seed and every entry."""
        return list_hash(self.seed, self.entries, extension_seeds=[e.seed for e in self.extensions])


def new_seed() -> str:
    """A fresh 128-bit seed to record with the list: unguessable, so the list cannot be rebuilt."""
    return secrets.token_hex(16)


def generate_list(seed: str, size: int = 50) -> AllocationList:
    """Draw whole blocks from ``random.Random(seed)`` until there are at least ``size`` entries.

    Whole blocks are kept (the list may be longer than ``size``) so that the last subjects stay
    balanced too; the default of 50 is the trial's planned enrolment (protocol NCT01690247).
    """
    _check_seed(seed)
    _check_count("size", size)
    sizes, entries = _draw(_block_stream(seed), size)
    return AllocationList(seed=seed, block_sizes=sizes, entries=entries)


def extend_list(lst: AllocationList, seed: str, extra: int) -> AllocationList:
    """Append whole blocks for at least ``extra`` more subjects; existing entries never change.

    The new blocks need a new recorded seed: reusing a seed already in the list would repeat a
    sequence some staff may have seen, making the next allocations predictable.
    """
    _check_seed(seed)
    _check_count("extra", extra)
    if seed in (lst.seed, *(e.seed for e in lst.extensions)):
        raise Invalid({"seed": translated(N_("was already used for this list; record a new one"))})
    sizes, entries = _draw(_block_stream(seed), extra)
    return AllocationList(
        seed=lst.seed,
        block_sizes=[*lst.block_sizes, *sizes],
        entries=[*lst.entries, *entries],
        extensions=(*lst.extensions, Extension(seed=seed, blocks=len(sizes))),
    )


def verify_list(lst: AllocationList) -> bool:
    """Rebuild the list from its recorded seeds and say whether it matches, block for block."""
    first = len(lst.block_sizes) - sum(e.blocks for e in lst.extensions)
    if first < 1:
        return False
    blocks = list(islice(_block_stream(lst.seed), first))
    for extension in lst.extensions:
        blocks.extend(islice(_block_stream(extension.seed), extension.blocks))
    sizes = [len(b) for b in blocks]
    return sizes == lst.block_sizes and [arm for b in blocks for arm in b] == lst.entries


def list_hash(seed: str, entries: Sequence[str], *, extension_seeds: Sequence[str] = ()) -> str:
    """SHA-256 hex over a canonical text of the seed(s) and entries in order.

    The text is compact JSON with sorted keys and ASCII escapes, so it has exactly one spelling for a
    given list and any later change to an entry, the order or a seed changes the fingerprint.
    """
    canonical = json.dumps(
        {
            "format": HASH_FORMAT,
            "seed": seed,
            "extension_seeds": list(extension_seeds),
            "entries": list(entries),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _block_stream(seed: str) -> Iterator[list[str]]:
    """Endless balanced blocks: size drawn from BLOCK_SIZES, equal A and B, then shuffled."""
    # Not a cryptographic generator on purpose: the protocol needs the list reproducible from its
    # recorded seed; secrecy comes from the seed (new_seed) and the service's concealment.
    rng = random.Random(seed)  # noqa: S311
    while True:
        size = rng.choice(BLOCK_SIZES)
        block = list(ARMS) * (size // len(ARMS))
        rng.shuffle(block)
        yield block


def _draw(stream: Iterator[list[str]], at_least: int) -> tuple[list[int], list[str]]:
    sizes: list[int] = []
    entries: list[str] = []
    while len(entries) < at_least:
        block = next(stream)
        sizes.append(len(block))
        entries.extend(block)
    return sizes, entries


def _check_seed(seed: object) -> None:
    if not isinstance(seed, str) or not seed.strip():
        raise Invalid({"seed": translated(N_("must be a non-empty text, recorded with the list"))})


def _check_count(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise Invalid({name: translated(N_("must be a whole number of at least 1"))})
