"""Test doubles that stand in for the embedding model in unit tests.

:class:`HashingEncoder` gives every text a deterministic vector from its characters, so index
builds, updates, searches and the bot's plumbing can be tested in milliseconds, with no model
to convert, export or load (the real one costs ~10 s to convert, ~60 s to export and ~0.6 GB
of memory per instance). Similar texts get similar vectors (shared characters and character
pairs), which keeps hybrid search meaningful, but cosines stay far below the answer layer's
``MIN_DENSE`` (0.8, retrieval/qa/support.py) for a question against a passage: factoid
questions are "not found" with it. List questions ("朱志杰去过哪些镇") never consult vectors
(retrieval/qa/lists.py), so they answer as with the real model. Tests that assert what a
factoid answer says use the real model and are marked ``slow``.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.settings import Settings
from retrieval.index import build, embedding
from retrieval.service import NewsQA

FAKE_MODEL = "tests-fake:hashing-char-bigrams"
FAKE_DIM = 256  # not 384, so nothing can silently assume the real model's width


class HashingEncoder:
    """Character unigrams and bigrams, each hashed with CRC-32 (stable across processes and
    runs, unlike ``hash()``) into one of ``dim`` buckets with a ±1 sign from another bit of the
    hash, then L2-normalised to float32. The signs make unrelated texts score near 0 instead
    of all sharing a positive bias. Queries and passages embed alike (no e5 prefixes).

    Implements what ``NewsQA``, ``update_index`` and ``HybridSearcher`` need: ``name``,
    ``dim``, ``encode_queries`` and ``encode_passages``. Thread-safe (no state)."""

    def __init__(self, dim: int = FAKE_DIM, name: str = FAKE_MODEL) -> None:
        self.name = name
        self.dim = dim

    def vector(self, text: str) -> np.ndarray:
        """One text → (dim,) float32 with unit L2 norm (an empty text gets a fixed unit vector)."""
        out = np.zeros(self.dim, dtype=np.float32)
        features = [*text, *(text[i : i + 2] for i in range(len(text) - 1))]
        for feature in features:
            h = zlib.crc32(feature.encode("utf-8"))
            out[h % self.dim] += 1.0 if (h >> 31) & 1 else -1.0
        norm = float(np.linalg.norm(out))
        if norm == 0.0:  # empty text, or features that cancel out: still a valid unit vector
            out[zlib.crc32(text.encode("utf-8")) % self.dim] = 1.0
            return out
        return out / norm

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.vector(t) for t in texts]).astype(np.float32, copy=False)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """(n,) texts → (n, dim) float32, unit L2 norm."""
        return self._encode(texts)

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """(n,) texts → (n, dim) float32, unit L2 norm; ``progress`` is accepted and ignored."""
        return self._encode(texts)


def fake_service(index_root: Path, max_question_chars: int = 500) -> NewsQA:
    """A NewsQA over ``index_root`` that embeds with a :class:`HashingEncoder`."""
    return NewsQA(index_root, HashingEncoder, model_name=FAKE_MODEL, max_question_chars=max_question_chars)


def fake_make_service(settings: Settings) -> NewsQA:
    """Drop-in for ``bot.runtime.make_service``: the service the settings describe, but with the
    hashing encoder (for CLI tests: ``monkeypatch.setattr(bot.runtime, "make_service", …)``)."""
    return fake_service(settings.resolved_index_dir, settings.max_question_chars)


class HeldPassages:
    """An encoder as an index build sees it, held back so the build is still running while a
    test does something (questions answered meanwhile, progress messages shown), however fast
    the machine or the encoder: the first passage batch waits until ``gate()`` is true (or
    ``timeout`` runs out), and every batch then waits ``delay`` seconds. ``gate_opened``
    records whether the gate opened (None until the first batch)."""

    def __init__(self, inner: Any, gate: Callable[[], bool], timeout: float, delay: float = 0.0) -> None:
        self.inner, self.gate, self.timeout, self.delay = inner, gate, timeout, delay
        self.name, self.dim = inner.name, inner.dim
        self.gate_opened: bool | None = None

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if self.gate_opened is None:
            deadline = time.monotonic() + self.timeout
            while not self.gate() and time.monotonic() < deadline:
                time.sleep(0.02)
            self.gate_opened = self.gate()
        time.sleep(self.delay)
        return self.inner.encode_passages(texts)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.encode_queries(texts)


def hold_index_builds(monkeypatch: pytest.MonkeyPatch, gate: Callable[[], bool], timeout: float,
                      delay: float = 0.0) -> list[HeldPassages]:
    """Make every index build's embedding step go through a :class:`HeldPassages` around its
    encoder (only the build: answers keep using the service's encoder unchanged). Returns the
    wrappers, one per build, for checking ``gate_opened``."""
    held: list[HeldPassages] = []
    embed_missing = embedding.embed_missing

    def held_embed(texts: list[str], digests: list[str], cache: dict[str, np.ndarray], encoder: Any,
                   checkpoint: Any, progress: Any, stage: str = "embed") -> int:
        if stage == "embed":  # the chunk step is held; sentences follow at full speed
            held.append(HeldPassages(encoder, gate, timeout, delay))
            encoder = held[-1]
        return embed_missing(texts, digests, cache, encoder, checkpoint, progress, stage)

    # build.py imported the function by name; the sentence step calls it inside embedding.py
    monkeypatch.setattr(build, "embed_missing", held_embed)
    return held
