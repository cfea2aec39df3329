"""Post-processing for the reader: start/end logits → the best character span per passage,
scored against "no answer".

A window's null score is its first token's start + end logits (SQuAD 2.0 convention). A
span's score is its start + end logits minus the null score *of the same window*, so a score
above 0 means the model prefers this span to "no answer" in that window; the window with the
highest such margin speaks for its passage. Only passage tokens (offset ≥ 0) can start or end
a span, and spans are at most ``max_answer_tokens`` long.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from retrieval.read.windows import WindowBatch

MAX_ANSWER_TOKENS = 40
NEG_INF = np.float32(-1e9)


@dataclass(frozen=True)
class Span:
    """The best answer in one passage: characters ``[start, end)`` of passage ``passage``.

    ``score``: span logits minus the null logits of its window (> 0: preferred to no answer).
    """

    passage: int
    start: int
    end: int
    score: float


def window_best(start_logits: np.ndarray, end_logits: np.ndarray, offsets: np.ndarray,
                max_answer_tokens: int = MAX_ANSWER_TOKENS) -> tuple[int, int, float]:
    """Best token span ``(i, j, margin)`` of one window; ``(-1, -1, -inf)`` if it has no passage token.

    ``start_logits``/``end_logits``: ``(len,)``; ``offsets``: ``(len, 2)``.
    """
    valid = offsets[:, 0] >= 0
    if not valid.any():
        return -1, -1, float("-inf")
    s = np.where(valid, start_logits, NEG_INF)
    e = np.where(valid, end_logits, NEG_INF)
    n = len(s)
    # band: j ≥ i and j - i < max_answer_tokens
    i_idx = np.arange(n)[:, None]
    j_idx = np.arange(n)[None, :]
    band = (j_idx >= i_idx) & (j_idx - i_idx < max_answer_tokens)
    scores = np.where(band, s[:, None] + e[None, :], NEG_INF)
    flat = int(np.argmax(scores))
    i, j = divmod(flat, n)
    null = float(start_logits[0] + end_logits[0])
    return i, j, float(scores[i, j]) - null


def best_spans(start_logits: np.ndarray, end_logits: np.ndarray, batch: WindowBatch, n_passages: int,
               max_answer_tokens: int = MAX_ANSWER_TOKENS) -> list[Span | None]:
    """The best :class:`Span` of each of ``n_passages`` passages (``None``: no window had a passage
    token). ``start_logits``/``end_logits``: ``(n_windows, max_len)`` float32, rows as in ``batch``."""
    best: list[Span | None] = [None] * n_passages
    for w in range(len(batch)):
        i, j, margin = window_best(start_logits[w], end_logits[w], batch.offsets[w], max_answer_tokens)
        if i < 0:
            continue
        p = int(batch.passage[w])
        current = best[p]
        if current is None or margin > current.score:
            best[p] = Span(p, int(batch.offsets[w, i, 0]), int(batch.offsets[w, j, 1]), margin)
    return best
