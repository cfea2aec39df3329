"""Build or update the index from a corpus folder: ingest → chunk → embed → FAISS + BM25 → swap.

Only chunks whose text is new are embedded: vectors of unchanged text are reused from
the current index, and from checkpoint shards written while a killed build was running,
so an interrupted build resumes without redoing finished work.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from retrieval.chunk import chunk_articles
from retrieval.index import ArticleIndex, ProgressFn, load_index, make_keyword_index, make_vector_index
from retrieval.ingest import IngestProblem, iter_corpus_files, load_corpus
from retrieval.lexicon import WordTokenizer, mine_lexicon
from retrieval.store import (
    IndexStoreError,
    Manifest,
    build_lock,
    collect_garbage,
    commit_version,
    file_sha256,
    new_version_dir,
)

log = logging.getLogger(__name__)

EMBED_BATCH = 256  # chunks per checkpoint step


class PassageEncoder(Protocol):
    name: str
    dim: int

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray: ...


@dataclass
class BuildReport:
    """What a build did. File lists hold corpus-relative names."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[IngestProblem] = field(default_factory=list)
    articles: int = 0
    chunks: int = 0
    articles_before: int = 0
    chunks_before: int = 0
    embedded: int = 0
    reused: int = 0
    seconds: float = 0.0
    noop: bool = False
    version: str = ""


def text_digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def corpus_hashes(corpus: Path) -> tuple[dict[str, str], list[IngestProblem]]:
    """sha256 of every corpus file, keyed by the same name ingestion uses as ``source``."""
    hashes: dict[str, str] = {}
    problems: list[IngestProblem] = []
    base = corpus if corpus.is_dir() else corpus.parent
    for path in iter_corpus_files(corpus):
        try:
            hashes[path.relative_to(base).as_posix()] = file_sha256(path)
        except OSError as exc:  # deleted or unreadable while we look
            problems.append(IngestProblem(str(path), f"无法读取文件：{exc.strerror or exc}", None))
    return hashes, problems


class _Checkpoint:
    """Vectors embedded by an unfinished build, in small .npz shards beside the index."""

    def __init__(self, root: Path, model: str) -> None:
        self.dir = root / "checkpoint" / text_digest(model)[:12]
        self.dir.mkdir(parents=True, exist_ok=True)

    def load(self) -> dict[str, np.ndarray]:
        cache: dict[str, np.ndarray] = {}
        for shard in sorted(self.dir.glob("shard-*.npz")):
            try:
                with np.load(shard) as data:
                    cache.update(zip(data["digests"].tolist(), data["vectors"], strict=True))
            except (OSError, ValueError, KeyError):  # a shard cut short by a kill
                shard.unlink(missing_ok=True)
        return cache

    def save(self, digests: list[str], vectors: np.ndarray) -> None:
        name = f"shard-{time.time_ns()}"
        tmp = self.dir / f"{name}.tmp.npz"
        np.savez(tmp, digests=np.array(digests), vectors=vectors)
        tmp.replace(self.dir / f"{name}.npz")

    def clear(self) -> None:
        shutil.rmtree(self.dir.parent, ignore_errors=True)


def _previous_index(root: Path, model: str) -> ArticleIndex | None:
    try:
        return load_index(root, expected_model=model)
    except IndexStoreError as exc:
        log.info("no reusable previous index: %s", exc)
        return None


def _embed_missing(
    texts: list[str], cache: dict[str, np.ndarray], encoder: PassageEncoder,
    checkpoint: _Checkpoint, progress: ProgressFn | None,
) -> int:
    missing: dict[str, str] = {}
    for text in texts:
        digest = text_digest(text)
        if digest not in cache:
            missing.setdefault(digest, text)
    todo = list(missing.items())
    for start in range(0, len(todo), EMBED_BATCH):
        batch = todo[start : start + EMBED_BATCH]
        vectors = encoder.encode_passages([t for _, t in batch]).astype(np.float32)
        checkpoint.save([d for d, _ in batch], vectors)
        cache.update(zip((d for d, _ in batch), vectors, strict=True))
        if progress:
            progress("embed", min(start + EMBED_BATCH, len(todo)), len(todo))
    return len(todo)


def update_index(
    corpus: Path,
    root: Path,
    encoder: PassageEncoder,
    *,
    rebuild: bool = False,
    progress: ProgressFn | None = None,
) -> BuildReport:
    """Bring the index under ``root`` up to date with ``corpus``; a no-op if nothing changed.

    Raises IndexBusyError if another build holds the lock.
    """
    started = time.perf_counter()
    with build_lock(root):
        collect_garbage(root)
        hashes, problems = corpus_hashes(corpus)
        old = None if rebuild else _previous_index(root, encoder.name)
        old_files = old.manifest.files if old else {}
        report = BuildReport(
            added=sorted(set(hashes) - set(old_files)),
            removed=sorted(set(old_files) - set(hashes)),
            changed=sorted(n for n in hashes if n in old_files and old_files[n] != hashes[n]),
            unchanged=sorted(n for n in hashes if old_files.get(n) == hashes[n]),
            articles_before=len(old.articles) if old else 0,
            chunks_before=len(old.chunks) if old else 0,
        )
        if old is not None and old_files == hashes:
            report.noop, report.articles, report.chunks = True, len(old.articles), len(old.chunks)
            report.problems = problems
            report.seconds = time.perf_counter() - started
            report.version = old.path.name if old.path else ""
            return report

        ingested = load_corpus(corpus)
        report.problems = problems + ingested.problems
        articles = ingested.articles
        chunks = list(chunk_articles(articles))
        if progress:
            progress("chunk", len(chunks), len(chunks))

        checkpoint = _Checkpoint(root, encoder.name)
        cache = checkpoint.load()
        if old is not None:
            cache.update(zip((text_digest(c.index_text) for c in old.chunks), old.stored_vectors(), strict=True))
        texts = [c.index_text for c in chunks]
        report.embedded = _embed_missing(texts, cache, encoder, checkpoint, progress)
        report.reused = len(chunks) - report.embedded
        vectors = (
            np.stack([cache[text_digest(t)] for t in texts]).astype(np.float32)
            if texts else np.zeros((0, encoder.dim), dtype=np.float32)
        )
        del cache

        lexicon = mine_lexicon(f"{a.headline}\n{a.byline}\n{a.text}" for a in articles)
        tokenizer = WordTokenizer(lexicon)
        token_lists = []
        for i, text in enumerate(texts):
            token_lists.append(tokenizer.tokens(text))
            if progress and (i + 1) % 2000 == 0:
                progress("keywords", i + 1, len(texts))
        vector_index, kind = make_vector_index(vectors)
        manifest = Manifest(
            model=encoder.name, dim=encoder.dim, files=hashes, articles=len(articles),
            chunks=len(chunks), vector_index=kind, build_seconds=time.perf_counter() - started,
        )
        index = ArticleIndex(manifest, articles, chunks, vector_index, make_keyword_index(token_lists), lexicon)
        tmp = new_version_dir(root)
        index.save(tmp)
        final = commit_version(root, tmp, manifest)
        checkpoint.clear()
        collect_garbage(root)
        report.articles, report.chunks = len(articles), len(chunks)
        report.version = final.name
        report.seconds = time.perf_counter() - started
        if progress:
            progress("done", len(chunks), len(chunks))
        return report
