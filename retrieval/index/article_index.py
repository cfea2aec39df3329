"""ArticleIndex: the searchable in-memory index (FAISS + BM25 + chunk store), saved to and loaded
from a versioned folder (``retrieval.index.store``)."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path

import bm25s
import faiss
import numpy as np

from retrieval.index.sentences import SentenceVectors
from retrieval.index.store import (
    REBUILD_HINT,
    IndexCorruptError,
    IndexModelMismatchError,
    Manifest,
    current_version,
    read_manifest,
    verify_checksums,
)
from retrieval.lexicon.mining import Lexicon
from retrieval.lexicon.tokenizer import WordTokenizer
from retrieval.models import Article, Chunk

log = logging.getLogger(__name__)

# Files every index version must list in its manifest's checksums (bm25/ files are listed too).
_DATA_FILES = ("articles.jsonl", "chunks.jsonl", "vectors.faiss", "lexicon.json")
@dataclass
class ArticleIndex:
    """Everything a query needs, in memory.

    ``vectors`` holds one row per chunk, row i ↔ ``chunks[i]`` (chunk ids are
    0..n-1 in order); ``bm25`` has the same row order; ``sentences`` holds a vector per
    sentence of each chunk (``retrieval.index.sentences``).
    """

    manifest: Manifest
    articles: list[Article]
    chunks: list[Chunk]
    vectors: faiss.Index
    bm25: bm25s.BM25
    lexicon: Lexicon
    path: Path | None = None
    sentences: SentenceVectors | None = None  # absent in indexes built before sentence vectors
    tokenizer: WordTokenizer = field(init=False)

    def __post_init__(self) -> None:
        self.tokenizer = WordTokenizer(self.lexicon)

    @cached_property
    def article_by_id(self) -> dict[str, Article]:
        return {a.id: a for a in self.articles}

    @cached_property
    def articles_by_byline_name(self) -> dict[str, list[Article]]:
        """Inverted index from each name in a byline (记者 张赤奎 施夏琦) to its articles."""
        index: dict[str, list[Article]] = {}
        for article in self.articles:
            for name in article.byline.replace("（", " ").replace("）", " ").split():
                index.setdefault(name, []).append(article)
        return index

    @cached_property
    def _vocab(self) -> dict[str, int]:
        return self.bm25.vocab_dict or {}

    def chunks_with_token(self, token: str) -> np.ndarray:
        """Chunk ids whose keyword tokens include ``token``: the BM25 posting list (int array)."""
        token_id = self._vocab.get(token) if token else None
        scores = self.bm25.scores
        # bm25s keeps "" in its vocabulary without a column in the score matrix.
        if token_id is None or token_id + 1 >= len(scores["indptr"]):
            return np.empty(0, dtype=np.int64)
        start, end = scores["indptr"][token_id], scores["indptr"][token_id + 1]
        return np.asarray(scores["indices"][start:end], dtype=np.int64)

    def stored_vectors(self) -> np.ndarray:
        """All chunk vectors, (n, dim) float32, in chunk order."""
        n = self.vectors.ntotal
        if n == 0:
            return np.zeros((0, self.manifest.dim), dtype=np.float32)
        return self.vectors.reconstruct_n(0, n)

    # -- persistence -------------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        """Write the data files (not the manifest: ``store.commit_version`` writes that last)."""
        with (folder / "articles.jsonl").open("w", encoding="utf-8") as fh:
            for article in self.articles:
                fh.write(json.dumps(_fields(article), ensure_ascii=False) + "\n")
        with (folder / "chunks.jsonl").open("w", encoding="utf-8") as fh:
            for chunk in self.chunks:
                fh.write(json.dumps(_fields(chunk), ensure_ascii=False) + "\n")
        faiss.write_index(self.vectors, str(folder / "vectors.faiss"))
        self.bm25.save(str(folder / "bm25"), show_progress=False)
        if self.sentences is not None:
            self.sentences.save(folder)
        (folder / "lexicon.json").write_text(
            json.dumps(self.lexicon.to_json(), ensure_ascii=False), encoding="utf-8"
        )


def load_index(root: Path, expected_model: str | None = None, verify: bool = True) -> ArticleIndex:
    """Load the current version under ``root``.

    Raises IndexMissingError, IndexModelMismatchError or IndexCorruptError with a
    message that says how to rebuild; never returns a partial index.
    """
    started = time.perf_counter()
    folder = current_version(root)
    manifest = read_manifest(folder)
    if expected_model is not None and manifest.model != expected_model:
        raise IndexModelMismatchError(
            f"索引是用模型 {manifest.model} 建立的，而当前配置的模型是 {expected_model}。"
            f"请运行 `newsqa index --rebuild`，或把 EMBEDDING_MODEL 改回 {manifest.model}。"
        )
    if verify:
        verify_checksums(folder, manifest, required=_DATA_FILES)
    try:
        articles = [
            Article(**{**row, "paragraphs": tuple(row["paragraphs"])})
            for row in _read_jsonl(folder / "articles.jsonl")
        ]
        chunks = [Chunk(**row) for row in _read_jsonl(folder / "chunks.jsonl")]
        vectors = faiss.read_index(str(folder / "vectors.faiss"))
        bm25 = bm25s.BM25.load(str(folder / "bm25"), mmap=False, show_progress=False)
        lexicon = Lexicon.from_json(json.loads((folder / "lexicon.json").read_text(encoding="utf-8")))
        sentences = SentenceVectors.load(folder, len(chunks), manifest.dim)
    except (OSError, ValueError, TypeError, KeyError, RuntimeError) as exc:
        raise IndexCorruptError(f"索引 {folder} 无法读取（{exc}）。{REBUILD_HINT}") from exc
    if vectors.ntotal != len(chunks) or len(chunks) != manifest.chunks or vectors.d != manifest.dim:
        raise IndexCorruptError(
            f"索引 {folder} 内容不一致：{vectors.ntotal} 个向量、{len(chunks)} 个段落，"
            f"manifest 记录 {manifest.chunks} 个。{REBUILD_HINT}"
        )
    log.info("loaded index %s: %d articles, %d chunks in %.2fs", folder.name, len(articles),
             len(chunks), time.perf_counter() - started)
    return ArticleIndex(manifest, articles, chunks, vectors, bm25, lexicon, path=folder, sentences=sentences)


def _fields(record: Article | Chunk) -> dict:
    """A flat record's fields (``asdict`` deep-copies each one: 1.5 s of a 10k-item update)."""
    return {f.name: getattr(record, f.name) for f in fields(record)}


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
