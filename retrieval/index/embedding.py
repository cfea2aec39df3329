"""Embedding texts for an index build, reusing what is known: vectors are keyed by the digest
of their text, taken from the previous version or the checkpoint of an unfinished build, and
only the rest go through the model, in checkpointed steps. Chunks and sentences both go
through here (``retrieval.index.sentences``)."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from retrieval.fs import write_atomic
from retrieval.index.sentences import SentenceVectors, chunk_sentences
from retrieval.index.store import trace
from retrieval.models import Chunk, ProgressFn

if TYPE_CHECKING:
    from retrieval.index.article_index import ArticleIndex

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


def text_digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class Checkpoint:
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


def sentence_vectors(
    chunks: list[Chunk], old: ArticleIndex | None, cache: dict[str, np.ndarray], encoder: PassageEncoder,
    checkpoint: Checkpoint, progress: ProgressFn | None,
) -> tuple[SentenceVectors, int]:
    """A vector per sentence of every chunk, and how many were embedded afresh: the rest are
    reused from ``cache`` and the previous version by text digest."""
    if old is not None and old.sentences is not None:
        cache.update(_sentence_cache(old))
    per_chunk = [chunk_sentences(c.text) for c in chunks]
    flat = [s for sentences in per_chunk for s in sentences]
    digests = [text_digest(s) for s in flat]
    embedded = embed_missing(flat, digests, cache, encoder, checkpoint, progress, stage="sentences")
    rows = iter(digests)
    vectors = SentenceVectors.from_rows(
        [np.stack([cache[next(rows)] for _ in sentences]) if sentences
         else np.zeros((0, encoder.dim), dtype=np.float32) for sentences in per_chunk],
        encoder.dim,
    )
    return vectors, embedded


def _sentence_cache(old: ArticleIndex) -> dict[str, np.ndarray]:
    """The previous version's sentence vectors by text digest, for reuse: float16 rows of its
    memory-mapped file, not float32 copies (a float32 copy of every sentence of a 74k archive
    would add ~1 GB to the build; the rows are stored as float16 again, so nothing changes)."""
    assert old.sentences is not None
    cache: dict[str, np.ndarray] = {}
    for chunk in old.chunks:
        for text, vector in zip(chunk_sentences(chunk.text), old.sentences.of_chunk(chunk.id), strict=True):
            cache[text_digest(text)] = vector
    return cache


def embed_missing(
    texts: list[str], digests: list[str], cache: dict[str, np.ndarray], encoder: PassageEncoder,
    checkpoint: Checkpoint, progress: ProgressFn | None, stage: str = "embed",
) -> int:
    missing: dict[str, str] = {}
    for text, digest in zip(texts, digests, strict=True):
        if digest not in cache:
            missing.setdefault(digest, text)
    todo = list(missing.items())
    step = _embed_batch()
    stream = getattr(encoder, "encode_batches", None)
    if stream is not None:  # a distributed encoder (retrieval.index.ray_build): batches end in any order
        return _embed_streamed(todo, step, stream, cache, checkpoint, progress, stage)
    for start in range(0, len(todo), step):
        batch = todo[start : start + step]
        vectors = encoder.encode_passages([t for _, t in batch]).astype(np.float32)
        checkpoint.save([d for d, _ in batch], vectors)
        trace(f"{stage}:{min(start + step, len(todo))}/{len(todo)}")
        cache.update(zip((d for d, _ in batch), vectors, strict=True))
        if progress:
            progress(stage, min(start + step, len(todo)), len(todo))
    return len(todo)


BatchStream = Callable[[list[list[str]]], Iterator[tuple[int, np.ndarray]]]


def _embed_streamed(
    todo: list[tuple[str, str]], step: int, stream: BatchStream, cache: dict[str, np.ndarray],
    checkpoint: Checkpoint, progress: ProgressFn | None, stage: str,
) -> int:
    """``embed_missing`` for an encoder with ``encode_batches(batches)``, which embeds the same
    checkpoint steps elsewhere (e.g. Ray workers) and yields ``(batch number, vectors)`` as each
    finishes, in any order: each is checkpointed here as it arrives, so a killed build resumes."""
    batches = [todo[start : start + step] for start in range(0, len(todo), step)]
    pending = set(range(len(batches)))
    done = 0
    for number, result in stream([[t for _, t in batch] for batch in batches]):
        batch = batches[number]
        vectors = np.asarray(result, dtype=np.float32)
        if number not in pending or vectors.shape[0] != len(batch):
            raise RuntimeError(f"embedding batch {number}: unexpected or duplicate result {vectors.shape}")
        pending.discard(number)
        checkpoint.save([d for d, _ in batch], vectors)
        done += len(batch)
        trace(f"{stage}:{done}/{len(todo)}")
        cache.update(zip((d for d, _ in batch), vectors, strict=True))
        if progress:
            progress(stage, done, len(todo))
    if pending:
        raise RuntimeError(f"embedding stopped with {len(pending)} of {len(batches)} batches missing")
    return len(todo)
