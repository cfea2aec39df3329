"""NewsQA: the running question-answering service — current index, searcher and answerer.

Held by the CLI and the bot. Swapping to a rebuilt index is one attribute
assignment, so a question in flight finishes on the index it started with.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.index.article_index import ArticleIndex, load_index
from retrieval.index.build import BuildReport, PassageEncoder, update_index
from retrieval.index.store import IndexMissingError
from retrieval.models import Answer, Hit, ProgressFn
from retrieval.qa.answer import Answerer, ReaderRole
from retrieval.qa.reading import DEFAULT_MARGIN
from retrieval.read.reader import Reader, ReadSpan
from retrieval.search import HybridSearcher, QueryEncoder


class Encoder(PassageEncoder, QueryEncoder):
    pass


class LazyEncoder:
    """Stands in for the embedding model until it is really needed: ``name`` is known up
    front, so a no-op ``newsqa index`` or a cold start never pays for loading the model."""

    def __init__(self, name: str, factory: Callable[[], Encoder]) -> None:
        self.name = name
        self._factory = factory
        self._encoder: Encoder | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> Encoder:
        with self._lock:
            if self._encoder is None:
                self._encoder = self._factory()
            return self._encoder

    @property
    def dim(self) -> int:
        return self.loaded.dim

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.loaded.encode_queries(texts)

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self.loaded.encode_passages(texts, progress=progress)


class LazyReader:
    """Stands in for the reader until the first question needs it (loading exports its graph
    once, in a child process, then takes ~0.5 s)."""

    def __init__(self, factory: Callable[[], Reader]) -> None:
        self._factory = factory
        self._reader: Reader | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> Reader:
        with self._lock:
            if self._reader is None:
                self._reader = self._factory()
            return self._reader

    def read(self, question: str, passages: Sequence[str]) -> list[ReadSpan | None]:
        return self.loaded.read(question, passages)


@dataclass(frozen=True)
class _Loaded:
    index: ArticleIndex
    searcher: HybridSearcher
    answerer: Answerer


class NewsQA:
    """Answer questions from the index under ``index_root``.

    ``encoder`` is created lazily by ``encoder_factory`` so that commands which
    never embed (``articles``, a no-op ``index``) do not pay for loading the model.
    """

    def __init__(
        self,
        index_root: Path,
        encoder_factory: Callable[[], Encoder],
        model_name: str,
        max_question_chars: int = 500,
        sentence_vectors: bool = True,
        reader_factory: Callable[[], Reader] | None = None,
        reader_margin: float = DEFAULT_MARGIN,
        reader_role: ReaderRole = "decides",
    ) -> None:
        self.index_root = index_root
        # None: the rules answer (retrieval.qa.answer); else the trained reader decides
        # (reader_role "decides") or picks the short answer in the rules' sentence ("spans")
        self.reader = LazyReader(reader_factory) if reader_factory is not None else None
        self.reader_margin = reader_margin
        self.reader_role: ReaderRole = reader_role
        self.sentence_vectors = sentence_vectors
        self.model_name = model_name
        self.max_question_chars = max_question_chars
        self.encoder = LazyEncoder(model_name, encoder_factory)
        self._loaded: _Loaded | None = None

    def load(self) -> ArticleIndex:
        """(Re)load the current index from disk and swap it in; raises IndexStoreError."""
        index = load_index(self.index_root, expected_model=self.model_name)
        searcher = HybridSearcher(index, self.encoder)
        self._loaded = _Loaded(index, searcher, self._answerer(searcher))
        return index

    def refresh(self, warm_up: str | None = "永康") -> Path | None:
        """Load the current version (checksums verified) and swap it in only once it is ready:
        unlike :meth:`load`, the new index first answers ``warm_up`` (its lazy tables built),
        so the first question after the swap is not slower. The old version keeps serving until
        then, and if anything fails (IndexStoreError). Used by read-only replicas
        (``retrieval.index.follow``); returns the version folder now in service."""
        index = load_index(self.index_root, expected_model=self.model_name, verify=True)
        searcher = HybridSearcher(index, self.encoder)
        ready = _Loaded(index, searcher, self._answerer(searcher))
        if warm_up:
            ready.answerer.answer(warm_up)
        self._loaded = ready
        return index.path

    def _answerer(self, searcher: HybridSearcher) -> Answerer:
        return Answerer(searcher, self.max_question_chars, reader=self.reader, reader_margin=self.reader_margin,
                        reader_role=self.reader_role)

    @property
    def loaded(self) -> _Loaded:
        if self._loaded is None:
            self.load()
        assert self._loaded is not None
        return self._loaded

    @property
    def index(self) -> ArticleIndex:
        return self.loaded.index

    def search(self, question: str, k: int = 5) -> list[Hit]:
        return self.loaded.searcher.search(question, k)

    def ask(self, question: str) -> Answer:
        started = time.perf_counter()
        answer = self.loaded.answerer.answer(question)
        return answer.with_timing((time.perf_counter() - started) * 1000)

    def warm_up(self) -> None:
        """Load model, index and reader (exporting its graph the first time) and run one query,
        so the first user does not wait."""
        self.ask("永康")
        if self.reader is not None:
            _ = self.reader.loaded

    def reindex(self, corpus: Path, *, rebuild: bool = False, progress: ProgressFn | None = None) -> BuildReport:
        """Update the index on disk, then swap it in (unless nothing changed)."""
        if not corpus.exists():
            raise IndexMissingError(f"语料目录 {corpus} 不存在，索引保持不变。")
        report = update_index(corpus, self.index_root, self.encoder, rebuild=rebuild, progress=progress,
                              sentence_vectors=self.sentence_vectors)
        if not report.noop or self._loaded is None:
            self.load()
        return report
