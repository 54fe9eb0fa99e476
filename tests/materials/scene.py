"""Materials for tests: a catalogue entry and a lot received by the lab and released (or not) by QC
(``tests/factories/materials.py``)."""

from __future__ import annotations

from tests.factories.materials import HEPARIN_GTIN, POLICY, material, received

__all__ = ["HEPARIN_GTIN", "POLICY", "material", "received"]
