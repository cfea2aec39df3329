"""Hybrid search: dense vectors (FAISS) and BM25 keywords, fused by reciprocal rank."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from retrieval.index import ArticleIndex
from retrieval.models import Hit

RRF_K = 60
CANDIDATES = 50


class QueryEncoder(Protocol):
    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...


# Invisible characters are deleted (朱\u200b志杰 is 朱志杰); control characters become spaces.
_INVISIBLE = re.compile(r"[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


class Simplifier(Protocol):
    def convert(self, text: str) -> str: ...


def make_simplifier() -> Simplifier:
    """Traditional → simplified converter (OpenCC tables, pure Python; ~0.1 s to build)."""
    from opencc import OpenCC

    return OpenCC("t2s")


def normalize_query(text: str, max_chars: int = 500, simplifier: Simplifier | None = None) -> str:
    """NFKC, no control characters, collapsed whitespace, traditional → simplified, truncated."""
    text = unicodedata.normalize("NFKC", _INVISIBLE.sub("", text))
    text = " ".join(_CONTROL.sub(" ", text).split())[:max_chars].rstrip()
    if simplifier is not None and text and not text.isascii():
        text = simplifier.convert(text)
    return text


@dataclass(frozen=True)
class SearchWeights:
    """RRF weights of each ranker; a ranker's list contributes weight / (RRF_K + rank)."""

    dense: float = 1.0
    keyword: float = 1.0


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest scores, best first. scores: (n,) float."""
    k = min(k, scores.shape[0])
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.argsort(-scores[part], kind="stable")]


class HybridSearcher:
    """Ranks an ArticleIndex's chunks for a question."""

    def __init__(self, index: ArticleIndex, encoder: QueryEncoder, weights: SearchWeights | None = None):
        self.index = index
        self.encoder = encoder
        self.weights = weights or SearchWeights()
        self.simplifier = make_simplifier()
        self._query_vectors: dict[str, np.ndarray] = {}
        self._cache_lock = threading.Lock()

    def normalize(self, query: str, max_chars: int = 500) -> str:
        return normalize_query(query, max_chars, self.simplifier)

    def query_vector(self, query: str) -> np.ndarray:
        """The query's embedding, (dim,) float32; the last few are remembered, since answering
        asks for the same question's vector more than once."""
        with self._cache_lock:
            cached = self._query_vectors.get(query)
        if cached is None:
            cached = self.encoder.encode_queries([query]).astype(np.float32)[0]
            with self._cache_lock:
                if len(self._query_vectors) >= 64:
                    self._query_vectors.pop(next(iter(self._query_vectors)))
                self._query_vectors[query] = cached
        return cached

    def forget_queries(self) -> None:
        """Drop remembered query vectors (benchmarks measure the embedding too)."""
        with self._cache_lock:
            self._query_vectors.clear()

    def dense_scores(self, qv: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-n chunk ids and their cosine similarities for query vector ``qv`` (dim,)."""
        if self.index.vectors.ntotal == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        sims, ids = self.index.vectors.search(qv[None, :], min(n, self.index.vectors.ntotal))
        keep = ids[0] >= 0
        return ids[0][keep].astype(np.int64), sims[0][keep]

    def keyword_scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk, (n_chunks,) float32."""
        tokens = self.index.tokenizer.tokens(query)
        n = len(self.index.chunks)
        if not tokens or n == 0:
            return np.zeros(n, dtype=np.float32)
        return np.asarray(self.index.bm25.get_scores(tokens), dtype=np.float32)[:n]

    def search(self, query: str, k: int = 5, candidates: int = CANDIDATES) -> list[Hit]:
        """The k best chunks for ``query``, fused from both rankers; [] for an empty query."""
        query = self.normalize(query)
        if not query or not self.index.chunks:
            return []
        qv = self.query_vector(query)
        dense_ids, dense_sims = self.dense_scores(qv, candidates)
        keyword = self.keyword_scores(query)
        keyword_ids = top_k(keyword, candidates)
        keyword_ids = keyword_ids[keyword[keyword_ids] > 0]

        fused: dict[int, float] = {}
        for rank, cid in enumerate(dense_ids.tolist()):
            fused[cid] = fused.get(cid, 0.0) + self.weights.dense / (RRF_K + rank + 1)
        for rank, cid in enumerate(keyword_ids.tolist()):
            fused[cid] = fused.get(cid, 0.0) + self.weights.keyword / (RRF_K + rank + 1)
        dense_of = dict(zip(dense_ids.tolist(), dense_sims.tolist(), strict=True))
        best = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]
        for cid, _ in best:  # keyword-only hits still get a true cosine, for answer calibration
            if cid not in dense_of:
                dense_of[cid] = float(self.index.vectors.reconstruct(int(cid)) @ qv)
        return [
            Hit(self.index.chunks[cid], score, rank, dense=float(dense_of[cid]), keyword=float(keyword[cid]))
            for rank, (cid, score) in enumerate(best)
        ]
