"""What a benchmark run asked and got, and its figures: one row per set, split and answerer, as a
Markdown table, plus a per-question listing that hides held-out questions unless asked."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from benchmarks.answer_sets import BenchSet, Question
from benchmarks.latency import percentile
from retrieval.evaluate import EvalResult, EvalRow, groups_present

K = 5  # evidence is counted in the top K sources
SPLIT_ORDER = ("tune", "heldout", "all")


@dataclass(frozen=True)
class Asked:
    question: Question
    row: EvalRow
    kind: str
    short: str = ""  # the answer's 答：… span, if it gave one


@dataclass
class SetResult:
    bench: BenchSet
    asked: list[Asked] = field(default_factory=list)
    answerer: str = "rules"



@dataclass(frozen=True)
class Figures:
    """One table row: a set's split (tune, heldout, or all)."""

    set: str
    split: str
    answerer: str
    measure_only: bool
    answerable: int
    correct: int
    answer_accuracy: float
    evidence_recall_at_5: float
    false_declines: int
    unanswerable: int
    declined: int
    decline_rate: float
    p50_ms: float
    p95_ms: float
    note: str
    short_given: int = 0  # answerable one-fact questions answered with a short 答：… span
    short_correct: int = 0  # … whose span holds an accepted spelling


def split_figures(result: SetResult) -> list[Figures]:
    splits = sorted({a.question.split for a in result.asked},
                    key=lambda s: (SPLIT_ORDER.index(s) if s in SPLIT_ORDER else len(SPLIT_ORDER), s))
    return [figures(result.bench, split, [a for a in result.asked if a.question.split == split], result.answerer)
            for split in splits]


def figures(bench: BenchSet, split: str, asked: Sequence[Asked], answerer: str = "rules") -> Figures:
    rows = [a.row for a in asked]
    m = EvalResult(K, rows).metrics
    shorts = [a for a in asked if a.short and len(a.question.scored.answers) == 1]
    times = [r.took_ms for r in rows]
    return Figures(
        set=bench.name, split=split, answerer=answerer, measure_only=bench.measure_only,
        answerable=int(m["answerable"]), correct=sum(r.correct for r in rows),
        answer_accuracy=float(m["answer_accuracy"]), evidence_recall_at_5=float(m[f"evidence_recall@{K}"]),
        false_declines=int(m["false_declines"]), unanswerable=int(m["unanswerable"]),
        declined=sum(not r.found for r in rows if r.type == "unanswerable"),
        decline_rate=float(m["decline_rate"]),
        p50_ms=percentile(times, 50), p95_ms=percentile(times, 95), note=bench.note,
        short_given=len(shorts), short_correct=sum(groups_present(a.question.scored.answers, a.short)
                                                               for a in shorts),
    )


def pct(value: float, n: int) -> str:
    return f"{value:.1%}" if n else "–"


def table(rows: Sequence[Figures]) -> str:
    lines = [
        "| set | split | answerer | answerable | accuracy | evidence@5 | false declines | unanswerable "
        "| decline rate | short 答 right / given | p50 ms | p95 ms | note |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.set} | {r.split} | {r.answerer} | {r.answerable} | {pct(r.answer_accuracy, r.answerable)} "
            f"| {pct(r.evidence_recall_at_5, r.answerable)} | {r.false_declines} | {r.unanswerable} "
            f"| {pct(r.decline_rate, r.unanswerable)} | {r.short_correct} / {r.short_given} "
            f"| {r.p50_ms:.0f} | {r.p95_ms:.0f} | {r.note} |"
        )
    return "\n".join(lines)


def details(result: SetResult, show_heldout: bool) -> Iterator[str]:
    hidden = 0
    yield f"\n{result.bench.name} ({result.answerer}): id | split | type | kind | found | correct | answer"
    for a in result.asked:
        if a.question.split == "heldout" and not show_heldout:
            hidden += 1
            continue
        text = " ".join(a.row.answer.split())[:80]
        yield (f"{a.row.id} | {a.question.split} | {a.row.type} | {a.kind} | "
               f"{'Y' if a.row.found else 'n'} | {'Y' if a.row.correct else 'n'} | {text}")
    if hidden:
        yield f"({hidden} heldout questions hidden; --show-heldout prints them)"
