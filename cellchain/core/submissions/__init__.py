"""One-time submission ids of page forms: a form sent twice is recorded once (docs/rules.md, "Page forms")."""
