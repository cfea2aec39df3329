"""The peer: the hybrid retrieval Langchain-Chatchat runs by default, on our chunks and model.

Chatchat's ``EnsembleRetrieverService.from_vectorstore`` combines LangChain's ``BM25Retriever``
(rank_bm25, ``preprocess_func=jieba.lcut_for_search``) with a LangChain ``FAISS`` vector store
through ``EnsembleRetriever`` (weighted reciprocal rank fusion), weights 0.5/0.5. Chatchat
rebuilds the BM25 retriever from every stored document on each search; mode ``cached`` builds
it once (the peer's best case, used for the ratios), ``per-query`` as Chatchat does.

    python -m benchmarks.peer --root INDEX_DIR --questions FILE [--mode cached|per-query|scratch]

Chunks and vectors are read from one of our built indexes, so both systems search the same
passages with the same embeddings; queries are embedded by our Embedder (same backend) through
a LangChain ``Embeddings`` adapter. ``scratch`` embeds every chunk again through the adapter
(``FAISS.from_documents``), with the torch backend, as LangChain's HuggingFaceEmbeddings would.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from collections.abc import Sequence
from pathlib import Path

import jieba
import numpy as np
from langchain_community.retrievers import BM25Retriever
from langchain_community.vectorstores import FAISS
from langchain_community.vectorstores.utils import DistanceStrategy
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from benchmarks.child import emit
from benchmarks.workload import latency_summary
from retrieval.embed.encoder import Embedder
from retrieval.index.article_index import load_index

try:  # LangChain < 1.0
    from langchain.retrievers import EnsembleRetriever  # type: ignore[import-not-found]
except ImportError:  # LangChain 1.x moved it
    from langchain_classic.retrievers import EnsembleRetriever

TOP_K = 5
PER_QUERY_LIMIT = 5  # questions timed in per-query mode (each rebuilds BM25 over the corpus)


class EmbedderEmbeddings(Embeddings):
    """LangChain ``Embeddings`` over our Embedder: same model, prefixes and backend."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.encode_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.encode_queries([text])[0].tolist()


def vector_store(docs: Sequence[Document], embeddings: Embeddings, vectors: np.ndarray | None) -> FAISS:
    """Chatchat's FAISS store (inner product); from our vectors, or embedding every doc."""
    texts, metas = [d.page_content for d in docs], [d.metadata for d in docs]
    strategy = DistanceStrategy.MAX_INNER_PRODUCT
    if vectors is None:
        return FAISS.from_texts(texts, embeddings, metadatas=metas, distance_strategy=strategy)
    # numpy rows, not lists: FAISS.from_embeddings stacks them with np.array either way
    return FAISS.from_embeddings(zip(texts, list(vectors), strict=True), embeddings, metadatas=metas,
                                 distance_strategy=strategy)


def ensemble(store: FAISS, k: int = TOP_K) -> EnsembleRetriever:
    """``EnsembleRetrieverService.from_vectorstore`` without the score threshold."""
    docs = list(store.docstore._dict.values())  # type: ignore[attr-defined]
    bm25 = BM25Retriever.from_documents(docs, preprocess_func=jieba.lcut_for_search)
    bm25.k = k
    dense = store.as_retriever(search_kwargs={"k": k})
    return EnsembleRetriever(retrievers=[bm25, dense], weights=[0.5, 0.5])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", type=Path, required=True, help="one of our index folders (chunks + vectors)")
    ap.add_argument("--questions", type=Path, required=True)
    ap.add_argument("--mode", choices=["cached", "per-query", "scratch"], default="cached")
    ap.add_argument("--model-cache", type=Path, default=Path("data/models"))
    ap.add_argument("--limit", type=int, default=0, help="time only N questions, evenly spread over the file")
    a = ap.parse_args()

    index = load_index(a.root)
    docs = [Document(page_content=c.index_text, metadata={"article_id": c.article_id}) for c in index.chunks]
    vectors = None if a.mode == "scratch" else index.stored_vectors()
    del index
    backend: str | None = "torch" if a.mode == "scratch" else None
    embeddings = EmbedderEmbeddings(Embedder(cache_dir=a.model_cache, backend=backend))
    jieba.initialize()
    embeddings.embed_query("永康")  # model warm, as ours is before timing

    started = time.perf_counter()
    store = vector_store(docs, embeddings, vectors)
    stored = time.perf_counter()
    retriever = ensemble(store)
    built = time.perf_counter()
    emit(event="built", chunks=len(docs), mode=a.mode, backend=embeddings.embedder.backend,
         seconds=round(built - started, 2), faiss_s=round(stored - started, 2), bm25_s=round(built - stored, 2),
         rss_built_mib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))
    del vectors

    rows = [json.loads(line) for line in a.questions.read_text(encoding="utf-8").splitlines() if line]
    limit = PER_QUERY_LIMIT if a.mode == "per-query" else a.limit
    if limit and limit < len(rows):
        rows = [rows[i * len(rows) // limit] for i in range(limit)]
    retriever.invoke(rows[0]["q"])  # warm-up
    ms: list[float] = []
    top: list[list[str]] = []
    for row in rows:
        t = time.perf_counter()
        found = (ensemble(store) if a.mode == "per-query" else retriever).invoke(row["q"])[:TOP_K]
        ms.append((time.perf_counter() - t) * 1000)
        top.append(list(dict.fromkeys(d.metadata["article_id"] for d in found)))
    emit(event="served", mode=a.mode, search=latency_summary(ms), search_ms=[round(x, 2) for x in ms], top5=top,
         questions=[r["q"] for r in rows],
         peak_rss_mib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))


if __name__ == "__main__":
    main()
