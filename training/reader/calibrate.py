"""Calibrate the reader's "no answer" margin for a stated precision.

Scored items (margin, correct):
- **tune halves** of the project's own question sets, asked through the answer path with the
  reader (every margin kept): correct when the answer holds an accepted spelling of every group;
  an answer-absent question is never correct;
- **CMRC 2018 trial / DRCD validation** questions (held out by article from training) against
  their own passage (correct when F1 ≥ 0.5) and against their BM25 hard negative (never correct).

The margin is the smallest threshold at which the answers given are at least ``--precision``
correct over those items; the curve around it is printed. Never run on a held-out half, CMRC
2018 dev or RGB.

    python -m training.reader.calibrate --weights W [--precision 0.9] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]


def tune_items(services, shared: Path) -> list[tuple[float, bool, str]]:
    """(margin, correct, set) of each tune question the reader answers as a factoid;
    ``services`` is a ``benchmarks.answer_services.Services`` whose reader margin lets every span through."""
    from benchmarks.answer_sets import tune_jobs
    from retrieval.evaluate import groups_present

    out = []
    for name, job in tune_jobs(shared):
        service = services.over(job.corpus, "model")
        for q in job.questions:
            answer = service.ask(q.scored.q)
            score = answer.extra.get("score")
            if score is None:  # a list, an aggregate or a multi-part answer: not one margin
                continue
            answerable = bool(q.scored.answers)
            out.append((float(score), answerable and groups_present(q.scored.answers, answer.text), name))
    return out


def mrc_items(reader, mrc_dir: Path, validation: int) -> list[tuple[float, bool, str]]:
    from training.reader import data
    from training.reader.metrics import f1_score

    _, val = data.split_by_article(data.training_examples(mrc_dir), validation)
    negatives = data.hard_negatives(val, 1.0)
    out = []
    for chunk_start in range(0, len(val), 32):
        chunk = val[chunk_start : chunk_start + 32]
        for ex, span in zip(chunk, reader.read_pairs([(e.question, e.context) for e in chunk]), strict=True):
            if span is not None:
                out.append((span.score, f1_score([a for a, _ in ex.answers], span.text) >= 0.5, "mrc"))
    for chunk_start in range(0, len(negatives), 32):
        chunk = negatives[chunk_start : chunk_start + 32]
        for span in reader.read_pairs([(e.question, e.context) for e in chunk]):
            if span is not None:
                out.append((span.score, False, "mrc-negative"))
    return out


def curve(items: list[tuple[float, bool, str]], thresholds: np.ndarray) -> list[dict]:
    scores = np.array([s for s, _, _ in items])
    correct = np.array([c for _, c, _ in items])
    rows = []
    for t in thresholds:
        given = scores > t
        rows.append({"margin": round(float(t), 3), "answered": int(given.sum()),
                     "precision": float(correct[given].mean()) if given.any() else 1.0,
                     "correct_kept": float((given & correct).sum() / max(1, correct.sum()))})
    return rows


def choose(items: list[tuple[float, bool, str]], precision: float) -> float:
    """The smallest margin whose answers are at least ``precision`` correct."""
    grid = np.unique(np.round([s for s, _, _ in items], 3))
    for row in curve(items, np.concatenate([[-1e9], grid])):
        if row["precision"] >= precision:
            return row["margin"]
    return float(grid.max())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", type=Path, default=None, help="reader weights (default: the shipped ones)")
    ap.add_argument("--precision", type=float, default=0.9)
    ap.add_argument("--validation", type=int, default=300, help="as in training: the same held-out articles")
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--work", type=Path, default=REPO / "data/bench/answers")
    ap.add_argument("--model-cache", type=Path, default=REPO / "data/models")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    from benchmarks.answer_services import Services

    services = Services(args.work, args.model_cache, False, args.weights, reader_margin=-1e9)
    tune = tune_items(services, args.shared)
    mrc = mrc_items(services.reader(), args.shared / "data" / "mrc", args.validation)
    items = tune + mrc
    margin = choose(items, args.precision)
    report = {"precision_target": args.precision, "margin": margin,
              "items": {"tune": len(tune), "mrc": len(mrc)},
              "curve_all": curve(items, np.arange(-4, 8.5, 0.5)),
              "curve_tune": curve(tune, np.arange(-4, 8.5, 0.5))}
    print(json.dumps({k: report[k] for k in ("precision_target", "margin", "items")}, ensure_ascii=False))
    for row in report["curve_tune"]:
        print("tune", row)
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
