"""Build or update the index from a corpus folder: ingest → chunk → embed → FAISS + BM25 → swap.

Only chunks whose text is new are embedded: vectors of unchanged text are reused from
the current index, and from checkpoint shards written while a killed build was running,
so an interrupted build resumes without redoing finished work.

A build may be killed at any moment (``scripts/crash_test.py`` does, ≥ 20 times): the lock is
an flock the kernel releases, the new version becomes visible only through
``store.commit_version``'s atomic swap, and the next build removes whatever the killed one
left (``tmp-*`` folders, half-written checkpoint shards). The manifest lists each corpus file
with the hash of the bytes that were actually ingested, so a file that changes or vanishes
while the build runs is never recorded as indexed when it is not.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from retrieval.chunk import chunk_articles
from retrieval.fs import file_sha256, write_atomic
from retrieval.index.article_index import ArticleIndex, load_index
from retrieval.index.keywords import (
    TOKENS_FILE,
    keyword_index_from_ids,
    load_token_cache,
    save_token_ids,
    token_ids,
    tokenize_chunks,
)
from retrieval.index.store import (
    IndexStoreError,
    Manifest,
    build_lock,
    collect_garbage,
    commit_version,
    new_version_dir,
    trace,
)
from retrieval.index.vectors import make_vector_index
from retrieval.ingest.files import load_corpus, scan_corpus
from retrieval.lexicon.mining import mine_lexicon
from retrieval.lexicon.tokenizer import WordTokenizer
from retrieval.models import IngestProblem, ProgressFn

log = logging.getLogger(__name__)

EMBED_BATCH = 256  # chunks per checkpoint step
EMBED_BATCH_ENV = "NEWSQA_EMBED_BATCH"  # override (the crash test uses small steps to test resuming)


def _embed_batch() -> int:
    try:
        return max(1, int(os.environ.get(EMBED_BATCH_ENV, EMBED_BATCH)))
    except ValueError:
        return EMBED_BATCH


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
    tokenized: int = 0  # chunks tokenised afresh for keyword search (the rest reused)
    seconds: float = 0.0
    noop: bool = False
    version: str = ""


def text_digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def corpus_hashes(corpus: Path) -> tuple[dict[str, str], list[IngestProblem]]:
    """sha256 of every corpus file, keyed by the same name ingestion uses as ``source``.

    Only decides whether anything changed; the manifest records the hashes ingestion computes
    from the bytes it actually read (``IngestReport.hashes``).
    """
    hashes: dict[str, str] = {}
    problems: list[IngestProblem] = []
    base = corpus if corpus.is_dir() else corpus.parent
    files, _ = scan_corpus(corpus)  # files it skips are reported by load_corpus
    for path in files:
        name = path.relative_to(base).as_posix()
        try:
            hashes[name] = file_sha256(path)
        except OSError as exc:  # deleted or unreadable while we look
            problems.append(IngestProblem(name, f"无法读取文件：{exc.strerror or exc}"))
    return hashes, problems


class _Checkpoint:
    """Vectors embedded by an unfinished build, in small .npz shards beside the index.

    A shard is written to ``*.npz.tmp``, fsynced and renamed, so a shard with the final name
    is complete; leftovers of a kill (``*.tmp``, unreadable shards, shards of other models)
    are removed when the next build opens the checkpoint.
    """

    def __init__(self, root: Path, model: str) -> None:
        self.dir = root / "checkpoint" / text_digest(model)[:12]
        self.dir.mkdir(parents=True, exist_ok=True)
        for other in self.dir.parent.iterdir():  # stale shards of another model
            if other == self.dir:
                continue
            if other.is_dir():
                shutil.rmtree(other, ignore_errors=True)
            else:
                other.unlink(missing_ok=True)
        for tmp in self.dir.glob("*.tmp"):
            tmp.unlink(missing_ok=True)

    def load(self) -> dict[str, np.ndarray]:
        cache: dict[str, np.ndarray] = {}
        for shard in sorted(self.dir.glob("shard-*.npz")):
            try:
                with np.load(shard) as data:
                    cache.update(zip(data["digests"].tolist(), data["vectors"], strict=True))
            except Exception:  # a shard damaged some other way (e.g. power loss): just redo it
                log.warning("discarding unreadable checkpoint shard %s", shard.name)
                shard.unlink(missing_ok=True)
        return cache

    def save(self, digests: list[str], vectors: np.ndarray) -> None:
        write_atomic(self.dir / f"shard-{time.time_ns()}.npz",
                     lambda fh: np.savez(fh, digests=np.array(digests), vectors=vectors))

    def clear(self) -> None:
        shutil.rmtree(self.dir.parent, ignore_errors=True)


def clear_checkpoints(root: Path) -> None:
    """Remove every checkpoint shard under ``root`` (the index is up to date, nothing to resume)."""
    shutil.rmtree(root / "checkpoint", ignore_errors=True)


def _previous_index(root: Path, model: str) -> ArticleIndex | None:
    try:
        return load_index(root, expected_model=model)
    except IndexStoreError as exc:
        log.info("no reusable previous index: %s", exc)
        return None


def _embed_missing(
    texts: list[str], digests: list[str], cache: dict[str, np.ndarray], encoder: PassageEncoder,
    checkpoint: _Checkpoint, progress: ProgressFn | None,
) -> int:
    missing: dict[str, str] = {}
    for text, digest in zip(texts, digests, strict=True):
        if digest not in cache:
            missing.setdefault(digest, text)
    todo = list(missing.items())
    step = _embed_batch()
    for start in range(0, len(todo), step):
        batch = todo[start : start + step]
        vectors = encoder.encode_passages([t for _, t in batch]).astype(np.float32)
        checkpoint.save([d for d, _ in batch], vectors)
        trace(f"embed:{min(start + step, len(todo))}/{len(todo)}")
        cache.update(zip((d for d, _ in batch), vectors, strict=True))
        if progress:
            progress("embed", min(start + step, len(todo)), len(todo))
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
    if not corpus.exists():  # unmounted or mistyped: never replace the index with an empty one
        raise IndexStoreError(f"语料目录 {corpus} 不存在，索引没有改动。")
    trace("start")
    with build_lock(root):
        trace("locked")
        collect_garbage(root)
        trace("hash")
        hashes, problems = corpus_hashes(corpus)
        trace("load-old")
        old = None if rebuild else _previous_index(root, encoder.name)
        old_files = old.manifest.files if old else {}
        if old is not None and old_files == hashes:
            report = _compare(hashes, old_files, old)
            report.noop, report.articles, report.chunks = True, len(old.articles), len(old.chunks)
            report.problems = problems
            report.seconds = time.perf_counter() - started
            report.version = old.path.name if old.path else ""
            clear_checkpoints(root)
            trace("noop")
            return report

        trace("ingest")
        ingested = load_corpus(corpus)
        # What the new version holds: the bytes ingestion read, not the earlier look.
        hashes = ingested.hashes
        report = _compare(hashes, old_files, old)
        vanished = {p.path for p in ingested.problems}
        report.problems = [p for p in problems if p.path not in vanished and p.path not in hashes] + ingested.problems
        articles = ingested.articles
        trace("chunk")
        chunks = list(chunk_articles(articles))
        if progress:
            progress("chunk", len(chunks), len(chunks))

        trace("embed")
        checkpoint = _Checkpoint(root, encoder.name)
        cache = checkpoint.load()
        old_digests = [text_digest(c.index_text) for c in old.chunks] if old is not None else []
        if old is not None:
            cache.update(zip(old_digests, old.stored_vectors(), strict=True))
        texts = [c.index_text for c in chunks]
        digests = [text_digest(t) for t in texts]
        report.embedded = _embed_missing(texts, digests, cache, encoder, checkpoint, progress)
        report.reused = len(chunks) - report.embedded
        vectors = (
            np.stack([cache[d] for d in digests]).astype(np.float32)
            if texts else np.zeros((0, encoder.dim), dtype=np.float32)
        )
        del cache

        trace("keywords")
        lexicon = mine_lexicon(f"{a.headline}\n{a.byline}\n{a.text}" for a in articles)
        previous_tokens = (load_token_cache(old.path, old_digests, old.lexicon)
                           if old is not None and old.path is not None else None)
        token_lists, report.tokenized = tokenize_chunks(texts, digests, WordTokenizer(lexicon),
                                                        previous_tokens, progress)
        del previous_tokens
        id_lists, vocab = token_ids(token_lists)
        del token_lists
        trace("vectors")
        vector_index, kind = make_vector_index(vectors)
        manifest = Manifest(
            model=encoder.name, dim=encoder.dim, files=hashes, articles=len(articles),
            chunks=len(chunks), vector_index=kind, build_seconds=time.perf_counter() - started,
        )
        trace("bm25")
        index = ArticleIndex(manifest, articles, chunks, vector_index, keyword_index_from_ids(id_lists, vocab), lexicon)
        trace("save")
        tmp = new_version_dir(root)
        index.save(tmp)
        save_token_ids(tmp / TOKENS_FILE, id_lists, vocab)
        final = commit_version(root, tmp, manifest)
        trace("checkpoint-clear")
        checkpoint.clear()
        collect_garbage(root)
        report.articles, report.chunks = len(articles), len(chunks)
        report.version = final.name
        report.seconds = time.perf_counter() - started
        trace("done")
        if progress:
            progress("done", len(chunks), len(chunks))
        return report


def _compare(hashes: dict[str, str], old_files: dict[str, str], old: ArticleIndex | None) -> BuildReport:
    return BuildReport(
        added=sorted(set(hashes) - set(old_files)),
        removed=sorted(set(old_files) - set(hashes)),
        changed=sorted(n for n in hashes if n in old_files and old_files[n] != hashes[n]),
        unchanged=sorted(n for n in hashes if old_files.get(n) == hashes[n]),
        articles_before=len(old.articles) if old else 0,
        chunks_before=len(old.chunks) if old else 0,
    )
