"""Hypothesis strategies for ISBT 128 identifiers, shared by the identifier and scan tests."""

from __future__ import annotations

from hypothesis import strategies as st

from cellchain.identifiers.isbt128 import Din, ProductCode

DIGITS = "0123456789"
ALNUM = DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
dins = st.builds(
    Din,
    fin=st.builds(lambda a, b: a + b, st.sampled_from("ABCDEFGHIJKLMNPQRSTUVWXYZ123456789"),
                  st.text(DIGITS, min_size=4, max_size=4)),
    year=st.text(DIGITS, min_size=2, max_size=2),
    sequence=st.text(DIGITS, min_size=6, max_size=6),
)
product_codes = st.builds(
    ProductCode,
    code=st.builds(lambda a, b: a + b, st.sampled_from(ALNUM[10:]), st.text(ALNUM, min_size=4, max_size=4)),
    collection_type=st.sampled_from(ALNUM),
    division=st.text(ALNUM, min_size=2, max_size=2),
)
