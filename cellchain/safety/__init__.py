"""Subject safety: adverse events, their assessment and confirmation, and the serious-event reporting clock."""
