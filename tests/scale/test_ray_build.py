"""Index builds with the embedding on Ray workers (retrieval.index.ray_build, `newsqa index --ray`).

A local Ray (2 CPUs, no dashboard) is started once for the module; the Ray tests skip when Ray
is not installed (``pip install -e ".[ray]"``). The import test runs without Ray too: with no
Ray settings nothing imports it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from retrieval.embed.default_model import DEFAULT_MODEL
from retrieval.index.article_index import ArticleIndex, load_index
from retrieval.index.build import update_index
from retrieval.index.embedding import EMBED_BATCH_ENV, Checkpoint
from retrieval.index.keywords import TOKENS_FILE
from retrieval.index.store import current_version
from tests.fakes import FAKE_MODEL, HashingEncoder
from tests.paths import CORPUS_DIR, DEV_SET, REPO


def test_nothing_imports_ray_without_ray_settings() -> None:
    code = ("import sys, bot.cli, bot.runtime, retrieval.index.build, retrieval.index.embedding, retrieval.service\n"
            "assert 'ray' not in sys.modules, 'ray imported'\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[object]:
    """A local Ray for the module. Workers import ``tests.fakes`` (the factories below), so the
    repository goes on their PYTHONPATH; ``retrieval`` itself is installed."""
    ray = pytest.importorskip("ray")
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), before) if p)
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()
        if before is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = before


@pytest.fixture
def small_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Checkpoint steps of 16 texts, so the seed corpus makes many Ray batches."""
    monkeypatch.setenv(EMBED_BATCH_ENV, "16")


def _keyword_tokens(index: ArticleIndex) -> list[list[str]]:
    assert index.path is not None
    with np.load(index.path / TOKENS_FILE) as data:
        vocab, ids, offsets = str(data["vocab"]).split("\n"), data["ids"], data["offsets"]
    return [[vocab[i] for i in ids[offsets[r] : offsets[r + 1]].tolist()] for r in range(len(offsets) - 1)]


def _same_index(a: ArticleIndex, b: ArticleIndex, exact: bool = True) -> None:
    assert [(c.article_id, c.text, c.index_text) for c in a.chunks] == [
        (c.article_id, c.text, c.index_text) for c in b.chunks]
    assert a.manifest.model == b.manifest.model and a.manifest.chunks == b.manifest.chunks
    assert a.sentences is not None and b.sentences is not None
    assert np.array_equal(a.sentences.offsets, b.sentences.offsets)
    # keyword tokens made on the Ray workers are the driver's, chunk for chunk
    assert _keyword_tokens(a) == _keyword_tokens(b)
    pairs = [(a.stored_vectors(), b.stored_vectors()),
             (a.sentences.vectors.astype(np.float32), b.sentences.vectors.astype(np.float32))]
    for va, vb in pairs:
        assert va.shape == vb.shape
        if exact:
            assert np.array_equal(va, vb)
        else:
            cos = np.sum(va * vb, axis=1) / (np.linalg.norm(va, axis=1) * np.linalg.norm(vb, axis=1))
            assert float(cos.min()) >= 0.9999, float(cos.min())


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The single-process build of corpus/ with the hashing encoder, and how many texts it embedded."""
    root = tmp_path_factory.mktemp("single") / "index"
    report = update_index(CORPUS_DIR, root, HashingEncoder())
    return root, report.embedded + report.sentences_embedded


@pytest.mark.slow  # a local Ray cluster: ~5-10 s each; the full suite runs it
def test_ray_build_equals_single_process(ray_cluster, small_steps, reference, tmp_path: Path) -> None:
    from retrieval.index.ray_build import build_with_ray

    single_root, texts = reference
    root = tmp_path / "index"
    report = build_with_ray(CORPUS_DIR, root, HashingEncoder, name=FAKE_MODEL)
    assert report.embedded + report.sentences_embedded == texts
    assert current_version(root).is_dir()
    assert not (root / "checkpoint").exists() or not any((root / "checkpoint").rglob("shard-*"))
    _same_index(load_index(single_root), load_index(root))

    # an update embeds only the new file's texts, on Ray, and reuses the rest
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, corpus)
    (corpus / "zz_new.txt").write_text("永康新闻\n\n永康五金城新建的铜匠博物馆共有三层展厅，馆内陈列着两千余件老铜器。\n",
                                       encoding="utf-8")
    again = build_with_ray(corpus, root, HashingEncoder, name=FAKE_MODEL)
    assert again.added == ["zz_new.txt"] and 0 < again.embedded <= 2 and again.reused >= report.embedded
    assert load_index(root).manifest.chunks == again.chunks


_DRIVER = """
import sys, time
from pathlib import Path
from retrieval.index.ray_build import build_with_ray
from tests.fakes import HashingEncoder

class SlowEncoder(HashingEncoder):
    def encode_passages(self, texts, progress=False):
        time.sleep(0.4)
        return super().encode_passages(texts)

build_with_ray(Path(sys.argv[1]), Path(sys.argv[2]), SlowEncoder, num_cpus=2, workers=2)
print("finished")
"""


def _shard_digests(root: Path) -> int:
    return len(Checkpoint(root, FAKE_MODEL).load())


@pytest.mark.slow  # a local Ray cluster: ~5-10 s each; the full suite runs it
def test_ray_build_resumes_after_driver_killed(ray_cluster, reference, tmp_path: Path) -> None:
    """A driver (own Ray, own process group) killed after some shards: the next build embeds
    only the rest, and the index is the single-process one."""
    from retrieval.index.ray_build import build_with_ray

    single_root, texts = reference
    root = tmp_path / "index"
    script = tmp_path / "driver.py"
    script.write_text(_DRIVER, encoding="utf-8")
    env = {**os.environ, EMBED_BATCH_ENV: "8", "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, str(script), str(CORPUS_DIR), str(root)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    shards = root / "checkpoint"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if len(list(shards.rglob("shard-*.npz"))) >= 4:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the driver and whatever it started in its group
        proc.communicate(timeout=60)
    assert not (root / "current").exists()  # killed before the swap: nothing published
    done = _shard_digests(root)
    assert 0 < done < texts

    report = build_with_ray(CORPUS_DIR, root, HashingEncoder, name=FAKE_MODEL)
    assert report.embedded + report.sentences_embedded == texts - done
    _same_index(load_index(single_root), load_index(root))


@pytest.mark.slow
def test_ray_build_real_model(ray_cluster, seed_service, real_embedder, model_cache_dir: Path,
                              default_model_dir: Path, tmp_path: Path) -> None:
    """The default model on 2 Ray workers (1 ONNX thread each) vs the session's single-process
    seed index: same chunks, cosine ≥ 0.9999, the same answers on the dev set."""
    from retrieval.index.ray_build import EmbedderSpec, build_with_ray
    from retrieval.service import NewsQA

    root = tmp_path / "index"
    spec = EmbedderSpec(DEFAULT_MODEL, cache_dir=str(model_cache_dir), threads=1)
    report = build_with_ray(CORPUS_DIR, root, spec, name=DEFAULT_MODEL)
    assert report.chunks == len(seed_service.loaded.index.chunks)
    _same_index(seed_service.loaded.index, load_index(root), exact=False)

    ray_service = NewsQA(root, lambda: real_embedder, model_name=DEFAULT_MODEL)
    questions = [json.loads(line)["q"] for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert questions
    for q in questions:
        a, b = seed_service.ask(q), ray_service.ask(q)
        assert (a.found, a.text, [i.label for i in a.items]) == (b.found, b.text, [i.label for i in b.items]), q
