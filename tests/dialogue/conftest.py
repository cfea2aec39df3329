"""Bot tests here never write a feedback database into the working directory."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _feedback_db_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "feedback-default.sqlite3"
    monkeypatch.setenv("FEEDBACK_DB", str(path))
    return path
