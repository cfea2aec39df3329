"""The evaluation a training run ends with: validation and CMRC 2018 dev EM/F1, and the
no-answer separation on CMRC 2018 dev hard negatives (each question against the most similar
other dev passage that lacks its answer)."""

from __future__ import annotations

from pathlib import Path

from retrieval.read.windows import WindowMaker
from training.reader import data
from training.reader.evaluate import null_separation, predict, span_scores


def evaluate_all(base: Path, weights: Path, maker: WindowMaker, validation: list[data.Example],
                 mrc_dir: Path, limit: int | None = None) -> dict:
    from retrieval.read.torch_model import load_reader, torch_logits

    logits = torch_logits(load_reader(base, weights))
    report: dict = {}
    val_pos = [ex for ex in validation if ex.answerable]
    report["validation"] = span_scores(val_pos, predict(logits, maker, val_pos))
    test = data.load_squad(Path(mrc_dir) / data.TEST_FILE)[:limit]
    predictions = predict(logits, maker, test, progress=True)
    report["cmrc2018_dev"] = span_scores(test, predictions)
    negatives = data.hard_negatives(test, 1.0)
    neg_predictions = predict(logits, maker, negatives, progress=True)
    report["cmrc2018_dev_no_answer"] = null_separation([p.margin for p in predictions],
                                                       [p.margin for p in neg_predictions])
    return report
