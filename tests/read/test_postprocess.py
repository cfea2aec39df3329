"""Post-processing: logits → the best character span per passage, against "no answer"."""

from __future__ import annotations

import numpy as np

from retrieval.read.postprocess import best_spans, window_best
from retrieval.read.windows import WindowBatch


def batch_of(offsets: list[list[tuple[int, int]]], passage: list[int]) -> WindowBatch:
    n, width = len(offsets), max(len(o) for o in offsets)
    arr = np.full((n, width, 2), -1, dtype=np.int32)
    for w, spans in enumerate(offsets):
        arr[w, : len(spans)] = spans
    return WindowBatch(np.zeros((n, width), np.int64), np.ones((n, width), np.int64), arr,
                       np.array(passage, np.int32))


# a window: <s> q </s></s> p0 p1 p2 p3 </s>
SPANS = [(-1, -1), (-1, -1), (-1, -1), (-1, -1), (0, 2), (2, 3), (3, 5), (5, 6), (-1, -1)]


def logits(start_at: dict[int, float], end_at: dict[int, float], width: int = len(SPANS)) -> tuple[np.ndarray, np.ndarray]:
    s, e = np.full(width, -5.0, np.float32), np.full(width, -5.0, np.float32)
    for k, v in start_at.items():
        s[k] = v
    for k, v in end_at.items():
        e[k] = v
    return s, e


def test_the_best_span_and_its_margin_over_no_answer() -> None:
    s, e = logits({0: 1.0, 5: 4.0}, {0: 1.0, 6: 3.0})
    i, j, margin = window_best(s, e, np.array(SPANS))
    assert (i, j) == (5, 6) and margin == 4.0 + 3.0 - 2.0


def test_question_and_special_tokens_never_answer() -> None:
    s, e = logits({1: 9.0, 4: 1.0}, {1: 9.0, 8: 9.0, 4: 1.0})  # the question token and </s> score highest
    i, j, _ = window_best(s, e, np.array(SPANS))
    assert (i, j) == (4, 4)


def test_spans_never_end_before_they_start_nor_run_too_long() -> None:
    s, e = logits({6: 5.0, 4: 1.0}, {4: 5.0, 7: 0.5})
    i, j, _ = window_best(s, e, np.array(SPANS))
    assert j >= i
    s, e = logits({4: 5.0, 6: 1.0}, {7: 5.0, 6: 1.0})
    assert window_best(s, e, np.array(SPANS), max_answer_tokens=2)[:2] != (4, 7)


def test_a_negative_margin_means_no_answer_is_preferred() -> None:
    s, e = logits({0: 6.0, 5: 1.0}, {0: 6.0, 5: 1.0})
    assert window_best(s, e, np.array(SPANS))[2] < 0


def test_each_passage_takes_its_most_confident_window_in_characters() -> None:
    batch = batch_of([SPANS, SPANS, SPANS], [0, 0, 1])
    s = np.stack([logits({0: 3.0, 4: 2.0}, {})[0], logits({0: 0.0, 6: 2.0}, {})[0], logits({0: 0.0, 5: 1.0}, {})[0]])
    e = np.stack([logits({}, {0: 3.0, 4: 2.0})[1], logits({}, {0: 0.0, 7: 2.0})[1], logits({}, {0: 0.0, 5: 1.0})[1]])
    first, second = best_spans(s, e, batch, 2)
    assert first is not None and (first.start, first.end) == (3, 6) and first.score == 4.0  # window 2 of passage 0
    assert second is not None and (second.start, second.end) == (2, 3) and second.score == 2.0


def test_a_passage_without_tokens_has_no_span() -> None:
    batch = batch_of([[(-1, -1)] * 4], [0])
    assert best_spans(np.zeros((1, 4), np.float32), np.zeros((1, 4), np.float32), batch, 2) == [None, None]
