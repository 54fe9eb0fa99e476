"""Holds on any item and recalls: which items a hold reaches (``items``), and the look-back from any
collection, bank, lot or bag (``lookback``, its CSV and PDF in ``exports``). docs/rules.md, "Quality: holds"
and "Quality: look-back"."""
