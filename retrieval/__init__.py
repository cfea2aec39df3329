"""newsqa retrieval library: ingest → chunk → index → search → answer. Knows nothing of Telegram."""
