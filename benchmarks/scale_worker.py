"""Child-process phases of ``benchmarks.scale``; each prints JSON lines (see benchmarks.child).

    python -m benchmarks.scale_worker build   --corpus DIR --root DIR --sessions FILE [--stand-in]
    python -m benchmarks.scale_worker reindex --corpus DIR --root DIR --tmp DIR
    python -m benchmarks.scale_worker serve   --root DIR --questions FILE
    python -m benchmarks.scale_worker update  --root DIR --corpus DIR --page FILE --questions FILE

The service is wired exactly as the bot wires it (``bot.runtime.make_service``), with the
default embedding backend and the model cache under ``data/models``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import shutil
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmarks.child import emit
from benchmarks.workload import latency_summary

MODEL_CACHE = Path("data/models")


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _service(root: Path):  # -> NewsQA (imported lazily: the import is part of start-up)
    from bot.runtime import make_service
    from bot.settings import Settings

    settings = Settings(_env_file=None, index_dir=root, model_cache_dir=MODEL_CACHE)  # type: ignore[call-arg]
    return make_service(settings)


class _StandIn:
    """A PassageEncoder without a model: a fixed pseudo-random unit vector per text, under the
    default model's name. Indexes built with it have the real size, chunk store, BM25 and vector
    count, so serving memory, start-up and latency can be measured before the real vectors exist
    (dense rankings are meaningless; queries are still embedded by the real model)."""

    def __init__(self, dim: int = 384) -> None:
        from retrieval.embed.default_model import DEFAULT_MODEL

        self.name, self.dim, self.backend = DEFAULT_MODEL, dim, "stand-in"

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        from retrieval.index.embedding import text_digest

        seeds = [int(text_digest(t)[:15], 16) for t in texts]
        vecs = np.stack([np.random.default_rng(s).standard_normal(self.dim) for s in seeds]).astype(np.float32)
        return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


def build(corpus: Path, root: Path, sessions: Path, stand_in: bool = False) -> None:
    """``update_index`` with the default embedder (or ``_StandIn``); appends this session's
    progress to ``sessions`` after every embedding step, so a killed build still counts its time."""
    from retrieval.embed.encoder import Embedder
    from retrieval.index.build import update_index

    started = time.perf_counter()
    stamp = time.strftime("%F %T")
    embedder = _StandIn() if stand_in else Embedder(cache_dir=MODEL_CACHE)
    state = {"session": stamp, "backend": embedder.backend, "embedded": 0, "to_embed": 0,
             "embed_seconds": 0.0, "seconds": 0.0, "done": False}
    embed_started: list[float] = []

    def save_state() -> None:
        state["seconds"] = round(time.perf_counter() - started, 1)
        state["peak_rss_mib"] = round(_peak_rss_mib(), 1)
        lines = [ln for ln in sessions.read_text(encoding="utf-8").splitlines()
                 if ln and json.loads(ln)["session"] != stamp] if sessions.is_file() else []
        tmp = sessions.with_suffix(".tmp")
        tmp.write_text("\n".join([*lines, json.dumps(state)]) + "\n", encoding="utf-8")
        tmp.replace(sessions)

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "chunk":
            embed_started.append(time.perf_counter())
        elif stage == "embed":
            state["embedded"], state["to_embed"] = done, total
            state["embed_seconds"] = round(time.perf_counter() - embed_started[0], 1)
            save_state()
            emit(event="embed", done=done, total=total, seconds=state["seconds"])

    report = update_index(corpus, root, embedder, progress=progress)
    state["done"] = True
    save_state()
    emit(event="built", articles=report.articles, chunks=report.chunks, embedded=report.embedded,
         reused=report.reused, noop=report.noop, seconds=round(report.seconds, 2),
         embed_seconds=state["embed_seconds"], backend=embedder.backend, peak_rss_mib=round(_peak_rss_mib(), 1))


class _Precomputed:
    """A PassageEncoder that returns the stored vector of each text (no model)."""

    def __init__(self, name: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        from retrieval.index.embedding import text_digest

        self.name, self.dim = name, int(vectors.shape[1])
        self._digest = text_digest
        self._table = {text_digest(t): v for t, v in zip(texts, vectors, strict=True)}

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return np.stack([self._table[self._digest(t)] for t in texts]).astype(np.float32)


def reindex(corpus: Path, root: Path, tmp: Path) -> None:
    """Our index build without the model: every vector comes from the built index, so the
    time is ingest + chunk + names + jieba + BM25 + FAISS + save (the peer's from_embeddings)."""
    from retrieval.index.article_index import load_index
    from retrieval.index.build import update_index

    index = load_index(root)
    encoder = _Precomputed(index.manifest.model, [c.index_text for c in index.chunks], index.stored_vectors())
    del index
    shutil.rmtree(tmp, ignore_errors=True)
    started = time.perf_counter()
    report = update_index(corpus, tmp, encoder, rebuild=True)
    seconds = time.perf_counter() - started
    shutil.rmtree(tmp, ignore_errors=True)
    emit(event="reindexed", chunks=report.chunks, seconds=round(seconds, 2))


def reformat(corpus: Path, root: Path) -> None:
    """Rebuild the index under ``root`` in place, in the current format, from its own vectors
    (no model): for indexes built by an older version of the code (e.g. without tokens.npz)."""
    from retrieval.index.article_index import load_index
    from retrieval.index.build import update_index

    index = load_index(root)
    encoder = _Precomputed(index.manifest.model, [c.index_text for c in index.chunks], index.stored_vectors())
    del index
    started = time.perf_counter()
    report = update_index(corpus, root, encoder, rebuild=True)
    emit(event="reformatted", chunks=report.chunks, seconds=round(time.perf_counter() - started, 2))


def _timed(fn, questions: Sequence[str]) -> tuple[list[float], list]:
    ms: list[float] = []
    out = []
    for q in questions:
        t = time.perf_counter()
        out.append(fn(q))
        ms.append((time.perf_counter() - t) * 1000)
    return ms, out


def serve(root: Path, questions_file: Path) -> None:
    """Bot start-up (load + warm_up) then search and ask latency over every question."""
    started = time.perf_counter()
    service = _service(root)
    service.load()
    loaded = time.perf_counter()
    service.warm_up()
    ready = time.perf_counter()
    emit(event="ready", load_s=round(loaded - started, 2), warm_up_s=round(ready - loaded, 2),
         rss_ready_mib=round(_current_rss_mib(), 1))
    rows = [json.loads(line) for line in questions_file.read_text(encoding="utf-8").splitlines() if line]
    qs = [r["q"] for r in rows]
    search_ms, hits = _timed(lambda q: service.search(q, 5), qs)
    ask_ms, answers = _timed(service.ask, qs)
    emit(event="served", search=latency_summary(search_ms), ask=latency_summary(ask_ms),
         search_ms=[round(x, 2) for x in search_ms],
         top5=[list(dict.fromkeys(h.chunk.article_id for h in hit)) for hit in hits],
         found=sum(a.found for a in answers), questions=len(qs),
         peak_rss_mib=round(_peak_rss_mib(), 1), rss_end_mib=round(_current_rss_mib(), 1))


def _current_rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def update(root: Path, corpus: Path, page: Path, questions_file: Path) -> None:
    """Add one page to a copy of the index while another thread keeps asking questions."""
    work = root.parent / "update-work"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(corpus, work / "corpus")
    shutil.copytree(root / "current", work / "index" / "versions" / "v-base")
    (work / "index" / "current").symlink_to(Path("versions") / "v-base")
    service = _service(work / "index")
    service.load()
    service.warm_up()
    qs = [json.loads(line)["q"] for line in questions_file.read_text(encoding="utf-8").splitlines() if line]
    timeline: list[tuple[float, float]] = []  # (start, ms)
    stop = threading.Event()

    def ask_forever() -> None:
        i = 0
        while not stop.is_set():
            t = time.perf_counter()
            service.ask(qs[i % len(qs)])
            timeline.append((t, (time.perf_counter() - t) * 1000))
            i += 1

    asker = threading.Thread(target=ask_forever, daemon=True)
    asker.start()
    time.sleep(5.0)  # a baseline under the same threading
    shutil.copy(page, work / "corpus" / page.name)
    t0 = time.perf_counter()
    report = service.reindex(work / "corpus")
    t1 = time.perf_counter()
    time.sleep(3.0)
    stop.set()
    asker.join()
    before = [ms for t, ms in timeline if t < t0]
    during = [ms for t, ms in timeline if t0 <= t < t1]
    after = [ms for t, ms in timeline if t >= t1]
    emit(event="updated", seconds=round(t1 - t0, 2), added=report.added, embedded=report.embedded,
         tokenized=report.tokenized, build_seconds=round(report.seconds, 2),
         chunks=report.chunks, before=latency_summary(before), during=latency_summary(during),
         after=latency_summary(after), longest_gap_ms=round(_longest_gap(timeline, t0, t1), 1),
         peak_rss_mib=round(_peak_rss_mib(), 1))
    shutil.rmtree(work, ignore_errors=True)


def _longest_gap(timeline: list[tuple[float, float]], t0: float, t1: float) -> float:
    """Longest wait in [t0, t1] between one answer finishing and the next one finishing."""
    ends = sorted(t + ms / 1000 for t, ms in timeline)
    inside = [t0, *[e for e in ends if t0 <= e <= t1], t1]
    return max(b - a for a, b in itertools.pairwise(inside)) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("phase", choices=["build", "reindex", "reformat", "serve", "update"])
    ap.add_argument("--corpus", type=Path)
    ap.add_argument("--root", type=Path, required=True)
    ap.add_argument("--sessions", type=Path)
    ap.add_argument("--tmp", type=Path)
    ap.add_argument("--questions", type=Path)
    ap.add_argument("--page", type=Path)
    ap.add_argument("--stand-in", action="store_true", help="build with _StandIn vectors (no model)")
    a = ap.parse_args()
    if a.phase == "build":
        build(a.corpus, a.root, a.sessions, a.stand_in)
    elif a.phase == "reindex":
        reindex(a.corpus, a.root, a.tmp)
    elif a.phase == "reformat":
        reformat(a.corpus, a.root)
    elif a.phase == "serve":
        serve(a.root, a.questions)
    else:
        update(a.root, a.corpus, a.page, a.questions)


if __name__ == "__main__":
    main()
