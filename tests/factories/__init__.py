"""Test factories: rows made directly, so each area can be tested before the ones it leans on."""
