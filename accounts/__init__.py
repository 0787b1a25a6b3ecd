"""Who may act: API keys (and, later, people and sessions)."""
