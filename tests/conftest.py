"""Shared session fixtures: a seed index built with the hashing encoder (``fake_service``) for
unit tests, and the real default model with a real seed index (``seed_service``) for the
integration tests marked ``slow``.

Unit tests (``python -m pytest -m "not slow"``) never convert, export or load the real model.
The real model is converted and exported to ONNX at most once per session, in subprocesses
(``default_model_dir``), and loaded once (``real_embedder``). Set ``NEWSQA_TEST_MODEL_CACHE``
to a folder to keep the converted and exported model between runs.
Tests that change an index must copy it first (``copy_fake_index`` / ``copy_index``), never
modify a session service's own index.
"""

from __future__ import annotations

import ctypes
import gc
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from retrieval.embed.default_model import DEFAULT_MODEL, default_model_dirname
from retrieval.embed.onnx import ONNX_BACKENDS, onnx_file
from retrieval.service import NewsQA
from tests.fakes import fake_service as make_fake_service
from tests.paths import CORPUS_DIR, REPO

if TYPE_CHECKING:
    from retrieval.embed.encoder import Embedder

# The default ANSWER_READER is "hybrid" (the shipped reader picks the short answer). Tests of the
# rules, the bot and the CLI run with the rules alone, so that no unit test exports or loads the
# reader; the reader's own tests (tests/qa/test_hybrid.py, tests/read/test_shipped.py, slow) set it.
os.environ.setdefault("ANSWER_READER", "rules")


def _malloc_trim() -> Callable[[], object] | None:
    """glibc's ``malloc_trim(0)``, or None elsewhere (musl, macOS)."""
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


_TRIM = _malloc_trim()


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """After the last test of each module, hand freed heap memory back to the system.

    Tests load many indexes (each with its own jieba dictionary and word tables), answer in
    worker threads (each allocating from its own malloc arena) and run the real model. glibc
    keeps memory mapped after Python frees it, so the session's resident size crept from 1.2 to
    2.5 GB without this; with it the full suite peaks near 2.1 GB. It frees nothing in use."""
    if _TRIM is not None and (nextitem is None or nextitem.module is not item.module):
        gc.collect()
        _TRIM(0)


def _copy_index(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns(".build.lock"))
    return target


# ----------------------------------------------------------------------------- hashing encoder
@pytest.fixture(scope="session")
def fake_service(tmp_path_factory: pytest.TempPathFactory) -> NewsQA:
    """A loaded NewsQA over an index of ``corpus/`` built with the hashing encoder
    (tests/fakes.py): real chunks, lexicon, BM25 and FAISS, no model. ~2 s."""
    service = make_fake_service(tmp_path_factory.mktemp("fake-seed") / "index")
    service.reindex(CORPUS_DIR)
    return service


@pytest.fixture(scope="session")
def fake_service_over() -> Callable[..., NewsQA]:
    """``fake_service_over(index_dir, max_question_chars=500)``: a NewsQA with the hashing
    encoder over another index folder (build or load it as the test needs)."""
    return make_fake_service


@pytest.fixture
def copy_fake_index(fake_service: NewsQA, tmp_path: Path) -> Callable[[], Path]:
    """``copy_fake_index()``: a private copy of ``fake_service``'s index folder in tmp_path."""
    return lambda: _copy_index(fake_service.index_root, tmp_path / "index-copy")


# ----------------------------------------------------------------------------- the real model
@pytest.fixture(scope="session")
def model_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the default model is converted/cached for this session."""
    configured = os.environ.get("NEWSQA_TEST_MODEL_CACHE")
    if configured:
        path = Path(configured)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("models")


_CONNECT = socket.socket.connect


def _local_only(self: socket.socket, address: object) -> None:
    """``socket.connect`` that fails loudly off the machine: converting, exporting and loading the
    default model must never touch the network (the machine may be offline; a hang is worse)."""
    if self.family != socket.AF_UNIX:
        raise AssertionError(f"network access attempted: {address!r}")
    _CONNECT(self, address)  # type: ignore[arg-type]


_PREPARE = """
import socket, sys
from pathlib import Path
real_connect = socket.socket.connect
def local_only(sock, address):
    if sock.family != socket.AF_UNIX:
        raise AssertionError(f"network access attempted: {address!r}")
    real_connect(sock, address)
socket.socket.connect = local_only
from retrieval.embed.default_model import DEFAULT_MODEL, resolve_model_path
from retrieval.embed.onnx import export
folder = Path(resolve_model_path(DEFAULT_MODEL, Path(sys.argv[1])))
if len(sys.argv) > 2:
    export(folder, sys.argv[2])
"""


@pytest.fixture(scope="session")
def default_model_dir(model_cache_dir: Path) -> Path:
    """The converted default model with both ONNX graphs exported, in ``model_cache_dir``.

    Whatever is missing is made in a child process, one step per process: converting peaks at
    ~1 GB, the fp32 export at ~4.8 GB and the int8 one at ~2.9 GB, and memory a Python process
    has once used is mostly not given back, so doing this in the test process kept it at 5 GB
    for the rest of the session. A warm cache (``NEWSQA_TEST_MODEL_CACHE``) skips all of it."""
    folder = model_cache_dir / default_model_dirname()
    steps: list[tuple[str, ...]] = [] if (folder / "modules.json").is_file() else [()]
    steps += [(backend,) for backend in ONNX_BACKENDS if not onnx_file(folder, backend).is_file()]
    for step in steps:
        proc = subprocess.run([sys.executable, "-c", _PREPARE, str(model_cache_dir), *step], cwd=REPO,
                              capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, f"preparing the default model ({step or 'convert'}) failed:\n{proc.stderr[-3000:]}"
    assert all(onnx_file(folder, backend).is_file() for backend in ONNX_BACKENDS)
    return folder


@pytest.fixture(scope="session")
def real_embedder(model_cache_dir: Path, default_model_dir: Path) -> Embedder:
    """The one default-backend Embedder of the session (onnx-int8 on CPU, as the bot runs),
    shared by ``seed_service`` and the embedder tests so the model is loaded once."""
    from retrieval.embed.encoder import Embedder

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", _local_only)
        return Embedder(cache_dir=model_cache_dir)


@pytest.fixture(scope="session")
def seed_service(tmp_path_factory: pytest.TempPathFactory, real_embedder: Embedder) -> NewsQA:
    """A loaded NewsQA over an index of ``corpus/`` built once per session (real model, FAISS)."""
    root = tmp_path_factory.mktemp("seed-data") / "index"
    service = NewsQA(root, lambda: real_embedder, model_name=DEFAULT_MODEL)
    service.reindex(CORPUS_DIR)
    return service


@pytest.fixture(scope="session")
def service_over(seed_service: NewsQA) -> Callable[..., NewsQA]:
    """``service_over(index_dir)``: a NewsQA over another index folder sharing the session's
    already-loaded encoder (no second model load). Build or load it as the test needs."""

    def make(index_dir: Path, max_question_chars: int = 500) -> NewsQA:
        return NewsQA(index_dir, lambda: seed_service.encoder, model_name=seed_service.model_name,
                      max_question_chars=max_question_chars)

    return make


@pytest.fixture(params=["fake_service", pytest.param("seed_service", marks=pytest.mark.slow)],
                ids=["hashing", "real-model"])
def any_seed_service(request: pytest.FixtureRequest) -> NewsQA:
    """The seed index's service with the hashing encoder, and again (``slow``) with the real
    model: for answers that never consult the vectors (list questions, invalid input) and for
    properties that must hold whatever the encoder."""
    return request.getfixturevalue(request.param)


@pytest.fixture
def copy_index(seed_service: NewsQA, tmp_path: Path) -> Callable[[], Path]:
    """``copy_index()``: a private copy of the real seed index folder (symlinks kept) in tmp_path."""
    return lambda: _copy_index(seed_service.index_root, tmp_path / "index-copy")
