"""Scale and speed: build, serve, update and the LangChain peer, side by side, per corpus size.

    python -m benchmarks.scale [--shared ../shared] [--sizes 1000,10000,74492] [--out docs/benchmarks.md]
                               [--steps build,reindex,serve,peer,update]

For each size N the first N items of ``xwlb_articles.jsonl.gz`` become a corpus under
``data/bench/xwlb-N/`` (never in the repository) and are indexed by ``update_index`` in a child
process. The build checkpoints embedded vectors, so a killed run resumes where it stopped:
run the same command again; build time is summed over the sessions (``build-sessions.jsonl``).
Every phase runs in its own fresh process (see ``benchmarks.child``): peak RSS is that process's
own, and bot start-up is spawn → ``NewsQA.load`` + ``warm_up`` done. Results are merged into
``data/bench/scale-results.json`` and the tables are written into ``--out`` between the
``<!-- scale:begin -->`` / ``<!-- scale:end -->`` markers.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from benchmarks.child import run_child
from benchmarks.scale_report import machine, render, write_section
from benchmarks.workload import hit_rate, read_items, rgb_questions, title_questions, write_slice

BENCH = Path("data/bench")
RESULTS = BENCH / "scale-results.json"
STEPS = ("build", "reindex", "serve", "peer", "update")


def _questions(items_file: Path, rgb: Path, out: Path) -> list[dict]:
    rows = title_questions(read_items(items_file), 200, seed=0) + rgb_questions(rgb)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return rows


def _dir_mib(folder: Path) -> dict[str, float]:
    sizes: dict[str, float] = {}
    for p in folder.rglob("*"):
        if p.is_file():
            top = p.relative_to(folder).parts[0]
            sizes[top] = sizes.get(top, 0.0) + p.stat().st_size / 2**20
    return {k: round(v, 1) for k, v in sorted(sizes.items())}


def _build_totals(sessions: Path) -> dict:
    rows = [json.loads(ln) for ln in sessions.read_text(encoding="utf-8").splitlines() if ln]
    return {
        "sessions": len(rows), "seconds": round(sum(r["seconds"] for r in rows), 1),
        "embed_seconds": round(sum(r["embed_seconds"] for r in rows), 1),
        "embedded": sum(r["embedded"] for r in rows), "backend": rows[-1]["backend"],
        "peak_rss_mib": max(r.get("peak_rss_mib", 0.0) for r in rows), "done": rows[-1]["done"],
    }


def run_size(n: int, shared: Path, steps: set[str], res: dict, per_query_max: int, scratch_max: int,
             stand_in: bool = False, peer_limit: int = 0) -> None:
    base = BENCH / (f"xwlb-{n}-standin" if stand_in else f"xwlb-{n}")
    corpus, root, log = base / "corpus", base / "index", base / "bench.log"
    items_file = corpus / f"xwlb-{n}.jsonl"
    res["stand_in"] = stand_in
    key = f"{n}-standin" if stand_in else str(n)
    res["items"] = write_slice(shared / "data/xwlb_articles.jsonl.gz", n, items_file)
    questions = _questions(items_file, shared / "data/rgb_zh_queries.jsonl", base / "questions.jsonl")
    qfile = base / "questions.jsonl"
    by_q = {q["q"]: q for q in questions}
    res["questions"] = {"titles": sum(q["kind"] != "rgb" for q in questions),
                        "rgb": sum(q["kind"] == "rgb" for q in questions)}
    res["load_before"] = os.getloadavg()[0]
    sessions = base / "build-sessions.jsonl"
    if "build" in steps:
        if not (root / "current").exists() and not (root / "checkpoint").exists():
            sessions.unlink(missing_ok=True)  # left from an index that was deleted
        run = run_child("benchmarks.scale_worker", ["build", "--corpus", str(corpus), "--root", str(root),
                                                    "--sessions", str(sessions)] + ["--stand-in"] * stand_in, log)
        built = run.event("built")
        res["build"] = {**_build_totals(sessions), "chunks": built["chunks"], "articles": built["articles"]}
        res["index_mib"] = _dir_mib((root / "current").resolve())
        _save(key, res)
    if "reindex" in steps:
        run = run_child("benchmarks.scale_worker", ["reindex", "--corpus", str(corpus), "--root", str(root),
                                                    "--tmp", str(base / "reindex-tmp")], log)
        res["reindex"] = {"seconds": run.event("reindexed")["seconds"], "peak_rss_mib": round(run.peak_rss_mib, 1)}
        _save(key, res)
    if "serve" in steps:
        run = run_child("benchmarks.scale_worker", ["serve", "--root", str(root), "--questions", str(qfile)], log)
        ready, served = run.event("ready"), run.event("served")
        res["serve"] = {
            "ready_s": ready["at"], "load_s": ready["load_s"], "warm_up_s": ready["warm_up_s"],
            "rss_ready_mib": ready["rss_ready_mib"], "peak_rss_mib": round(run.peak_rss_mib, 1),
            "search": served["search"], "ask": served["ask"], "found": served["found"],
            "hit5": hit_rate(questions, served["top5"]),
        }
        _save(key, res)
    if "peer" in steps:
        modes = ["cached"] + (["per-query"] if n <= per_query_max else []) + (["scratch"] if n <= scratch_max else [])
        peer = res.setdefault("peer", {})
        for mode in modes:
            run = run_child("benchmarks.peer", ["--root", str(root), "--questions", str(qfile), "--mode", mode,
                                                "--limit", str(peer_limit)], log)
            built, served = run.event("built"), run.event("served")
            asked = [by_q[q] for q in served["questions"]]
            peer[mode] = {"build_s": built["seconds"], "faiss_s": built["faiss_s"], "bm25_s": built["bm25_s"],
                          "backend": built["backend"], "search": served["search"],
                          "peak_rss_mib": round(run.peak_rss_mib, 1), "ready_s": built["at"],
                          "hit5": hit_rate(asked, served["top5"])}
            _save(key, res)
    if "update" in steps:
        page = sorted((shared / "seeds").glob("*.txt"))[0]
        run = run_child("benchmarks.scale_worker", ["update", "--root", str(root), "--corpus", str(corpus),
                                                    "--page", str(page), "--questions", str(qfile)], log)
        res["update"] = {k: v for k, v in run.event("updated").items() if k not in ("event", "at")}
        res["update"]["page"] = page.name
        _save(key, res)
    res["load_after"] = os.getloadavg()[0]
    _save(key, res)


def _load_results() -> dict:
    return json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.is_file() else {}


def _save(key: str, res: dict) -> None:
    all_res = _load_results()
    all_res[key] = {**res, "updated_at": time.strftime("%F %T")}
    all_res["machine"] = machine()
    tmp = RESULTS.with_suffix(".tmp")
    tmp.write_text(json.dumps(all_res, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(RESULTS)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=Path("../shared"))
    ap.add_argument("--sizes", default="1000,10000,74492")
    ap.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    ap.add_argument("--steps", default=",".join(STEPS), help=f"subset of {','.join(STEPS)}")
    ap.add_argument("--per-query-max", type=int, default=10_000,
                    help="largest size at which to time the peer as Chatchat runs it (BM25 rebuilt per query)")
    ap.add_argument("--scratch-max", type=int, default=1_000,
                    help="largest size at which to time the peer's own from-scratch build (re-embeds all)")
    ap.add_argument("--peer-limit", type=int, default=0,
                    help="time the peer on only N questions (evenly spread); 0 = all")
    ap.add_argument("--stand-in", action="store_true",
                    help="index with model-free stand-in vectors (see scale_worker._StandIn), to measure "
                         "serving at a size whose real build has not finished; reported as its own rows")
    a = ap.parse_args()
    steps = set(a.steps.split(","))
    if unknown := steps - set(STEPS):
        ap.error(f"unknown steps {sorted(unknown)}")
    BENCH.mkdir(parents=True, exist_ok=True)
    for n in (int(s) for s in a.sizes.split(",")):
        started = time.perf_counter()
        key = f"{n}-standin" if a.stand_in else str(n)
        res = _load_results().get(key, {})
        run_size(n, a.shared, steps, res, a.per_query_max, a.scratch_max, a.stand_in, a.peer_limit)
        print(f"size {n}: done in {time.perf_counter() - started:.0f}s", flush=True)
        write_section(a.out, render(_load_results()))


if __name__ == "__main__":
    main()
