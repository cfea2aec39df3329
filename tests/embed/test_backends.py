"""The ONNX backends against the torch model: the same vectors (fp32 exactly, int8 at cosine
≥ 0.999, so indexes stay interchangeable), tokens and rankings; exported offline, once, cached.

Real model throughout (``slow``), but for the checks of names and of models the backends refuse.
The graphs are exported once per model cache, in child processes (conftest ``default_model_dir``).
Each backend is then loaded in a child process of its own (tests/embed/backend_runs.py), offline
and with exporting disabled, which records what the tests compare: the test process never holds
torch or a second copy of the model (torch plus both ONNX graphs took ~2.5 GB more in it).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from retrieval.embed.backends import default_backend
from retrieval.embed.default_model import DEFAULT_MODEL
from retrieval.embed.encoder import Embedder
from retrieval.embed.onnx import UnsupportedModelError, onnx_file, read_stack
from tests.embed.backend_runs import PAD_ROWS, QUERIES, seed_chunks, token_texts
from tests.paths import REPO

BACKENDS = ("torch", "onnx", "onnx-int8")


@dataclass(frozen=True)
class BackendRun:
    """What one backend's Embedder said (see backend_runs.record)."""

    name: str
    key: str
    dim: int
    path: Path
    passages: np.ndarray  # every seed chunk
    queries: np.ndarray  # QUERIES
    cut: np.ndarray  # a passage of about 512 tokens: the whole position table
    batch: np.ndarray  # PAD_ROWS of a batch of chunks of different lengths …
    alone: np.ndarray  # … and the same rows embedded one by one
    tokens: list[list[int]]  # token ids of backend_runs.token_texts


@pytest.fixture(scope="module")
def chunks() -> list[str]:
    return seed_chunks()


@pytest.fixture(scope="module")
def graph_mtimes(default_model_dir: Path) -> dict[str, int]:
    """The cached graphs' mtimes before any backend of this module loaded them."""
    return {b: onnx_file(default_model_dir, b).stat().st_mtime_ns for b in ("onnx", "onnx-int8")}  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def runs(model_cache_dir: Path, graph_mtimes: dict[str, int],
         tmp_path_factory: pytest.TempPathFactory) -> dict[str, BackendRun]:
    """backend → its BackendRun, each from its own child process, one after the other."""
    folder = tmp_path_factory.mktemp("backend-runs")
    out: dict[str, BackendRun] = {}
    for backend in BACKENDS:
        result = folder / f"{backend}.npz"
        proc = subprocess.run([sys.executable, "-m", "tests.embed.backend_runs", str(result), str(model_cache_dir),
                               backend], cwd=REPO, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"{backend}:\n{proc.stderr[-3000:]}"
        with np.load(result) as data:
            meta = json.loads(str(data["meta"]))
            assert meta["backend"] == backend
            out[backend] = BackendRun(meta["name"], meta["key"], meta["dim"], Path(meta["path"]), data["passages"],
                                      data["queries"], data["cut"], data["batch"], data["alone"], meta["tokens"])
    return out


def test_default_backend_is_int8_for_the_default_model_only() -> None:
    assert default_backend(DEFAULT_MODEL) == "onnx-int8"
    assert default_backend(DEFAULT_MODEL, device="cuda") == "torch"
    assert default_backend("intfloat/multilingual-e5-small") == "torch"


@pytest.mark.slow
def test_name_is_shared_and_key_tells_backends_apart(runs: dict[str, BackendRun]) -> None:
    # int8 vectors are interchangeable with torch's (next test), so indexes keep the model name
    assert set(runs) == {"torch", "onnx", "onnx-int8"}
    assert {r.name for r in runs.values()} == {DEFAULT_MODEL}
    assert {r.key for r in runs.values()} == {f"{DEFAULT_MODEL}@{b}" for b in runs}
    assert {r.dim for r in runs.values()} == {384}


@pytest.mark.slow
@pytest.mark.parametrize(("backend", "floor"), [("onnx", 0.9999), ("onnx-int8", 0.999)])
def test_vectors_agree_with_torch(runs: dict[str, BackendRun], backend: str, floor: float) -> None:
    pairs = [(runs[backend].passages, runs["torch"].passages), (runs[backend].queries, runs["torch"].queries)]
    for ours, theirs in pairs:
        assert ours.dtype == np.float32 and ours.shape == theirs.shape
        np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
        cos = (ours * theirs).sum(axis=1)
        assert cos.min() >= floor, f"{backend}: min cosine {cos.min():.5f}"


@pytest.mark.slow
def test_int8_ranks_chunks_like_torch(runs: dict[str, BackendRun]) -> None:
    p_ref, q_ref = runs["torch"].passages, runs["torch"].queries
    p_got, q_got = runs["onnx-int8"].passages, runs["onnx-int8"].queries
    for query, ref, got in zip(QUERIES, q_ref, q_got, strict=True):
        s_ref, s_got = p_ref @ ref, p_got @ got
        top_ref, top_got = np.argsort(-s_ref)[:5], np.argsort(-s_got)[:5]
        # near-ties could swap (four seed chunks about 三服务 score within 0.001), nothing more
        assert s_ref[top_got[0]] >= s_ref[top_ref[0]] - 0.001, query
        assert len(set(top_ref) & set(top_got)) >= 4, query


@pytest.mark.slow
def test_tokens_and_truncation_match_sentence_transformers(runs: dict[str, BackendRun],
                                                           chunks: list[str]) -> None:
    texts = token_texts(chunks)  # the last one is far past 512 tokens
    want = runs["torch"].tokens  # sentence-transformers' tokenizer, truncated at 512
    assert len(want) == len(texts) and all(want)
    for backend in ("onnx", "onnx-int8"):
        for text, ours, theirs in zip(texts, runs[backend].tokens, want, strict=True):
            assert ours == theirs, (backend, text[:40])
    assert len(runs["onnx-int8"].tokens[-1]) == 512
    # a passage of about 512 tokens: the whole position table
    assert float(runs["onnx-int8"].cut @ runs["torch"].cut) >= 0.999


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_batches_pad_without_changing_vectors(runs: dict[str, BackendRun], backend: str) -> None:
    # int8 activations are scaled per block of one row, so batch-mates and padding do not matter
    run = runs[backend]
    assert run.batch.shape == run.alone.shape == (len(PAD_ROWS), 384)
    for batched, alone in zip(run.batch, run.alone, strict=True):
        assert float(batched @ alone) > 0.9999


@pytest.mark.slow
def test_export_is_cached_beside_the_model(default_model_dir: Path, graph_mtimes: dict[str, int],
                                           runs: dict[str, BackendRun]) -> None:
    """Every backend loaded the converted folder; the ONNX ones loaded their cached graphs as they
    were (the children could not export: backend_runs disables it) and left them untouched."""
    folder = default_model_dir
    assert {r.path for r in runs.values()} == {folder}
    for backend in ("onnx", "onnx-int8"):
        path = onnx_file(folder, backend)  # type: ignore[arg-type]
        assert path.is_file() and path.parent == folder / "onnx"
        assert path.stat().st_mtime_ns == graph_mtimes[backend]
    assert not list((folder / "onnx").glob(".export-*")), "temporary export folder left behind"
    # int8 weights and a uint8 embedding table: under a third of the float32 graph
    assert onnx_file(folder, "onnx-int8").stat().st_size < onnx_file(folder, "onnx").stat().st_size / 3


def test_unsupported_models_fall_back_or_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown embedding backend"):
        Embedder(cache_dir=tmp_path, backend="tensorrt")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs a local model folder"):
        Embedder("newsqa-tests/not-a-folder", cache_dir=tmp_path, backend="onnx")
    cls = tmp_path / "cls"
    (cls / "1_Pooling").mkdir(parents=True)
    (cls / "modules.json").write_text(
        '[{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},'
        ' {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]')
    (cls / "1_Pooling" / "config.json").write_text('{"pooling_mode_cls_token": true}')
    with pytest.raises(UnsupportedModelError, match="not plain mean pooling"):
        read_stack(cls)
    with pytest.raises(UnsupportedModelError, match=r"modules\.json"):
        read_stack(tmp_path)
