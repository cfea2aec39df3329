"""Building and updating the index (retrieval.index.build / retrieval.index.article_index).

These are mechanics (what is re-embedded, reused, reported, verified), so they run over the
hashing encoder's seed index (conftest ``fake_service``, tests/fakes.py); the manifest of the
real model's seed index is checked too, in the ``slow`` run. Every test that changes an index
works on a copy of it (``copy_fake_index``) and on a copy of the corpus.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from retrieval.embed.default_model import DEFAULT_MODEL
from retrieval.index.article_index import ArticleIndex, load_index
from retrieval.index.build import update_index
from retrieval.index.store import (
    FORMAT_VERSION,
    MANIFEST,
    IndexCorruptError,
    IndexModelMismatchError,
    IndexStoreError,
    current_version,
    file_sha256,
    read_manifest,
)
from retrieval.service import NewsQA
from tests.fakes import FAKE_DIM, FAKE_MODEL, HashingEncoder
from tests.paths import CORPUS_DIR

SEED_FILES = sorted(p.name for p in CORPUS_DIR.glob("*.txt"))
REBUILD = "newsqa index --rebuild"
NEW_SENTENCE = "永康五金城新建的铜匠博物馆共有三层展厅，馆内陈列着两千余件老铜器。"


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, target)
    return target


@pytest.fixture
def index_copy(copy_fake_index: Callable[[], Path]) -> Path:
    return copy_fake_index()


@pytest.fixture
def encoder() -> HashingEncoder:
    return HashingEncoder()


def _versions(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "versions").iterdir() if p.name.startswith("v-"))


def _load(root: Path) -> ArticleIndex:
    return load_index(root, expected_model=FAKE_MODEL)


# -- the seed index ----------------------------------------------------------------------------


@pytest.mark.parametrize(("service_fixture", "model", "dim"), [
    ("fake_service", FAKE_MODEL, FAKE_DIM),
    pytest.param("seed_service", DEFAULT_MODEL, 384, marks=pytest.mark.slow),
], ids=["hashing", "real-model"])
def test_seed_manifest_fields(request: pytest.FixtureRequest, service_fixture: str, model: str, dim: int) -> None:
    assert len(SEED_FILES) == 5
    service: NewsQA = request.getfixturevalue(service_fixture)
    index = service.index
    manifest = read_manifest(current_version(service.index_root))
    assert manifest == index.manifest
    assert manifest.model == model
    assert manifest.dim == dim
    assert manifest.format_version == FORMAT_VERSION
    assert manifest.vector_index == "flat"
    assert manifest.files == {name: file_sha256(CORPUS_DIR / name) for name in SEED_FILES}
    assert manifest.articles == len(index.articles) == 21
    assert manifest.chunks == len(index.chunks) == index.vectors.ntotal
    assert index.vectors.d == dim
    assert {"articles.jsonl", "chunks.jsonl", "vectors.faiss", "lexicon.json"} <= set(manifest.checksums)
    assert any(name.startswith("bm25/") for name in manifest.checksums)
    assert manifest.build_seconds > 0
    # chunk ids are row numbers, every chunk belongs to a known article, every article has a chunk
    assert [c.id for c in index.chunks] == list(range(len(index.chunks)))
    assert {c.article_id for c in index.chunks} == {a.id for a in index.articles}
    assert {a.source for a in index.articles} == set(SEED_FILES)
    # stored vectors are unit length (cosine = inner product)
    norms = np.linalg.norm(index.stored_vectors(), axis=1)
    assert np.allclose(norms, 1.0, atol=1e-3)


@pytest.mark.parametrize("token", ["朱志杰", "章旭升", "古山镇", "舟山镇", "申亭村"])
def test_chunks_with_token_is_the_exact_posting_list(fake_service: NewsQA, token: str) -> None:
    index = fake_service.index
    ids = index.chunks_with_token(token)
    assert ids.dtype == np.int64
    assert len(ids) > 0
    assert len(set(ids.tolist())) == len(ids)
    for cid in ids.tolist():
        assert token in index.chunks[cid].index_text
    # and complete: every chunk naming the token is in the list
    expected = {c.id for c in index.chunks if token in c.index_text}
    assert set(ids.tolist()) == expected


def test_chunks_with_unknown_token_is_empty(fake_service: NewsQA) -> None:
    assert fake_service.index.chunks_with_token("完全不存在的词语").size == 0
    assert fake_service.index.chunks_with_token("xyz").size == 0


def test_chunks_with_empty_token_is_empty(fake_service: NewsQA) -> None:
    # bm25s keeps "" in its vocabulary (for empty documents) without a posting list
    assert fake_service.index.chunks_with_token("").size == 0


# -- updates -----------------------------------------------------------------------------------


def test_rerun_with_nothing_changed_is_a_noop(index_copy: Path, corpus_copy: Path, encoder) -> None:
    before = _versions(index_copy)
    current = current_version(index_copy)
    report = update_index(corpus_copy, index_copy, encoder)
    assert report.noop
    assert report.embedded == 0 and report.reused == 0
    assert report.unchanged == SEED_FILES
    assert report.added == report.changed == report.removed == []
    assert report.articles == 21 and report.chunks == report.chunks_before
    assert report.version == current.name
    assert _versions(index_copy) == before, "a no-op must not write a new version"
    assert current_version(index_copy) == current


def test_noop_reindex_does_not_load_the_model(index_copy: Path, corpus_copy: Path) -> None:
    """NewsQA's docstring: commands that never embed (a no-op ``index``) do not pay for
    loading the model. The factory below returns an encoder and counts calls."""
    calls: list[int] = []

    def factory() -> HashingEncoder:
        calls.append(1)
        return HashingEncoder()

    service = NewsQA(index_copy, factory, model_name=FAKE_MODEL)
    report = service.reindex(corpus_copy)
    assert report.noop
    assert calls == [], "a no-op reindex loaded the embedding model"


def test_changing_one_page_reembeds_only_its_chunks(index_copy: Path, corpus_copy: Path, encoder,
                                                    fake_service_over) -> None:
    name = "002_bb7c16360d800cd6.txt"
    page = corpus_copy / name
    page.write_text(page.read_text(encoding="utf-8") + "\n\n本报讯 " + NEW_SENTENCE + "\n", encoding="utf-8")
    before_index = _load(index_copy)
    other_chunks = sum(1 for c in before_index.chunks if c.source != name)

    report = update_index(corpus_copy, index_copy, encoder)
    assert not report.noop
    assert report.changed == [name]
    assert report.added == report.removed == []
    assert report.unchanged == [n for n in SEED_FILES if n != name]
    assert 1 <= report.embedded < report.chunks
    assert report.reused >= other_chunks > 0
    assert report.embedded + report.reused == report.chunks
    assert len(_versions(index_copy)) == 2, "the previous version is kept, older ones collected"

    index = _load(index_copy)
    assert index.manifest.files[name] == file_sha256(page)
    assert any(NEW_SENTENCE[:12] in c.text for c in index.chunks)
    # vectors of untouched pages are carried over unchanged
    old_rows = {c.index_text: row for c, row in zip(before_index.chunks, before_index.stored_vectors(),
                                                     strict=True)}
    new_vectors = index.stored_vectors()
    for chunk in index.chunks:
        if chunk.source != name:
            assert np.allclose(new_vectors[chunk.id], old_rows[chunk.index_text], atol=1e-6)

    service = fake_service_over(index_copy)
    hits = service.search("铜匠博物馆有几层展厅", k=3)
    assert hits and "铜匠博物馆" in hits[0].chunk.text


def test_adding_and_deleting_files(index_copy: Path, corpus_copy: Path, encoder, fake_service_over) -> None:
    extra = corpus_copy / "extra.jsonl"
    record = {"id": "extra-1", "title": "铜匠博物馆开馆", "date": "20190802", "text": NEW_SENTENCE}
    extra.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")

    added = update_index(corpus_copy, index_copy, encoder)
    assert added.added == ["extra.jsonl"]
    assert added.changed == added.removed == []
    assert added.embedded == 1 and added.reused == added.chunks - 1
    assert added.articles == 22
    index = _load(index_copy)
    article = index.article_by_id["extra-1"]
    assert article.source == "extra.jsonl" and article.date == "2019-08-02"
    assert fake_service_over(index_copy).search("铜匠博物馆", k=1)[0].chunk.article_id == "extra-1"

    gone_page = "004_dce850472f704fef.txt"
    extra.unlink()
    (corpus_copy / gone_page).unlink()
    removed = update_index(corpus_copy, index_copy, encoder)
    assert removed.removed == sorted(["extra.jsonl", gone_page])
    assert removed.added == removed.changed == []
    assert removed.embedded == 0
    index = _load(index_copy)
    assert set(index.manifest.files) == set(SEED_FILES) - {gone_page}
    assert not [a for a in index.articles if a.source in ("extra.jsonl", gone_page)]
    assert removed.articles == len(index.articles) == 21 - 3
    # 章旭升 appears only on the deleted page: gone from the keyword index
    assert index.chunks_with_token("章旭升").size == 0
    assert not any("章旭升" in c.index_text for c in index.chunks)


@pytest.mark.parametrize("real", [False, pytest.param(True, marks=pytest.mark.slow)], ids=["hashing", "real-model"])
def test_person_on_deleted_page_is_no_longer_answered(request: pytest.FixtureRequest, corpus_copy: Path,
                                                      real: bool) -> None:
    """The list question needs no vectors, so the hashing encoder checks it; whether the factoid
    is declined for the right reason only the real model can tell."""
    index_copy = request.getfixturevalue("copy_index" if real else "copy_fake_index")()
    service = request.getfixturevalue("service_over" if real else "fake_service_over")(index_copy)
    assert service.ask("章旭升参加了哪些活动").found, "answered while his page is there"
    (corpus_copy / "004_dce850472f704fef.txt").unlink()
    service.reindex(corpus_copy)
    assert "章旭升" not in service.index.lexicon.people
    for question in ("章旭升参加了哪些活动", "章旭升在推进会上强调了什么"):
        answer = service.ask(question)
        assert not answer.found, f"{question!r} answered from an archive without 章旭升: {answer.text!r}"
        assert answer.text == "没有找到相关报道。"


def test_rebuild_reembeds_everything(index_copy: Path, tmp_path: Path, encoder) -> None:
    small = tmp_path / "small"
    small.mkdir()
    shutil.copy(CORPUS_DIR / SEED_FILES[0], small)
    shrink = update_index(small, index_copy, encoder)  # vectors reused from the seed index
    assert shrink.embedded == 0 and len(shrink.removed) == 4

    again = update_index(small, index_copy, encoder)
    assert again.noop
    rebuilt = update_index(small, index_copy, encoder, rebuild=True)
    assert not rebuilt.noop
    assert rebuilt.embedded == rebuilt.chunks == shrink.chunks > 0
    assert rebuilt.reused == 0
    assert rebuilt.added == [SEED_FILES[0]], "--rebuild ignores the old index entirely"
    assert rebuilt.version != shrink.version
    assert current_version(index_copy).name == rebuilt.version
    assert not (index_copy / "checkpoint").exists(), "checkpoint shards are removed after a build"
    index = _load(index_copy)
    assert np.allclose(index.stored_vectors(), _vectors_of(shrink.version, index_copy), atol=1e-4)


def _vectors_of(version: str, root: Path) -> np.ndarray:
    import faiss

    vectors = faiss.read_index(str(root / "versions" / version / "vectors.faiss"))
    return vectors.reconstruct_n(0, vectors.ntotal)


def test_missing_corpus_folder_does_not_wipe_the_index(index_copy: Path, tmp_path: Path, encoder) -> None:
    """A mistyped or unmounted corpus folder must not silently replace the index with an empty one."""
    before = current_version(index_copy)
    with contextlib.suppress(IndexStoreError, OSError, ValueError):  # refusing is fine
        update_index(tmp_path / "no-such-corpus", index_copy, encoder)
    assert current_version(index_copy) == before
    assert len(_load(index_copy).articles) == 21


# -- loading a damaged or mismatched index -----------------------------------------------------


def test_other_expected_model_is_refused_with_clear_message(fake_service: NewsQA) -> None:
    other = "intfloat/multilingual-e5-base"
    with pytest.raises(IndexModelMismatchError) as info:
        load_index(fake_service.index_root, expected_model=other)
    message = str(info.value)
    assert FAKE_MODEL in message and other in message
    assert REBUILD in message and "EMBEDDING_MODEL" in message

    service = NewsQA(fake_service.index_root, HashingEncoder, model_name=other)
    with pytest.raises(IndexModelMismatchError):
        service.load()


@pytest.mark.parametrize("verify", [True, False], ids=["verified", "unverified"])
def test_truncated_vectors_file_detected_at_load(index_copy: Path, verify: bool) -> None:
    path = current_version(index_copy) / "vectors.faiss"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(IndexCorruptError) as info:
        load_index(index_copy, expected_model=FAKE_MODEL, verify=verify)
    assert REBUILD in str(info.value)
    if verify:
        assert "vectors.faiss" in str(info.value)


def test_manifest_with_wrong_chunk_count_detected_at_load(index_copy: Path) -> None:
    manifest_path = current_version(index_copy) / MANIFEST
    data = json.loads(manifest_path.read_text(encoding="utf-8"))
    data["chunks"] += 1
    manifest_path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(IndexCorruptError) as info:
        load_index(index_copy, expected_model=FAKE_MODEL)
    assert REBUILD in str(info.value)


def test_altered_chunk_store_detected_at_load(index_copy: Path) -> None:
    path = current_version(index_copy) / "chunks.jsonl"
    path.write_text(path.read_text(encoding="utf-8").replace("朱志杰", "王志杰", 1), encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="chunks") as info:
        load_index(index_copy, expected_model=FAKE_MODEL)
    assert REBUILD in str(info.value)


# -- bad corpus files --------------------------------------------------------------------------


def test_bad_files_are_reported_and_good_ones_still_index(index_copy: Path, corpus_copy: Path, encoder,
                                                          fake_service_over) -> None:
    (corpus_copy / "empty.txt").write_bytes(b"")
    (corpus_copy / "binary.txt").write_bytes(bytes(range(256)) * 16)
    original = "001_4397dc98031408d7.txt"
    # GB18030 is a supported page encoding: the copy must index exactly like the UTF-8 original
    (corpus_copy / "gb18030_copy.txt").write_bytes(
        (CORPUS_DIR / original).read_text(encoding="utf-8").encode("gb18030")
    )
    good = {"id": "ok-1", "title": "铜匠博物馆开馆", "date": "2019-08-02", "text": NEW_SENTENCE}
    (corpus_copy / "mixed.jsonl").write_text(
        json.dumps(good, ensure_ascii=False) + "\n" + '{"title": "坏行", "text": \n', encoding="utf-8"
    )

    report = update_index(corpus_copy, index_copy, encoder)
    by_file = {Path(p.path).name: p for p in report.problems}
    assert set(by_file) == {"empty.txt", "binary.txt", "mixed.jsonl"}
    assert by_file["mixed.jsonl"].line == 2
    assert all(p.message for p in report.problems)

    index = _load(index_copy)
    sources = {a.source for a in index.articles}
    assert set(SEED_FILES) | {"gb18030_copy.txt", "mixed.jsonl"} == sources
    assert "ok-1" in index.article_by_id
    copy_articles = [a for a in index.articles if a.source == "gb18030_copy.txt"]
    seed_articles = [a for a in index.articles if a.source == original]
    assert [(a.headline, a.paragraphs) for a in copy_articles] == [(a.headline, a.paragraphs) for a in seed_articles]
    # identical text is never embedded twice: only the one new JSONL article is
    assert report.embedded == 1
    assert fake_service_over(index_copy).search("铜匠博物馆", k=1)[0].chunk.article_id == "ok-1"
