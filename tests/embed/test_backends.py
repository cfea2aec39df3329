"""The ONNX backends against the torch model: the same vectors (fp32 exactly, int8 at cosine
≥ 0.999, so indexes stay interchangeable), tokens and rankings; exported offline, once, cached.

Real model throughout. The graphs are exported into the session's model cache (shared with
``seed_service``, which embeds with the default backend), so only the fp32 export is extra.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from retrieval.chunk import chunk_articles
from retrieval.embed.backends import default_backend
from retrieval.embed.default_model import DEFAULT_MODEL
from retrieval.embed.encoder import Embedder
from retrieval.embed.onnx import UnsupportedModelError, onnx_file, read_stack
from retrieval.ingest.files import load_corpus
from tests.paths import CORPUS_DIR

CORPUS = CORPUS_DIR
QUERIES = ["朱志杰去过哪些镇", "古山镇1-7月规上工业总产值增长了多少？", "“三服务”活动", "小微企业园建设", "永康"]


@pytest.fixture(scope="module")
def offline() -> Iterator[None]:
    """No socket may leave the machine while models load or export."""
    real = socket.socket.connect

    def connect(self: socket.socket, address: object) -> None:
        if self.family != socket.AF_UNIX:
            raise AssertionError(f"network access attempted: {address!r}")
        real(self, address)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", connect)
        yield


@pytest.fixture(scope="module")
def embedders(model_cache_dir: Path, offline: None) -> dict[str, Embedder]:
    return {b: Embedder(cache_dir=model_cache_dir, backend=b) for b in ("torch", "onnx", "onnx-int8")}


@pytest.fixture(scope="module")
def chunks() -> list[str]:
    """Every chunk of the seed pages, as the build embeds them (headline + text)."""
    return [c.index_text for c in chunk_articles(load_corpus(CORPUS).articles)]


def test_default_backend_is_int8_for_the_default_model_only(model_cache_dir: Path) -> None:
    assert default_backend(DEFAULT_MODEL) == "onnx-int8"
    assert default_backend(DEFAULT_MODEL, device="cuda") == "torch"
    assert default_backend("intfloat/multilingual-e5-small") == "torch"


def test_name_is_shared_and_key_tells_backends_apart(embedders: dict[str, Embedder]) -> None:
    # int8 vectors are interchangeable with torch's (next test), so indexes keep the model name
    assert {e.name for e in embedders.values()} == {DEFAULT_MODEL}
    assert {e.key for e in embedders.values()} == {f"{DEFAULT_MODEL}@{b}" for b in embedders}
    assert {e.dim for e in embedders.values()} == {384}


@pytest.fixture(scope="module")
def vectors(embedders: dict[str, Embedder], chunks: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """backend → (chunk vectors, query vectors), each embedded once."""
    return {b: (e.encode_passages(chunks), e.encode_queries(QUERIES)) for b, e in embedders.items()}


@pytest.mark.parametrize(("backend", "floor"), [("onnx", 0.9999), ("onnx-int8", 0.999)])
def test_vectors_agree_with_torch(vectors: dict[str, tuple[np.ndarray, np.ndarray]], backend: str,
                                  floor: float) -> None:
    for ours, theirs in zip(vectors[backend], vectors["torch"], strict=True):
        assert ours.dtype == np.float32 and ours.shape == theirs.shape
        np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
        cos = (ours * theirs).sum(axis=1)
        assert cos.min() >= floor, f"{backend}: min cosine {cos.min():.5f}"


def test_int8_ranks_chunks_like_torch(vectors: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    (p_ref, q_ref), (p_got, q_got) = vectors["torch"], vectors["onnx-int8"]
    for query, ref, got in zip(QUERIES, q_ref, q_got, strict=True):
        s_ref, s_got = p_ref @ ref, p_got @ got
        top_ref, top_got = np.argsort(-s_ref)[:5], np.argsort(-s_got)[:5]
        # near-ties could swap (four seed chunks about 三服务 score within 0.001), nothing more
        assert s_ref[top_got[0]] >= s_ref[top_ref[0]] - 0.001, query
        assert len(set(top_ref) & set(top_got)) >= 4, query


def test_tokens_and_truncation_match_sentence_transformers(embedders: dict[str, Embedder],
                                                           chunks: list[str]) -> None:
    st_tok = embedders["torch"].model.tokenizer  # type: ignore[union-attr]
    ours = embedders["onnx-int8"].model.tokenizer  # type: ignore[union-attr]
    long_text = "passage: " + "".join(chunks)  # far past 512 tokens
    texts = ["passage: " + c for c in chunks[:10]] + ["query: " + q for q in QUERIES] + [long_text]
    for text in texts:
        want = st_tok(text, truncation=True, max_length=512)["input_ids"]
        assert ours.encode(text).ids == want
    assert len(ours.encode(long_text).ids) == 512
    cut = long_text.removeprefix("passage: ")[:600]  # about 512 tokens: the whole position table
    cos = float((embedders["onnx-int8"].encode_passages([cut]) * embedders["torch"].encode_passages([cut])).sum())
    assert cos >= 0.999


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_batches_pad_without_changing_vectors(embedders: dict[str, Embedder], chunks: list[str],
                                              backend: str) -> None:
    # int8 activations are scaled per block of one row, so batch-mates and padding do not matter
    emb = embedders[backend]
    texts = [*chunks[:12], "短"]  # lengths differ, so most rows are padded
    batch = emb.encode_passages(texts)
    for i in (0, 5, 12):
        one = emb.encode_passages([texts[i]])
        assert float((one[0] * batch[i]).sum()) > 0.9999


def test_export_is_cached_beside_the_model(embedders: dict[str, Embedder], model_cache_dir: Path,
                                           offline: None) -> None:
    folder = Path(embedders["torch"].path)
    for backend in ("onnx", "onnx-int8"):
        path = onnx_file(folder, backend)  # type: ignore[arg-type]
        assert path.is_file() and path.parent == folder / "onnx"
        before = path.stat().st_mtime_ns
        started = time.perf_counter()
        again = Embedder(cache_dir=model_cache_dir, backend=backend)  # type: ignore[arg-type]
        assert time.perf_counter() - started < 10, "a cached graph must load, not export again"
        assert path.stat().st_mtime_ns == before and again.backend == backend
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
