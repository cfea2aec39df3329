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
import gzip
import hashlib
import json
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import cache, cached_property
from pathlib import Path

from benchmarks.latency import percentile
from bot.runtime import make_service
from bot.settings import Settings
from retrieval.evaluate import EvalQuestion, EvalResult, EvalRow, evaluate, groups_present, load_questions
from retrieval.models import Answer
from retrieval.qa.answer import DEFAULT_MARGINS, ReaderRole
from retrieval.read.reader import Reader, load_reader
from retrieval.service import NewsQA

REPO = Path(__file__).resolve().parent.parent
K = 5
SET_NAMES = ("dev", "seeds_extra", "seeds_v2", "seeds_v3", "xwlb800", "xwlb2019q2", "xwlb2019q2b",
             "xwlb2019q2c", "xwlb2019q2d", "rgb", "rgb_int")
SPLIT_ORDER = ("tune", "heldout", "all")
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


def limited(bench: BenchSet, limit: int) -> BenchSet:
    """Only the first ``limit`` questions of the set, in file order across its jobs."""
    if not limit:
        return bench
    order = sorted(q.order for job in bench.jobs for q in job.questions)
    keep = set(order[:limit])
    jobs = [Job(job.corpus, tuple(q for q in job.questions if q.order in keep)) for job in bench.jobs]
    return BenchSet(bench.name, [j for j in jobs if j.questions], bench.measure_only, bench.note)


# --- running -------------------------------------------------------------------------------


class Services:
    """One NewsQA per corpus and answerer (``rules`` or ``model``), all over the first service's
    encoder and one reader (loaded once, on the first question read)."""

    def __init__(self, work: Path, model_cache: Path, rebuild: bool, reader_weights: Path | None = None,
                 reader_margin: float | None = None) -> None:
        self.work, self.model_cache, self.rebuild = work, model_cache, rebuild
        self.reader_weights = reader_weights
        self.reader_margin = reader_margin  # None: each reader role's calibrated default
        self.first: NewsQA | None = None
        self._by_key: dict[str, NewsQA] = {}
        self._reader: Reader | None = None

    def over(self, corpus: Corpus, answerer: str = "rules") -> NewsQA:
        if corpus.key not in self._by_key:
            self._by_key[corpus.key] = self._open(corpus)
        rules = self._by_key[corpus.key]
        if answerer == "rules":
            return rules
        key = f"{corpus.key}:{answerer}"
        if key not in self._by_key:
            # hybrid: the rules decide, the reader picks the short answer
            role: ReaderRole = "spans" if answerer == "hybrid" else "decides"
            margin = DEFAULT_MARGINS[role] if self.reader_margin is None else self.reader_margin
            self._by_key[key] = NewsQA(rules.index_root, lambda: rules.encoder.loaded, model_name=rules.model_name,
                                       reader_factory=self.reader, reader_margin=margin, reader_role=role)
        return self._by_key[key]

    def reader(self) -> Reader:
        if self._reader is None:
            log("loading the reader …")
            self._reader = load_reader(self.model_cache, weights=self.reader_weights)
        return self._reader

    def _open(self, corpus: Corpus) -> NewsQA:
        home = self.work / corpus.key
        corpus_dir, index_dir = home / "corpus", home / "index"
        write_corpus(corpus, corpus_dir)
        if corpus.seed is not None and not index_dir.exists():
            seed_index = self.over(corpus.seed).index_root
            shutil.copytree(seed_index, index_dir, symlinks=True, ignore=shutil.ignore_patterns("*.lock"))
            log(f"index {corpus.key}: starting from a copy of {corpus.seed.key}")
        service = self._service(home, corpus_dir, index_dir)
        log(f"index {corpus.key} ({corpus.size()} items) …")
        report = service.reindex(corpus_dir, rebuild=self.rebuild, progress=ProgressLog())
        state = "cached" if report.noop else f"built in {report.seconds:.0f} s ({report.embedded} embedded)"
        problems = f", {len(report.problems)} input problems" if report.problems else ""
        log(f"index {corpus.key}: {report.articles} articles, {report.chunks} chunks, {state}{problems}")
        service.warm_up()
        return service

    def _service(self, home: Path, corpus_dir: Path, index_dir: Path) -> NewsQA:
        if self.first is None:
            settings = Settings(  # type: ignore[call-arg]
                _env_file=None, corpus_dir=corpus_dir, data_dir=home, index_dir=index_dir,
                model_cache_dir=self.model_cache, answer_reader="rules",  # the baseline; readers in over()
            )
            self.first = make_service(settings)
            return self.first
        first = self.first
        return NewsQA(index_dir, lambda: first.encoder, model_name=first.model_name)


def write_corpus(corpus: Corpus, folder: Path) -> None:
    """Write the corpus files once; a folder named by the content hash never changes."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in corpus.files:
        target = folder / name
        if not target.exists() or target.read_bytes() != data:
            tmp = target.with_name(f".{name}.tmp")
            tmp.write_bytes(data)
            tmp.replace(target)


class ProgressLog:
    """Build progress as a log line at every tenth of a stage (readable under nohup)."""

    def __init__(self) -> None:
        self._last: tuple[str, int] = ("", -1)

    def __call__(self, stage: str, done: int, total: int) -> None:
        tenth = done * 10 // total if total else 10
        if (stage, tenth) != self._last and stage in ("embed", "sentences", "keywords"):
            self._last = (stage, tenth)
            log(f"  {stage} {done}/{total}")


class Recorder:
    """Passes questions to the service and keeps each Answer (for its ``kind``)."""

    def __init__(self, service: NewsQA) -> None:
        self.service = service
        self.answers: list[Answer] = []

    def ask(self, question: str) -> Answer:
        answer = self.service.ask(question)
        self.answers.append(answer)
        return answer


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


# --- reporting -----------------------------------------------------------------------------


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


def cpu_info(path: Path = Path("/proc/cpuinfo")) -> dict[str, object]:
    model, flags = "unknown", set[str]()
    if path.exists():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and model == "unknown":
                model = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = set(value.split())
    return {"cpu": model, "avx512_vnni": "avx512_vnni" in flags, "avx2": "avx2" in flags}


def header(services: Services) -> dict[str, object]:
    info = cpu_info()
    first = services.first
    encoder = first.encoder.loaded if first is not None else None
    info.update({
        "date": date.today().isoformat(),
        "model": first.model_name if first is not None else "",
        "backend": str(getattr(encoder, "backend", "?")),
    })
    return info


def header_line(info: dict[str, object]) -> str:
    def yes(flag: str) -> str:
        return "yes" if info[flag] else "no"

    return (f"CPU {info['cpu']} (avx512_vnni {yes('avx512_vnni')}, avx2 {yes('avx2')}) · "
            f"model {info['model']} · backend {info['backend']} · {info['date']}")


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


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


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
