"""Sentence vectors stored with the index (``retrieval.index.sentences``): aligned with the
chunks, reused on update, upgraded into older indexes, and used by the answerer instead of the
model."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from retrieval.index.article_index import load_index
from retrieval.index.build import update_index
from retrieval.index.sentences import OFFSETS_FILE, VECTORS_FILE, SentenceVectors, chunk_sentences
from retrieval.index.store import IndexCorruptError, current_version
from retrieval.service import NewsQA
from tests.fakes import FAKE_MODEL, HashingEncoder
from tests.paths import CORPUS_DIR


class CountingEncoder(HashingEncoder):
    """The hashing encoder, counting the passages it is asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.passages = 0

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        self.passages += len(texts)
        return super().encode_passages(texts)


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, target)
    return target


def test_every_chunk_sentence_has_its_own_vector(fake_service: NewsQA) -> None:
    index = fake_service.index
    assert index.sentences is not None
    assert index.sentences.chunks == len(index.chunks)
    encoder = HashingEncoder()
    for chunk in index.chunks[:5]:
        sentences = chunk_sentences(chunk.text)
        assert len(index.sentences.of_chunk(chunk.id)) == len(sentences)
        for j, sentence in enumerate(sentences):
            row = index.sentences.row(chunk.id, j)
            assert row is not None and np.allclose(row, encoder.vector(sentence), atol=2e-3)  # float16
    assert index.sentences.row(0, 10_000) is None and index.sentences.row(-1, 0) is None


def test_an_update_embeds_only_new_sentences(corpus_copy: Path, tmp_path: Path) -> None:
    root = tmp_path / "index"
    first = update_index(corpus_copy, root, HashingEncoder())
    assert first.sentences_embedded > first.chunks
    page = corpus_copy / "002_bb7c16360d800cd6.txt"
    page.write_text(page.read_text(encoding="utf-8") + "\n\n本报讯 铜匠博物馆共有三层展厅。馆内陈列两千余件老铜器。\n",
                    encoding="utf-8")
    second = update_index(corpus_copy, root, HashingEncoder())
    assert 1 <= second.sentences_embedded <= 4  # the new sentences (and a re-cut neighbour), not the rest
    index = load_index(root, expected_model=FAKE_MODEL)
    assert index.sentences is not None and index.sentences.chunks == len(index.chunks)


def test_an_index_without_sentence_vectors_loads_and_is_upgraded(corpus_copy: Path, tmp_path: Path) -> None:
    root = tmp_path / "index"
    update_index(corpus_copy, root, HashingEncoder())
    folder = current_version(root)
    # what an index built before sentence vectors looks like: neither file, nor in the checksums
    manifest_path = folder / "manifest.json"
    text = manifest_path.read_text(encoding="utf-8")
    for name in (OFFSETS_FILE, VECTORS_FILE):
        (folder / name).unlink()
        text = text.replace(f'"{name}"', '"_gone"', 1)
    import json
    data = json.loads(text)
    data["checksums"] = {k: v for k, v in data["checksums"].items() if k != "_gone"}
    manifest_path.write_text(json.dumps(data), encoding="utf-8")
    assert load_index(root, expected_model=FAKE_MODEL).sentences is None

    encoder = CountingEncoder()
    report = update_index(corpus_copy, root, encoder)
    assert not report.noop and report.embedded == 0  # chunk vectors reused, sentences added
    assert report.sentences_embedded > 0 and encoder.passages == report.sentences_embedded
    assert load_index(root, expected_model=FAKE_MODEL).sentences is not None
    assert update_index(corpus_copy, root, HashingEncoder()).noop


def test_a_damaged_sentence_file_is_refused(corpus_copy: Path, tmp_path: Path) -> None:
    root = tmp_path / "index"
    update_index(corpus_copy, root, HashingEncoder())
    path = current_version(root) / VECTORS_FILE
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError):
        load_index(root, expected_model=FAKE_MODEL)


def test_mismatched_sentence_vectors_are_refused(tmp_path: Path) -> None:
    vectors = SentenceVectors.from_rows([np.ones((2, 4), np.float32), np.ones((1, 4), np.float32)], 4)
    vectors.save(tmp_path)
    assert SentenceVectors.load(tmp_path, chunks=2, dim=4) is not None
    with pytest.raises(ValueError):
        SentenceVectors.load(tmp_path, chunks=3, dim=4)
    with pytest.raises(ValueError):
        SentenceVectors.load(tmp_path, chunks=2, dim=8)


def test_answers_use_the_stored_vectors_not_the_model(
    copy_fake_index: Callable[[], Path], fake_service_over: Callable[..., NewsQA],
) -> None:
    service = fake_service_over(copy_fake_index())
    counting = CountingEncoder()
    service.loaded.searcher.encoder = counting  # the answerer reaches the model through the searcher
    for question in ("朱志杰在古山镇强调了什么", "金台铁路永康段什么时候开工建设", "舟山镇被称为什么"):
        service.ask(question)
    assert counting.passages == 0


def test_an_index_mined_by_an_older_miner_is_brought_up_to_date(corpus_copy: Path, tmp_path: Path) -> None:
    """A lexicon-mining change (MINING_VERSION) redoes the lexicon, tokens and BM25 on the next
    build even though no corpus file changed, reusing every vector."""
    import json

    from retrieval.lexicon.mining import MINING_VERSION

    root = tmp_path / "index"
    update_index(corpus_copy, root, HashingEncoder())
    manifest_path = current_version(root) / "manifest.json"
    data = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert data["mining_version"] == MINING_VERSION
    del data["mining_version"]  # as written before the version was recorded
    manifest_path.write_text(json.dumps(data), encoding="utf-8")
    assert load_index(root, expected_model=FAKE_MODEL).manifest.mining_version == 1

    encoder = CountingEncoder()
    report = update_index(corpus_copy, root, encoder)
    assert not report.noop and report.embedded == 0 and report.sentences_embedded == 0
    assert encoder.passages == 0
    assert load_index(root, expected_model=FAKE_MODEL).manifest.mining_version == MINING_VERSION
    assert update_index(corpus_copy, root, HashingEncoder()).noop
