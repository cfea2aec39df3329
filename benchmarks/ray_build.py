"""A single-process index build against a local Ray build of the same xwlb slice, one after the other.

    python -m benchmarks.ray_build [--shared ../shared] [--n 1000] [--workers 2] [--model-cache data/models]

The first N items of ``xwlb_articles.jsonl.gz`` become ``data/bench/xwlb-N/corpus/xwlb-N.jsonl``
(never in the repository). Each build runs in a fresh process into a fresh index root under
``data/bench/ray-build/`` (removed afterwards), with sentence vectors on, the default model from
``--model-cache`` (never downloaded):

- single: ``update_index`` with the ``Embedder`` ``newsqa index`` makes (default backend, one
  ONNX thread per core);
- ray: ``build_with_ray`` on a local Ray started in that process (``num_cpus`` = cores), ``--workers``
  actors of 1 CPU, each its own ``Embedder`` with 1 thread.

Times are wall clock from process spawn to exit (imports, model load, Ray start-up included) and
the build's own ``BuildReport.seconds``; the overhead is ray / single - 1. Both indexes are checked
to hold the same chunks (cosine of chunk vectors reported).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.workload import write_slice

BENCH = Path("data/bench")


def _phase(kind: str, corpus: Path, root: Path, cache: Path, workers: int) -> None:
    """Child process: one build, then a JSON line with its report."""
    from retrieval.embed.default_model import DEFAULT_MODEL

    started = time.perf_counter()
    if kind == "single":
        from retrieval.embed.encoder import Embedder
        from retrieval.index.build import update_index

        report = update_index(corpus, root, Embedder(DEFAULT_MODEL, cache_dir=cache), sentence_vectors=True)
    else:
        from retrieval.index.ray_build import EmbedderSpec, build_with_ray

        spec = EmbedderSpec(DEFAULT_MODEL, cache_dir=str(cache.resolve()), threads=1)
        report = build_with_ray(corpus, root, spec, name=DEFAULT_MODEL, workers=workers, num_cpus=os.cpu_count(),
                                sentence_vectors=True)
    print(json.dumps({"kind": kind, "build_seconds": report.seconds, "inside_seconds": time.perf_counter() - started,
                      "articles": report.articles, "chunks": report.chunks, "embedded": report.embedded,
                      "sentences_embedded": report.sentences_embedded}), flush=True)


def _run(kind: str, corpus: Path, root: Path, cache: Path, workers: int, log: Path) -> dict:
    started = time.perf_counter()
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as err:
        proc = subprocess.run([sys.executable, "-m", "benchmarks.ray_build", "--phase", kind, "--corpus", str(corpus),
                               "--root", str(root), "--model-cache", str(cache), "--workers", str(workers)],
                              stdout=subprocess.PIPE, stderr=err, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} build failed ({proc.returncode}); see {log}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = time.perf_counter() - started
    return result


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=Path("../shared"))
    ap.add_argument("--n", type=int, default=1000, help="xwlb items, from the start of the file")
    ap.add_argument("--workers", type=int, default=2, help="Ray embedding actors (1 CPU each)")
    ap.add_argument("--model-cache", type=Path, default=Path(os.environ.get("MODEL_CACHE_DIR", "data/models")))
    ap.add_argument("--keep", action="store_true", help="keep both index roots")
    ap.add_argument("--phase", choices=("single", "ray"), help=argparse.SUPPRESS)
    ap.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        _phase(args.phase, args.corpus, args.root, args.model_cache, args.workers)
        return

    corpus = BENCH / f"xwlb-{args.n}" / "corpus" / f"xwlb-{args.n}.jsonl"
    write_slice(args.shared / "data/xwlb_articles.jsonl.gz", args.n, corpus)
    work = BENCH / "ray-build" / time.strftime("%Y%m%d-%H%M%S")
    results = {}
    for kind in ("single", "ray"):
        results[kind] = _run(kind, corpus, work / kind, args.model_cache, args.workers, work / f"{kind}.log")
        r = results[kind]
        print(f"{kind:6s}: {r['wall_seconds']:.1f} s wall ({r['build_seconds']:.1f} s in update_index), "
              f"{r['chunks']} chunks, {r['embedded']} + {r['sentences_embedded']} texts embedded", flush=True)

    from retrieval.index.article_index import load_index

    a, b = load_index(work / "single"), load_index(work / "ray")
    same = [c.index_text for c in a.chunks] == [c.index_text for c in b.chunks]
    va, vb = a.stored_vectors(), b.stored_vectors()
    cos = float(np.min(np.sum(va * vb, axis=1) / (np.linalg.norm(va, axis=1) * np.linalg.norm(vb, axis=1))))
    single, ray = results["single"], results["ray"]
    summary = {
        "n": args.n, "cpu": _cpu(), "cores": os.cpu_count(), "workers": args.workers,
        "single_wall_s": round(single["wall_seconds"], 1), "ray_wall_s": round(ray["wall_seconds"], 1),
        "single_build_s": round(single["build_seconds"], 1), "ray_build_s": round(ray["build_seconds"], 1),
        "overhead_wall": round(ray["wall_seconds"] / single["wall_seconds"] - 1, 3),
        "overhead_build": round(ray["build_seconds"] / single["build_seconds"] - 1, 3),
        "same_chunks": same, "min_chunk_cosine": round(cos, 6),
    }
    print(json.dumps(summary, ensure_ascii=False))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
