"""Scoring a reader on examples: CMRC 2018 EM/F1 (always answering), and how well its
"no answer" margin separates answerable questions from hard negatives."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from retrieval.read.reader import LogitsFn, Reader
from retrieval.read.windows import WindowMaker
from training.reader.data import Example
from training.reader.metrics import exact_match, f1_score


@dataclass(frozen=True)
class Prediction:
    text: str
    start: int
    margin: float  # best span minus "no answer", in logits


def predict(logits: LogitsFn, maker: WindowMaker, examples: Sequence[Example], batch_pairs: int = 16,
            progress: bool = False) -> list[Prediction]:
    """The best span of each example's passage (empty text if the passage had no token)."""
    from tqdm import tqdm

    reader = Reader(logits, maker)
    out: list[Prediction] = []
    for a in tqdm(range(0, len(examples), batch_pairs), disable=not progress, unit="batch", mininterval=10):
        chunk = examples[a : a + batch_pairs]
        for span in reader.read_pairs([(ex.question, ex.context) for ex in chunk]):
            out.append(Prediction("", -1, float("-inf")) if span is None else Prediction(span.text, span.start, span.score))
    return out


def span_scores(examples: Sequence[Example], predictions: Sequence[Prediction]) -> dict[str, float]:
    """CMRC 2018 EM and F1 (×100) of always-answer predictions on answerable examples."""
    em = [exact_match([a for a, _ in ex.answers], p.text) for ex, p in zip(examples, predictions, strict=True)]
    f1 = [f1_score([a for a, _ in ex.answers], p.text) for ex, p in zip(examples, predictions, strict=True)]
    return {"questions": len(examples), "em": 100 * float(np.mean(em)), "f1": 100 * float(np.mean(f1))}


def null_separation(positive_margins: Sequence[float], negative_margins: Sequence[float],
                    decline_share: float = 0.9) -> dict[str, float]:
    """The margin threshold that declines ``decline_share`` of the negatives, the share of
    answerable questions still answered at it, and the ROC AUC of the margin."""
    pos, neg = np.asarray(positive_margins, float), np.asarray(negative_margins, float)
    threshold = float(np.quantile(neg, decline_share))
    # AUC as the probability that a random positive outscores a random negative (ties count half)
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order))
    ranks[order] = np.arange(1, len(order) + 1)
    auc = (ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))
    return {"threshold": threshold, "answered_at_threshold": float((pos > threshold).mean()),
            "negatives_declined": float((neg <= threshold).mean()), "auc": float(auc),
            "positives": len(pos), "negatives": len(neg)}
