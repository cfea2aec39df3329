"""Benchmarks: scripts that print figures (results recorded in docs/)."""
