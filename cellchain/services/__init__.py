"""Use cases: load, apply the domain's rules, write, audit; flush, never commit (the request's edge does)."""
