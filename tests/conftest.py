"""Shared session fixtures: the real default model and a real index of the seed pages.

Building both takes ~30–60 s, so they are built once per test session and shared by every
module. Set ``NEWSQA_TEST_MODEL_CACHE`` to a folder to keep the converted model between runs.
Tests that change an index must copy it first (``copy_index``), never modify ``seed_service``'s.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.runtime import make_service
from bot.settings import Settings
from retrieval.service import NewsQA
from tests.paths import CORPUS_DIR

#DEL


def _settings(**overrides: object) -> Settings:
    """Settings that ignore any ``.env`` file; pass everything a test depends on."""
    return Settings(_env_file=None, **overrides)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def model_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the default model is converted/cached for this session."""
    configured = os.environ.get("NEWSQA_TEST_MODEL_CACHE")
    if configured:
        path = Path(configured)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def seed_service(tmp_path_factory: pytest.TempPathFactory, model_cache_dir: Path) -> NewsQA:
    """A loaded NewsQA over an index of ``corpus/`` built once per session (real model, FAISS)."""
    data_dir = tmp_path_factory.mktemp("seed-data")
    settings = _settings(corpus_dir=CORPUS_DIR, data_dir=data_dir, model_cache_dir=model_cache_dir)
    service = make_service(settings)
    service.reindex(CORPUS_DIR)
    return service


@pytest.fixture(scope="session")
def service_over(seed_service: NewsQA) -> Callable[[Path], NewsQA]:
    """``service_over(index_dir)``: a NewsQA over another index folder sharing the session's
    already-loaded encoder (no second model load). Build or load it as the test needs."""

    def make(index_dir: Path, max_question_chars: int = 500) -> NewsQA:
        return NewsQA(index_dir, lambda: seed_service.encoder, model_name=seed_service.model_name,
                      max_question_chars=max_question_chars)

    return make


@pytest.fixture
def copy_index(seed_service: NewsQA, tmp_path: Path) -> Callable[[], Path]:
    """``copy_index()``: a private copy of the seed index folder (symlinks kept) in tmp_path."""

    def copy() -> Path:
        target = tmp_path / "index-copy"
        shutil.copytree(seed_service.index_root, target, symlinks=True,
                        ignore=shutil.ignore_patterns(".build.lock"))
        return target

    return copy
