#!/usr/bin/env python
"""Crash test: SIGKILL `newsqa index` at random points and check that nothing is lost.

    python scripts/crash_test.py [--kills 20] [--corpus corpus] [--seed 1] [--workdir DIR]

1. Copies the corpus to a scratch folder and builds two reference indexes: state A (the corpus
   as given) and state B (A with one page changed and one JSONL archive added, whose article is
   the only one that answers ``NEW_QUESTION``). The answers to ``QUESTIONS`` are recorded for
   both states.
2. Then, ``--kills`` times: runs ``newsqa index --rebuild`` or ``newsqa index`` after switching
   the corpus copy to the other state, in a subprocess, and SIGKILLs it — either at a random
   moment of the whole run (model load included) or just after it starts a chosen step
   (``NEWSQA_BUILD_TRACE``: hashing, embedding, BM25, saving, each step of commit and swap,
   garbage collection), plus a random few milliseconds.
3. After every kill: the build lock is free, ``current`` loads with checksum verification, it
   is the version from before the run or a complete new one (never anything else), and it
   answers exactly like the reference index of the corpus state it holds.
4. Then the same command is run again and must finish on its own (no clean-up by hand): exit 0,
   the index matches the corpus, no ``tmp-*`` folder, stray link or checkpoint shard is left
   behind. A rebuild resumes from the checkpoint shards the killed one wrote ("reused" column).

Prints one table row per kill and exits non-zero on any failure. ``MODEL_CACHE_DIR`` (or
``--model-cache``) points at the converted model so it is not rebuilt; default: ``data/models``.
tests/system/test_reliability.py runs a three-kill version of this on a small corpus.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from retrieval.index.article_index import load_index  # noqa: E402
from retrieval.index.build import corpus_hashes, update_index  # noqa: E402
from retrieval.index.embedding import EMBED_BATCH_ENV  # noqa: E402
from retrieval.index.store import TRACE_ENV, IndexStoreError, current_version  # noqa: E402
from retrieval.service import Encoder, NewsQA  # noqa: E402

QUESTIONS = ("舟山镇是永康的什么", "朱志杰去过哪些镇", "古山镇1-7月规上工业总产值增长了多少")
NEW_QUESTION = "铜匠博物馆有几层展厅"
NEW_RECORD = {"id": "crash-extra-1", "title": "永康铜匠博物馆开馆", "date": "2019-08-02",
              "text": "本报讯 永康五金城新建的铜匠博物馆日前开馆。铜匠博物馆共有三层展厅，"
                      "馆内陈列着两千余件老铜器，开馆首日接待市民一千余人次。"}
EXTRA_FILE = "crash_extra.jsonl"
APPENDED = "\n\n本报讯 记者从市农业农村局获悉，今年我市新建高标准农田一万二千亩，超额完成全年任务。\n"
# Steps announced through NEWSQA_BUILD_TRACE (retrieval.index.build / retrieval.index.store), and how long
# after the announcement the kill may land (seconds): long for steps that take a while.
STEPS = {
    "start": 0.005, "locked": 0.002, "gc": 0.003, "hash": 0.005, "load-old": 0.1, "ingest": 0.1,
    "chunk": 0.01, "embed": 1.5, "keywords": 0.05, "vectors": 0.003, "bm25": 0.01, "save": 0.005,
    "commit:checksums": 0.003, "commit:manifest": 0.002, "commit:fsync": 0.003, "commit:rename": 0.002,
    "commit:swap": 0.002, "commit:done": 0.002, "checkpoint-clear": 0.002, "done": 0.002,
}
RUN_TIMEOUT = 900.0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- corpus states
class Corpus:
    """The scratch corpus, switchable between state "A" (as given) and "B" (one page changed,
    one archive added)."""

    def __init__(self, source: Path, folder: Path) -> None:
        self.folder = folder
        shutil.copytree(source, folder, symlinks=False)
        for path in folder.rglob("*"):
            if path.is_file():
                path.chmod(0o644)
        pages = sorted(p for p in folder.rglob("*.txt"))
        if not pages:
            raise SystemExit(f"{source} holds no .txt page to modify")
        self.page = pages[0]
        self.original = self.page.read_bytes()
        self.state = "A"
        self.hashes = {"A": corpus_hashes(folder)[0]}
        self.switch("B")
        self.hashes["B"] = corpus_hashes(folder)[0]
        self.switch("A")

    def switch(self, state: str) -> None:
        if state == "B":
            _write(self.folder / EXTRA_FILE, (json.dumps(NEW_RECORD, ensure_ascii=False) + "\n").encode())
            _write(self.page, self.original + APPENDED.encode("utf-8"))
        else:
            (self.folder / EXTRA_FILE).unlink(missing_ok=True)
            _write(self.page, self.original)
        self.state = state

    def state_of(self, files: dict[str, str]) -> str | None:
        return next((s for s, h in self.hashes.items() if h == files), None)


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".writing")
    tmp.write_bytes(data)
    os.replace(tmp, path)


# ----------------------------------------------------------------------------- checks
def answers(root: Path, encoder: Encoder, model: str) -> Answers:
    """What the current index answers: (found, text, sources) per question."""
    service = NewsQA(root, lambda: encoder, model_name=model)
    service.load()
    return [(a.found, a.text, tuple(c.source for c in a.citations))
            for a in (service.ask(q) for q in (*QUESTIONS, NEW_QUESTION))]


Answers = list[tuple[bool, str, tuple[str, ...]]]


def core(answers: Answers) -> list[tuple[bool, str, str]]:
    """What an answer says: found, its text and its first source. The order of the further
    sources may differ between two builds of the same corpus (vectors computed in different
    batches differ in the last bits, which can swap near-tied passages far down the list)."""
    return [(found, text, sources[0] if sources else "") for found, text, sources in answers]


def compare(got: Answers, expected: Answers, exact: bool) -> str:
    """"yes" if identical, "yes*" if the answers say the same (see :func:`core`), else "NO"."""
    if got == expected:
        return "yes"
    return "NO" if exact or core(got) != core(expected) else "yes*"


def lock_is_free(root: Path) -> bool:
    with (root / ".build.lock").open("a") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        return True


def leftovers(root: Path) -> list[str]:
    """Things a finished build must not leave behind."""
    found = [p.name for p in (root / "versions").glob("tmp-*")]
    found += [p.name for p in root.glob(".current.tmp-*")]
    found += [p.name for p in (root / "checkpoint").rglob("*") if p.is_file()] if (root / "checkpoint").exists() else []
    versions = [p for p in (root / "versions").glob("v-*")]
    if len(versions) > 3:
        found.append(f"{len(versions)} versions")
    return found


# ----------------------------------------------------------------------------- runs
@dataclass
class Run:
    returncode: int | None
    seconds: float
    steps: list[str]
    killed: bool
    stderr: str = ""
    stdout: str = ""


@dataclass
class Row:
    n: int
    op: str
    mode: str
    killed_after: float = 0.0
    last_step: str = ""
    after_kill: str = ""
    loads: str = ""
    same_answers: str = ""
    next_index: str = ""
    clean: str = ""
    failures: list[str] = field(default_factory=list)


class CrashTest:
    def __init__(self, corpus: Path, workdir: Path, model_cache: Path, encoder: Encoder, model: str,
                 rng: random.Random, embed_batch: int = 8, complete_every: int = 1) -> None:
        self.workdir = workdir
        self.root = workdir / "index"
        self.corpus = Corpus(corpus, workdir / "corpus")
        self.model_cache = model_cache
        self.encoder, self.model = encoder, model
        self.rng = rng
        self.embed_batch = embed_batch
        self.complete_every = complete_every
        self.reference: dict[str, Answers] = {}
        self.durations: dict[str, float] = {}
        self.runs = 0
        self.before_answers: Answers = []

    # -- subprocesses ----------------------------------------------------------------------
    def env(self, trace: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("INDEX_DIR", "DATA_DIR", "EMBEDDING_MODEL")}
        env.update({
            "MODEL_CACHE_DIR": str(self.model_cache), "CORPUS_DIR": str(self.corpus.folder),
            "LOG_LEVEL": "WARNING", "PYTHONIOENCODING": "utf-8", TRACE_ENV: str(trace),
            EMBED_BATCH_ENV: str(self.embed_batch), "PYTHONPATH": str(REPO),
        })
        return env

    def run_index(self, rebuild: bool, kill: Callable[[float, list[str]], bool] | None = None,
                  as_json: bool = False) -> Run:
        """``newsqa index`` in a subprocess; ``kill(elapsed, steps)`` says when to SIGKILL it."""
        self.runs += 1
        trace = self.workdir / f"trace-{self.runs:03d}.log"
        args = [sys.executable, "-m", "bot.cli", "--index-dir", str(self.root), "index",
                "--corpus", str(self.corpus.folder), *(["--rebuild"] if rebuild else []),
                *(["--json"] if as_json else [])]
        started = time.monotonic()
        with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as out:
            proc = subprocess.Popen(args, cwd=self.workdir, env=self.env(trace), stdout=out,
                                    stderr=err, start_new_session=True)
            killed = False
            try:
                while proc.poll() is None:
                    elapsed = time.monotonic() - started
                    if elapsed > RUN_TIMEOUT:
                        raise TimeoutError(f"newsqa index still running after {RUN_TIMEOUT:.0f} s")
                    if kill is not None and kill(elapsed, read_steps(trace)):
                        with contextlib.suppress(ProcessLookupError):
                            os.killpg(proc.pid, signal.SIGKILL)
                        proc.wait()
                        killed = proc.returncode == -signal.SIGKILL  # (not if it had just finished)
                        break
                    time.sleep(0.002)
            finally:
                if proc.poll() is None:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            err.seek(0)
            stderr = err.read().decode("utf-8", "replace")
            out.seek(0)
            stdout = out.read().decode("utf-8", "replace")
        return Run(proc.returncode, time.monotonic() - started, read_steps(trace), killed, stderr, stdout)

    def build_reference(self, state: str, rebuild: bool, in_process: bool) -> None:
        self.corpus.switch(state)
        op = "rebuild" if rebuild else "update"
        if in_process:
            os.environ[EMBED_BATCH_ENV] = str(self.embed_batch)
            started = time.monotonic()
            update_index(self.corpus.folder, self.root, self.encoder, rebuild=rebuild)
            self.durations.setdefault(op, time.monotonic() - started)
        else:
            run = self.run_index(rebuild)
            if run.returncode != 0:
                raise SystemExit(f"reference build failed:\n{run.stderr[-3000:]}")
            self.durations.setdefault(op, run.seconds)
        self.reference.setdefault(state, answers(self.root, self.encoder, self.model))

    def setup(self, in_process: bool) -> None:
        log(f"reference builds in {self.workdir} …")
        self.build_reference("A", rebuild=True, in_process=in_process)
        self.build_reference("B", rebuild=False, in_process=in_process)
        if not in_process:  # (the tests skip this sanity check to save time)
            self.build_reference("A", rebuild=False, in_process=in_process)
            again = answers(self.root, self.encoder, self.model)
            if compare(again, self.reference["A"], exact=False) == "NO":
                raise SystemExit("answers differ between two builds of the same corpus; cannot compare")
        else:
            self.corpus.switch("B")
        found_a, found_b = self.reference["A"][-1][0], self.reference["B"][-1][0]
        if found_a or not found_b:
            raise SystemExit(f"{NEW_QUESTION!r} should be answered by state B only (A={found_a}, B={found_b})")
        log("reference answers recorded; build times: "
            + ", ".join(f"{k} {v:.1f} s" for k, v in self.durations.items()))

    # -- one kill --------------------------------------------------------------------------
    def plan(self, n: int, modes: Sequence[str]) -> tuple[str, str, Callable[[float, list[str]], bool]]:
        op = "rebuild" if n % 2 == 0 else "update"
        mode = modes[n % len(modes)]
        if mode == "random":
            horizon = self.durations.get(op) or 20.0
            delay = self.rng.uniform(0.2, horizon)
            return op, f"random {delay:.2f}s", lambda elapsed, steps: elapsed >= delay
        if mode == "startup":
            delay = self.rng.uniform(0.05, 0.6)  # imports, settings, before the build starts
            return op, f"startup {delay:.2f}s", lambda elapsed, steps: elapsed >= delay
        step = mode
        extra = self.rng.uniform(0.0, STEPS.get(step.split(":")[0] if step.startswith("embed:") else step, 0.02))
        seen_at: list[float] = []

        def at_step(elapsed: float, steps: list[str]) -> bool:
            if not seen_at and any(s == step or (step.endswith("/") and s.startswith(step)) for s in steps):
                seen_at.append(elapsed)
            return bool(seen_at) and elapsed >= seen_at[0] + extra

        return op, f"{step} +{extra * 1000:.0f}ms", at_step

    def one(self, n: int, modes: Sequence[str], attempts: int = 4) -> Row:
        for _ in range(attempts):
            op, mode, kill = self.plan(n, modes)
            index_state = self.state_now()
            target = self.corpus.state if op == "rebuild" else ("B" if index_state == "A" else "A")
            self.corpus.switch(target)
            before = current_version(self.root).name
            self.before_answers = answers(self.root, self.encoder, self.model)
            run = self.run_index(rebuild=op == "rebuild", kill=kill)
            if run.killed:
                break
            log(f"  kill {n + 1}: the build finished before {mode}; trying another point")
            modes = [self.rng.choice(list(STEPS))]
        else:
            row = Row(n + 1, op, mode)
            row.failures.append("could not kill the build while it ran")
            return row
        row = Row(n + 1, op, mode, killed_after=run.seconds, last_step=run.steps[-1] if run.steps else "(startup)")
        self.check_after_kill(row, before, target)
        if self.complete_every and ((n + 1) % self.complete_every == 0):
            self.complete(row, rebuild=op == "rebuild")
        else:
            row.next_index = row.clean = "later"
        return row

    def state_now(self) -> str:
        state = self.corpus.state_of(load_index(self.root, expected_model=self.model, verify=True).manifest.files)
        if state is None:
            raise SystemExit("the index holds neither corpus state")
        return state

    def check_after_kill(self, row: Row, before: str, target: str) -> None:
        if not lock_is_free(self.root):
            row.failures.append("build lock still held after the kill")
        try:
            index = load_index(self.root, expected_model=self.model, verify=True)
        except IndexStoreError as exc:
            row.loads = "NO"
            row.failures.append(f"index does not load after the kill: {exc}")
            return
        row.loads = "yes"
        version = index.path.name if index.path else "?"
        state = self.corpus.state_of(index.manifest.files)
        if version == before:
            row.after_kill = f"old ({state})"
        elif state == target:
            row.after_kill = f"new ({state})"
        else:
            row.after_kill = f"new ({state}) ≠ corpus {target}"
            row.failures.append(f"a new version {version} holds an unexpected corpus state {state}")
        if state is None:
            row.failures.append("current index holds an unknown corpus state")
            return
        got = answers(self.root, self.encoder, self.model)
        if version == before:  # the very same files: the very same answers
            row.same_answers = compare(got, self.before_answers, exact=True)
        else:
            row.same_answers = compare(got, self.reference[state], exact=False)
        if row.same_answers == "NO":
            row.failures.append(f"answers differ from the state {state} reference: {got} != {self.reference[state]}")

    def complete(self, row: Row, rebuild: bool = False) -> None:
        """Run the command again (``index --rebuild`` after a killed rebuild) to the end."""
        run = self.run_index(rebuild=rebuild, as_json=True)
        if run.returncode != 0:
            row.next_index = f"FAILED ({run.returncode})"
            row.failures.append(f"next `newsqa index` failed:\n{run.stderr[-2000:]}")
            return
        try:
            report = json.loads(run.stdout)
        except ValueError:
            report = {}
        row.next_index = f"ok {run.seconds:.1f}s"
        if report.get("noop"):
            row.next_index += ", no-op"
        elif report:
            row.next_index += f", {report.get('embedded', '?')} embedded, {report.get('reused', '?')} reused"
        try:
            state = self.state_now()
        except (IndexStoreError, SystemExit) as exc:
            row.failures.append(f"index after the next build: {exc}")
            return
        if state != self.corpus.state:
            row.failures.append(f"after the next build the index holds state {state}, corpus is {self.corpus.state}")
        if compare(answers(self.root, self.encoder, self.model), self.reference[state], exact=False) == "NO":
            row.failures.append("answers after the next build differ from the reference")
        left = leftovers(self.root)
        row.clean = "yes" if not left else "NO: " + ", ".join(left[:3])
        if left:
            row.failures.append(f"left behind after a finished build: {left}")

    def run(self, kills: int, modes: Sequence[str]) -> list[Row]:
        rows = []
        for n in range(kills):
            row = self.one(n, modes)
            rows.append(row)
            status = "ok" if not row.failures else "FAIL: " + row.failures[0][:300]
            log(f"  kill {row.n}/{kills}: {row.op}, {row.mode}, killed after {row.killed_after:.1f}s at "
                f"{row.last_step!r} → {row.after_kill}; {status}")
        if rows and rows[-1].next_index == "later":
            self.complete(rows[-1], rebuild=rows[-1].op == "rebuild")
        return rows


def read_steps(trace: Path) -> list[str]:
    try:
        text = trace.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [line.split(" ", 2)[2] for line in text.splitlines() if line.count(" ") >= 2]


def default_modes(rng: random.Random) -> list[str]:
    """Every step once (in random order), then mid-embedding, random moments and start-up: with
    20 kills or more, each step of the build is aimed at at least once."""
    steps, extra = list(STEPS), ["embed:8/", "random", "random", "random", "startup"]
    rng.shuffle(steps)
    rng.shuffle(extra)
    return steps + extra


def table(rows: Sequence[Row]) -> str:
    header = ("#", "operation", "killed at", "after (s)", "last step seen", "current after kill", "loads+verify",
              "same answers", "same command again", "clean")
    data = [(str(r.n), r.op, r.mode, f"{r.killed_after:.1f}", r.last_step, r.after_kill, r.loads, r.same_answers,
             r.next_index, r.clean) for r in rows]
    widths = [max(len(h), *(len(d[i]) for d in data)) if data else len(h) for i, h in enumerate(header)]
    lines = [" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)),
             "-+-".join("-" * w for w in widths)]
    lines += [" | ".join(c.ljust(w) for c, w in zip(d, widths, strict=True)) for d in data]
    return "\n".join(lines)


def make_encoder(model_cache: Path) -> tuple[Encoder, str]:
    from bot.runtime import make_service
    from bot.settings import Settings

    settings = Settings(_env_file=None, model_cache_dir=model_cache)  # type: ignore[call-arg]
    service = make_service(settings)
    return service.encoder, service.model_name


def main(argv: Sequence[str] | None = None, encoder: tuple[Encoder, str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20, help="number of SIGKILLs (default 20)")
    parser.add_argument("--corpus", type=Path, default=REPO / "corpus", help="corpus folder (default corpus/)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: random, printed)")
    parser.add_argument("--workdir", type=Path, default=None, help="scratch folder (default: a new temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("--model-cache", type=Path, default=None,
                        help="converted model folder (default $MODEL_CACHE_DIR, else data/models)")
    parser.add_argument("--embed-batch", type=int, default=8,
                        help="chunks per checkpoint shard, small so kills land between shards (default 8)")
    parser.add_argument("--complete-every", type=int, default=1,
                        help="run the next `newsqa index` to completion after every N kills (default 1; "
                             "0 = only after the last)")
    parser.add_argument("--modes", default="",
                        help="comma-separated kill points (steps, 'random', 'startup'); default: all, shuffled")
    parser.add_argument("--in-process-setup", action="store_true",
                        help="build the reference indexes in this process (faster; used by the tests)")
    args = parser.parse_args(argv)

    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    model_cache = args.model_cache or Path(os.environ.get("MODEL_CACHE_DIR") or REPO / "data" / "models")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="newsqa-crash-"))
    workdir.mkdir(parents=True, exist_ok=True)
    log(f"crash test: {args.kills} kills, seed {seed}, corpus {args.corpus}, model cache {model_cache}")
    started = time.monotonic()
    try:
        enc, model = encoder or make_encoder(model_cache)
        test = CrashTest(args.corpus, workdir, model_cache, enc, model, rng, args.embed_batch, args.complete_every)
        test.setup(in_process=args.in_process_setup)
        modes = [m.strip() for m in args.modes.split(",") if m.strip()] or default_modes(rng)
        rows = test.run(args.kills, modes)
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    failures = [(r.n, f) for r in rows for f in r.failures]
    print(table(rows))
    survived = sum(1 for r in rows if not r.failures)
    print(f"\n{len(rows)} kills (seed {seed}), {survived} survived with nothing lost, "
          f"{len(rows) - survived} failed; {time.monotonic() - started:.0f} s in all.")
    if any(r.same_answers == "yes*" for r in rows):
        print("yes* = same answer text and first source as the reference index of that corpus state; a "
              "further source lower in the list is ordered differently (vectors of a rebuilt index "
              "differ in the last bits).")
    for n, failure in failures:
        print(f"kill {n}: {failure}", file=sys.stderr)
    return 1 if failures or len(rows) < args.kills else 0


if __name__ == "__main__":
    sys.exit(main())
