"""Tune halves only: how the reader could share the decision with the rules, before building it.

    python -m benchmarks.reader_roles [--reader-weights W] [--out rows.json]

For every tune question of the project's sets: the hybrid's answer (the rules decide; with the
reader's margin on the rules' passage) and the reader deciding alone at each margin −4 … 14
(its readings cached, so each margin re-reads nothing). Printed per margin: the reader alone;
the cascade (the rules' answer, or the reader's when the rules decline); and the veto (the rules'
answer dropped when the reader scores its passage below V). "wrong" counts answerable questions
answered wrong; answer-absent questions answered are the absent count minus those declined.
Held-out halves are never read here: a design that passes on tune is built, then the
``benchmarks.answers`` run reads held-out once.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks.answer_services import Services
from benchmarks.answer_sets import REPO, tune_jobs
from retrieval.evaluate import groups_present
from retrieval.models import Answer
from retrieval.qa import reading

MARGINS = tuple(range(-4, 15))
VETOES = (-8, -6, -4, -2, 0)
Decision = tuple[bool, bool]  # (found, correct)


def cache_readings() -> None:
    """Read each (question, passages) once: a margin changes only what the readings decide."""
    original, seen = reading.read_hits, {}

    def cached(reader, question, hits):  # type: ignore[no-untyped-def]
        key = (question, tuple(h.chunk.id for h in hits))
        if key not in seen:
            seen[key] = original(reader, question, hits)
        return seen[key]

    reading.read_hits = cached  # type: ignore[assignment]


def collect(services: Services, shared: Path) -> list[dict]:
    rows = []
    for name, job in tune_jobs(shared):
        hybrid, model = services.over(job.corpus, "hybrid"), services.over(job.corpus, "model")
        for q in job.questions:
            groups = q.scored.answers
            h = hybrid.ask(q.scored.q)
            per = []
            for margin in MARGINS:
                model.loaded.answerer.reader_margin = float(margin)
                a = model.ask(q.scored.q)
                per.append((a.found, right(groups, a)))
            span = (h.extra or {}).get("reader_span") or {}
            rows.append({"set": name, "id": q.scored.id, "absent": not q.scored.answers, "kind": h.kind,
                         "rules": (h.found, right(groups, h)), "rules_passage_score": span.get("score"), "reader": per})
    return rows


def right(groups: Sequence[Sequence[str]], answer: Answer) -> bool:
    return bool(groups) and answer.found and groups_present(groups, answer.text)


def figures(rows: Sequence[dict], decide: Callable[[dict], Decision]) -> str:
    answerable = [r for r in rows if not r["absent"]]
    absent = [r for r in rows if r["absent"]]
    decisions = [decide(r) for r in answerable]
    correct = sum(ok for _, ok in decisions)
    wrong = sum(found and not ok for found, ok in decisions)
    declined = sum(not decide(r)[0] for r in absent)
    return (f"correct {correct}/{len(answerable)}  false declines {len(answerable) - correct - wrong}  "
            f"wrong {wrong}  absent declined {declined}/{len(absent)}  wrong answers {wrong + len(absent) - declined}")


def report(rows: Sequence[dict]) -> list[str]:
    lines = [f"rules (hybrid)   {figures(rows, lambda r: tuple(r['rules']))}"]
    for i, m in enumerate(MARGINS):
        lines.append(f"reader m={m:>3}    {figures(rows, lambda r, i=i: tuple(r['reader'][i]))}")
    for i, m in enumerate(MARGINS):
        lines.append(f"cascade m={m:>3}   "
                     f"{figures(rows, lambda r, i=i: tuple(r['rules']) if r['rules'][0] else tuple(r['reader'][i]))}")
    for v in VETOES:
        def veto(r: dict, v: int = v) -> Decision:
            score = r["rules_passage_score"]
            if r["rules"][0] and score is not None and score < v and r["kind"] not in ("list", "yesno"):
                return (False, False)
            return tuple(r["rules"])  # type: ignore[return-value]

        lines.append(f"veto below {v:>3}  {figures(rows, veto)}")
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reader-weights", type=Path, default=None, help="reader weights (default: the shipped ones)")
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--model-cache", type=Path, default=REPO / "data/models")
    ap.add_argument("--work", type=Path, default=REPO / "data/bench/answers")
    ap.add_argument("--out", type=Path, default=None, help="write the per-question rows as JSON")
    args = ap.parse_args(argv)
    cache_readings()
    rows = collect(Services(args.work, args.model_cache, False, args.reader_weights), args.shared)
    if args.out:
        args.out.write_text(json.dumps(rows, ensure_ascii=False) + "\n", encoding="utf-8")
    print("\n".join(report(rows)))


if __name__ == "__main__":
    main()
