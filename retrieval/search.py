"""Hybrid search: dense vectors (FAISS) and BM25 keywords, fused by reciprocal rank."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol

import numpy as np

from retrieval.index.article_index import ArticleIndex
from retrieval.models import Hit
from retrieval.text import make_simplifier, normalize_query

RRF_K = 60
CANDIDATES = 50


class QueryEncoder(Protocol):
    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest scores, best first. scores: (n,) float."""
    k = min(k, scores.shape[0])
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.argsort(-scores[part], kind="stable")]


class HybridSearcher:
    """Ranks an ArticleIndex's chunks for a question."""

    def __init__(self, index: ArticleIndex, encoder: QueryEncoder, cached_queries: int = 64):
        self.index = index
        self.encoder = encoder
        self.simplifier = make_simplifier()
        # Answering asks for the same question's vector more than once; lru_cache is thread-safe.
        self._cached_vector = lru_cache(maxsize=cached_queries)(self._embed_query)

    def normalize(self, query: str, max_chars: int = 500) -> str:
        return normalize_query(query, max_chars, self.simplifier)

    def _embed_query(self, query: str) -> np.ndarray:
        vector = self.encoder.encode_queries([query]).astype(np.float32)[0]
        vector.flags.writeable = False  # shared by every caller of the cache
        return vector

    def query_vector(self, query: str) -> np.ndarray:
        """The query's embedding, (dim,) float32, read-only; recent queries are remembered."""
        return self._cached_vector(query)

    def forget_queries(self) -> None:
        """Drop remembered query vectors (benchmarks measure the embedding too)."""
        self._cached_vector.cache_clear()

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
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
        for rank, cid in enumerate(keyword_ids.tolist()):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
        dense_of = dict(zip(dense_ids.tolist(), dense_sims.tolist(), strict=True))
        best = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]
        for cid, _ in best:  # keyword-only hits still get a true cosine, for answer calibration
            if cid not in dense_of:
                dense_of[cid] = float(self.index.vectors.reconstruct(int(cid)) @ qv)
        return [
            Hit(self.index.chunks[cid], score, rank, dense=float(dense_of[cid]), keyword=float(keyword[cid]))
            for rank, (cid, score) in enumerate(best)
        ]
