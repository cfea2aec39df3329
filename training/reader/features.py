"""Examples → labelled training windows (the serving pre-processing, plus answer positions).

A window is labelled with the token positions of the example's first answer when the answer
lies wholly inside its passage slice, and with position 0 (the ``<s>`` token: "no answer")
otherwise, as in SQuAD 2.0 training.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from retrieval.read.windows import WindowMaker
from training.reader.data import Example


@dataclass
class Features:
    """``input_ids``: ``(n, max_len)`` int32 padded with ``pad``; ``lengths``, ``start``, ``end``,
    ``example``: ``(n,)`` int32 (``start == end == 0`` means no answer in the window)."""

    input_ids: np.ndarray
    lengths: np.ndarray
    start: np.ndarray
    end: np.ndarray
    example: np.ndarray
    pad: int

    def __len__(self) -> int:
        return int(self.lengths.shape[0])

    def save(self, path: str) -> None:
        np.savez(path, input_ids=self.input_ids, lengths=self.lengths, start=self.start, end=self.end,
                 example=self.example, pad=np.array(self.pad))

    @classmethod
    def load(cls, path: str) -> Features:
        z = np.load(path)
        return cls(z["input_ids"], z["lengths"], z["start"], z["end"], z["example"], int(z["pad"]))


def answer_tokens(spans: np.ndarray, start: int, end: int) -> tuple[int, int]:
    """Token positions ``(i, j)`` of characters ``[start, end)`` in a window's ``spans`` ``(len, 2)``,
    or ``(0, 0)`` if the passage slice does not hold them whole."""
    passage = np.flatnonzero(spans[:, 0] >= 0)
    if len(passage) == 0 or spans[passage[0], 0] > start or spans[passage[-1], 1] < end:
        return 0, 0
    i = passage[np.searchsorted(spans[passage, 1], start, side="right")]
    j = passage[np.searchsorted(spans[passage, 0], end, side="left") - 1]
    return (int(i), int(j)) if j >= i else (0, 0)


def make_features(maker: WindowMaker, examples: Sequence[Example]) -> Features:
    """Every window of every example, labelled."""
    rows: list[np.ndarray] = []
    starts, ends, owner = [], [], []
    for n, ex in enumerate(examples):
        q, p = maker.encode([ex.question, ex.context])
        for a, b in maker.slices(len(q.ids), len(p.ids)):
            ids, spans = maker.window(q, p, a, b)
            i, j = (0, 0)
            if ex.answers:
                text, s = ex.answers[0]
                i, j = answer_tokens(spans, s, s + len(text))
            rows.append(ids)
            starts.append(i)
            ends.append(j)
            owner.append(n)
    width = max(len(r) for r in rows)
    input_ids = np.full((len(rows), width), maker.pad, dtype=np.int32)
    for r, ids in enumerate(rows):
        input_ids[r, : len(ids)] = ids
    as32 = lambda xs: np.asarray(xs, dtype=np.int32)  # noqa: E731
    return Features(input_ids, as32([len(r) for r in rows]), as32(starts), as32(ends), as32(owner), maker.pad)
