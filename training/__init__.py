"""Training code (kept apart from serving): nothing under ``retrieval/`` or ``bot/`` imports it."""
