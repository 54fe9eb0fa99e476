"""API: custody (DESIGN section 8)."""

from __future__ import annotations

from cellchain.web.api import bp  # noqa: F401
