"""The index: vectors (FAISS) + keywords (BM25) + the chunk store, in versioned folders swapped
atomically, and the build that brings it up to date with a corpus."""

from retrieval.index.article_index import ArticleIndex, load_index
from retrieval.index.build import BuildReport, update_index
from retrieval.index.store import IndexBusyError, IndexStoreError

__all__ = ["ArticleIndex", "BuildReport", "IndexBusyError", "IndexStoreError", "load_index", "update_index"]
