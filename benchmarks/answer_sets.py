"""The answer benchmark's question sets: each a list of jobs, a corpus (cached by a hash of its
bytes) and the questions asked of it. The sets are described in ``benchmarks.answers``."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

from retrieval.evaluate import EvalQuestion, load_questions

REPO = Path(__file__).resolve().parent.parent
SET_NAMES = ("dev", "seeds_extra", "seeds_v2", "seeds_v3", "xwlb800", "xwlb2019q2", "xwlb2019q2b",
             "xwlb2019q2c", "xwlb2019q2d", "rgb", "rgb_int")
# the project's own sets with tune and held-out halves (not the shared dev set, not RGB)
OWN_SETS = ("seeds_extra", "seeds_v2", "seeds_v3", "xwlb800", "xwlb2019q2", "xwlb2019q2b", "xwlb2019q2c",
            "xwlb2019q2d")
XWLB_FIRST_N = 800
XWLB_WINDOW = ("20190301", "20190531")


# --- corpora -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Corpus:
    """Files to index, by name; the index is cached under a hash of exactly these bytes."""

    label: str
    files: tuple[tuple[str, bytes], ...]
    # a corpus this one mostly repeats (the window a "minus" corpus removes a few items from):
    # its built index is copied first, so only what differs is embedded
    seed: Corpus | None = None

    @cached_property
    def key(self) -> str:
        digest = hashlib.sha256()
        for name, data in self.files:
            digest.update(name.encode("utf-8") + b"\0" + hashlib.sha256(data).digest())
        return f"{self.label}-{digest.hexdigest()[:16]}"

    def size(self) -> int:
        return sum(data.count(b"\n") if name.endswith(".jsonl") else 1 for name, data in self.files)


def jsonl_corpus(label: str, lines: Iterable[str], seed: Corpus | None = None) -> Corpus:
    data = "".join(line.rstrip("\n") + "\n" for line in lines).encode("utf-8")
    return Corpus(label, ((f"{label}.jsonl", data),), seed)


def article_line(item_id: str, text: str, title: str = "", day: str = "") -> str:
    return json.dumps({"id": item_id, "title": title, "date": day, "text": text}, ensure_ascii=False)


@cache
def seed_corpus() -> Corpus:
    pages = sorted((REPO / "corpus").glob("*.txt"))
    return Corpus("seeds", tuple((p.name, p.read_bytes()) for p in pages))


@cache
def xwlb_lines(shared: Path) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """(first 800 item lines, (id, line) of every item in the 2019 Q2 window), in file order."""
    first: list[str] = []
    window: list[tuple[str, str]] = []
    with gzip.open(shared / "data/xwlb_articles.jsonl.gz", "rt", encoding="utf-8") as fh:
        for raw in fh:
            line = raw.strip()
            if not line:
                continue
            item = json.loads(line)
            if len(first) < XWLB_FIRST_N:
                first.append(line)
            if XWLB_WINDOW[0] <= str(item["date"]) <= XWLB_WINDOW[1]:
                window.append((str(item["id"]), line))
    return tuple(first), tuple(window)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8-sig").splitlines() if line.strip()]


# --- question sets -------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    order: int  # position in the set's file
    scored: EvalQuestion
    split: str = "all"
    remove: tuple[str, ...] = ()


@dataclass(frozen=True)
class Job:
    corpus: Corpus
    questions: tuple[Question, ...]


@dataclass
class BenchSet:
    name: str
    jobs: list[Job]
    measure_only: bool = False
    note: str = ""


def read_question_file(path: Path) -> list[Question]:
    """``load_questions`` plus the fields it does not keep (``split``, ``remove``). Raises
    ValueError for a malformed file, including an answer group written as a bare string."""
    scored = load_questions(path)
    raw = read_jsonl(path)
    for n, row in enumerate(raw, 1):
        if any(isinstance(group, str) for group in row.get("answers", [])):
            raise ValueError(f"{path}: question {row.get('id')} (entry {n}): answer group is a string")
    return [
        Question(n, q, str(row.get("split") or "all"), tuple(str(i) for i in row.get("remove") or ()))
        for n, (q, row) in enumerate(zip(scored, raw, strict=True))
    ]


def seed_set(name: str, path: Path) -> BenchSet:
    return BenchSet(name, [Job(seed_corpus(), tuple(read_question_file(path)))])


def xwlb800_set(shared: Path) -> BenchSet:
    first, _ = xwlb_lines(shared)
    questions = read_question_file(REPO / "eval/xwlb_questions.jsonl")
    return BenchSet("xwlb800", [Job(jsonl_corpus("xwlb800", first), tuple(questions))])


def xwlb2019q2_set(shared: Path, name: str = "xwlb2019q2") -> BenchSet:
    """The full window for plain questions; the window minus every ``remove`` id of the set for
    the rest."""
    _, window = xwlb_lines(shared)
    questions = read_question_file(set_source(name, shared))
    removed = {i for q in questions for i in q.remove}
    unknown = removed - {item_id for item_id, _ in window}
    whole = jsonl_corpus("xwlb2019q2", (line for _, line in window))
    jobs = [Job(whole, tuple(q for q in questions if not q.remove))]
    if removed:
        kept = (line for item_id, line in window if item_id not in removed)
        jobs.append(Job(jsonl_corpus(f"{name}-minus", kept, seed=whole), tuple(q for q in questions if q.remove)))
    note = f"{sum(bool(q.remove) for q in questions)} asked without {len(removed - unknown)} removed items"
    if unknown:
        note += f"; {len(unknown)} remove ids not in the window"
    return BenchSet(name, jobs, note=note)


def rgb_groups(answers: Sequence[str | Sequence[str]]) -> tuple[tuple[str, ...], ...]:
    """RGB's rule: each string is its own group (all must appear); a list is one group of
    alternatives."""
    return tuple((a,) if isinstance(a, str) else tuple(str(s) for s in a) for a in answers)


def rgb_set(shared: Path) -> BenchSet:
    """Negative rejection: drop the positives of the odd-position queries from the corpus."""
    passages = read_jsonl(shared / "data/rgb_zh_corpus.jsonl")
    queries = read_jsonl(shared / "data/rgb_zh_queries.jsonl")
    absent = queries[1::2]
    removed = {pid for q in absent for pid in q["positive_ids"]}
    kept = [p for p in passages if p["pid"] not in removed]
    remaining = "\0".join(p["text"] for p in kept)
    questions, skipped = [], 0
    for n, q in enumerate(queries):
        groups = rgb_groups(q["answers"])
        if n % 2 == 0:
            questions.append(Question(n, EvalQuestion(str(q["qid"]), q["query"], "factoid", groups)))
        elif any(s in remaining for group in groups for s in group):
            skipped += 1
        else:
            questions.append(Question(n, EvalQuestion(str(q["qid"]), q["query"], "unanswerable", ())))
    corpus = jsonl_corpus("rgb-negative", (article_line(p["pid"], p["text"]) for p in kept))
    note = f"measure only; {skipped} of {len(absent)} answer-absent skipped (answer still in corpus)"
    return BenchSet("rgb", [Job(corpus, tuple(questions))], measure_only=True, note=note)


def rgb_int_set(shared: Path) -> BenchSet:
    passages = read_jsonl(shared / "data/rgb_zh_int_corpus.jsonl")
    queries = read_jsonl(shared / "data/rgb_zh_int_queries.jsonl")
    questions = tuple(
        Question(n, EvalQuestion(str(q["qid"]), q["query"], "aggregate", rgb_groups(q["answers"])))
        for n, q in enumerate(queries)
    )
    corpus = jsonl_corpus("rgb-int", (article_line(p["pid"], p["text"]) for p in passages))
    return BenchSet("rgb_int", [Job(corpus, questions)], measure_only=True, note="measure only")


def set_source(name: str, shared: Path) -> Path:
    """The question file a set needs (its absence means: skip the set)."""
    return {
        "dev": shared / "eval/dev.jsonl",
        "seeds_extra": REPO / "eval/seeds_extra.jsonl",
        "seeds_v2": REPO / "eval/seeds_v2.jsonl",
        "seeds_v3": REPO / "eval/seeds_v3.jsonl",
        "xwlb800": REPO / "eval/xwlb_questions.jsonl",
        "xwlb2019q2": REPO / "eval/xwlb2019q2.jsonl",
        "xwlb2019q2b": REPO / "eval/xwlb2019q2_b.jsonl",
        "xwlb2019q2c": REPO / "eval/xwlb2019q2_c.jsonl",
        "xwlb2019q2d": REPO / "eval/xwlb2019q2_d.jsonl",
        "rgb": shared / "data/rgb_zh_queries.jsonl",
        "rgb_int": shared / "data/rgb_zh_int_queries.jsonl",
    }[name]


def build_set(name: str, shared: Path) -> BenchSet:
    if name in ("dev", "seeds_extra", "seeds_v2", "seeds_v3"):
        return seed_set(name, set_source(name, shared))
    builders: dict[str, Callable[[Path], BenchSet]] = {
        "xwlb800": xwlb800_set, "xwlb2019q2": xwlb2019q2_set, "rgb": rgb_set, "rgb_int": rgb_int_set,
        "xwlb2019q2b": lambda shared: xwlb2019q2_set(shared, "xwlb2019q2b"),
        "xwlb2019q2c": lambda shared: xwlb2019q2_set(shared, "xwlb2019q2c"),
        "xwlb2019q2d": lambda shared: xwlb2019q2_set(shared, "xwlb2019q2d"),
    }
    return builders[name](shared)


def tune_jobs(shared: Path, names: Sequence[str] = OWN_SETS) -> Iterator[tuple[str, Job]]:
    """(set name, job holding only its tune questions) of each named set, jobs without any skipped:
    what tuning and training may read. Held-out questions never leave here."""
    for name in names:
        for job in build_set(name, shared).jobs:
            tune = tuple(q for q in job.questions if q.split == "tune")
            if tune:
                yield name, Job(job.corpus, tune)


def limited(bench: BenchSet, limit: int) -> BenchSet:
    """Only the first ``limit`` questions of the set, in file order across its jobs."""
    if not limit:
        return bench
    order = sorted(q.order for job in bench.jobs for q in job.questions)
    keep = set(order[:limit])
    jobs = [Job(job.corpus, tuple(q for q in job.questions if q.order in keep)) for job in bench.jobs]
    return BenchSet(bench.name, [j for j in jobs if j.questions], bench.measure_only, bench.note)
