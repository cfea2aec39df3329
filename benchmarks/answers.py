"""Answer quality on every question set side by side, through the public service API.

    python -m benchmarks.answers [--sets dev,seeds_extra,...] [--limit N] [--json OUT]
                                 [--details SET [--show-heldout]] [--rebuild]
                                 [--shared ../shared] [--model-cache data/models]

Sets (default: every one whose question file exists):

- ``dev``          ../shared/eval/dev.jsonl over the seed pages (corpus/*.txt)
- ``seeds_extra``  eval/seeds_extra.jsonl over the seed pages
- ``seeds_v2``     eval/seeds_v2.jsonl over the seed pages
- ``seeds_v3``     eval/seeds_v3.jsonl over the seed pages (written in the fourth session)
- ``xwlb800``      eval/xwlb_questions.jsonl over the first 800 items of xwlb_articles.jsonl.gz
- ``xwlb2019q2``   eval/xwlb2019q2.jsonl over the items dated 20190301-20190531; a question with
                   ``"remove": [ids]`` is asked of the window minus the union of all such ids
- ``xwlb2019q2b``  eval/xwlb2019q2_b.jsonl, a second set over the same window written later (its own
                   ``remove`` ids, so its own "minus" corpus)
- ``xwlb2019q2c``  eval/xwlb2019q2_c.jsonl, a third set over the same window, written in the fourth
                   session by a writer who saw no code and no answer (its own "minus" corpus)
- ``xwlb2019q2d``  eval/xwlb2019q2_d.jsonl, a fourth set over the same window, written blind in the
                   fifth session (its own "minus" corpus)
- ``rgb``          RGB zh negative rejection (measure only): the positives of every second query
                   (odd positions) are left out of the index, so those must be declined; an
                   answer-absent query whose answer still occurs in a remaining passage is skipped
- ``rgb_int``      RGB zh information integration (measure only): every group must be in the answer

Scoring is ``retrieval.evaluate`` (../shared/eval/README.md). Each corpus (article-level
JSONL; the seed pages as copied .txt files) is written under
data/bench/answers/<name>-<hash of its content>/ and indexed there, so reruns only ask questions. All indexes share one encoder (the model loads once).
``--details`` never prints ``heldout`` questions unless ``--show-heldout`` is given.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from benchmarks.answer_report import Asked, K, SetResult, details, split_figures, table
from benchmarks.answer_services import Services, header
from benchmarks.answer_sets import REPO, SET_NAMES, BenchSet, build_set, limited, set_source
from benchmarks.machine import cpu_info, header_line, log
from retrieval.evaluate import evaluate
from retrieval.models import Answer
from retrieval.service import NewsQA

# --- running -------------------------------------------------------------------------------


class Recorder:
    """Passes questions to the service and keeps each Answer (for its ``kind``)."""

    def __init__(self, service: NewsQA) -> None:
        self.service = service
        self.answers: list[Answer] = []

    def ask(self, question: str) -> Answer:
        answer = self.service.ask(question)
        self.answers.append(answer)
        return answer


def run_set(bench: BenchSet, services: Services, answerer: str = "rules") -> SetResult:
    started = time.perf_counter()
    result = SetResult(bench, answerer=answerer)
    for job in bench.jobs:
        recorder = Recorder(services.over(job.corpus, answerer))
        log(f"{bench.name} ({answerer}): asking {len(job.questions)} questions of {job.corpus.key}")
        scored = evaluate(recorder, [q.scored for q in job.questions], k=K)
        result.asked += [Asked(q, row, a.kind, str((a.extra or {}).get("short_answer") or "") if a.found else "")
                         for q, row, a in zip(job.questions, scored.rows, recorder.answers, strict=True)]
    result.asked.sort(key=lambda a: a.question.order)
    log(f"{bench.name}: {len(result.asked)} questions in {time.perf_counter() - started:.0f} s")
    return result


# --- command line --------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="", help=f"comma-separated, from {','.join(SET_NAMES)} (default all)")
    ap.add_argument("--limit", type=int, default=0, help="only the first N questions of each set")
    ap.add_argument("--json", type=Path, default=None, metavar="OUT", help="write the figures as JSON")
    ap.add_argument("--details", default="", metavar="SET", help="print each question of these sets")
    ap.add_argument("--show-heldout", action="store_true", help="--details also prints heldout questions")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the cached indexes")
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--model-cache", type=Path, default=REPO / "data/models")
    ap.add_argument("--work", type=Path, default=REPO / "data/bench/answers")
    ap.add_argument("--answerers", default="rules,model",
                    help="who answers, side by side: rules (hand-written), model (the trained reader), "
                         "hybrid (the rules decide, the reader picks the short answer)")
    ap.add_argument("--reader-weights", type=Path, default=None, help="reader weights (default: the shipped ones)")
    ap.add_argument("--reader-margin", type=float, default=None, help="the reader's no-answer margin")
    args = ap.parse_args(argv)
    args.answerers = [a.strip() for a in args.answerers.split(",") if a.strip()]
    if not args.answerers or not set(args.answerers) <= {"rules", "model", "hybrid"}:
        ap.error("--answerers takes rules, model and hybrid, comma-separated")
    args.sets = names(ap, args.sets) or list(SET_NAMES)
    args.details = names(ap, args.details)
    if not set(args.details) <= set(args.sets):
        ap.error("--details names a set that --sets leaves out")
    return args


def names(ap: argparse.ArgumentParser, text: str) -> list[str]:
    chosen = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in SET_NAMES]
    if unknown:
        ap.error(f"unknown set(s) {', '.join(unknown)}; expected {', '.join(SET_NAMES)}")
    return chosen


def load_sets(chosen: Sequence[str], shared: Path, limit: int) -> tuple[list[BenchSet], list[str]]:
    """The sets that can run, and a line for each one skipped (no question file yet, or unreadable)."""
    sets, skipped = [], []
    for name in chosen:
        source = set_source(name, shared)
        try:
            if not source.exists():
                raise ValueError(f"{source} does not exist yet")
            sets.append(limited(build_set(name, shared), limit))
        except ValueError as exc:
            skipped.append(f"{name}: skipped ({exc})")
            log(skipped[-1])
    return sets, skipped


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    info = cpu_info()
    log(f"CPU {info['cpu']} (avx512_vnni {info['avx512_vnni']}, avx2 {info['avx2']})")
    sets, skipped = load_sets(args.sets, args.shared, args.limit)
    services = Services(args.work, args.model_cache, args.rebuild, args.reader_weights, args.reader_margin)
    # answerers side by side per set: the same indexes, the same run, the same machine state
    results = [run_set(bench, services, answerer) for bench in sets for answerer in args.answerers]
    if not results:
        sys.exit("no question set to run")
    rows = [row for result in results for row in split_figures(result)]
    head = header(services)
    print(header_line(head))
    print(table(rows))
    for line in skipped:
        print(line)
    for result in results:
        if result.bench.name in args.details:
            print("\n".join(details(result, args.show_heldout)))
    if args.json:
        report = {"header": head, "rows": [asdict(r) for r in rows], "skipped": skipped}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
