"""FAISS index types at full-archive size: recall against exact search, latency, memory, build.

    python -m benchmarks.vecindex [--root data/bench/xwlb-10000/index] [--n 132100] [--out docs/benchmarks.md]

The whole archive makes 132,100 chunks. Until that index is built, real chunk vectors from
``--root`` are tiled up to ``--n``: each copy is the original plus Gaussian noise
(cosine ≈ 0.9 to it), re-normalised, so the set keeps the real vectors' geometry without
being exact duplicates. Queries are the scale benchmark's questions embedded by the default
Embedder. Latency is one query at a time with k = 50 (``retrieval.search.CANDIDATES``).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np

from benchmarks.scale_report import write_section
from benchmarks.workload import latency_summary
from retrieval.embed.encoder import Embedder
from retrieval.index.article_index import load_index
from retrieval.index.vectors import FLAT_LIMIT
from retrieval.search import CANDIDATES


def corpus_vectors(root: Path, n: int, seed: int = 0) -> tuple[np.ndarray, int]:
    """(n, dim) unit vectors: the index's own, then noisy copies; and how many are real."""
    real = load_index(root).stored_vectors()
    rng = np.random.default_rng(seed)
    parts = [real]
    while sum(len(p) for p in parts) < n:
        noise = rng.standard_normal(real.shape).astype(np.float32) / np.sqrt(real.shape[1])
        copy = real + 0.5 * noise
        parts.append(copy / np.linalg.norm(copy, axis=1, keepdims=True))
    return np.ascontiguousarray(np.concatenate(parts)[:n], dtype=np.float32), len(real)


def _hnsw(m: int, ef_search: int) -> Callable[[int], faiss.Index]:
    def make(dim: int) -> faiss.Index:
        index = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = ef_search
        return index
    return make


def _ivf(nlist: int, nprobe: int) -> Callable[[int], faiss.Index]:
    def make(dim: int) -> faiss.Index:
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.nprobe = nprobe
        return index
    return make


def _sq8(dim: int) -> faiss.Index:
    return faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)


KINDS: dict[str, Callable[[int], faiss.Index]] = {
    "flat": faiss.IndexFlatIP, "flat sq8": _sq8,
    "hnsw32 ef64": _hnsw(32, 64), "hnsw32 ef96": _hnsw(32, 96), "hnsw32 ef128": _hnsw(32, 128),
    "hnsw32 ef256": _hnsw(32, 256), "hnsw32 ef512 (make_vector_index)": _hnsw(32, 512),
    "ivf1024 nprobe16": _ivf(1024, 16), "ivf1024 nprobe32": _ivf(1024, 32),
}


def measure(vectors: np.ndarray, queries: np.ndarray) -> list[dict]:
    rows: list[dict] = []
    exact: np.ndarray | None = None
    built_hnsw: faiss.Index | None = None
    for name, make in KINDS.items():
        started = time.perf_counter()
        if name.startswith("hnsw") and built_hnsw is not None:  # one graph, several efSearch
            index = built_hnsw
            index.hnsw.efSearch = make(vectors.shape[1]).hnsw.efSearch
            build_s = rows[-1]["build_s"]
        else:
            index = make(vectors.shape[1])
            if not index.is_trained:
                index.train(vectors)
            index.add(vectors)
            build_s = time.perf_counter() - started
            built_hnsw = index if name.startswith("hnsw") else built_hnsw
        ms, found = [], []
        for q in queries:
            t = time.perf_counter()
            _, ids = index.search(q[None, :], CANDIDATES)
            ms.append((time.perf_counter() - t) * 1000)
            found.append(ids[0])
        got = np.stack(found)
        if exact is None:
            exact = got
        rec10 = np.mean([len(set(g[:10]) & set(e[:10])) / 10 for g, e in zip(got, exact, strict=True)])
        rec50 = np.mean([len(set(g) & set(e)) / CANDIDATES for g, e in zip(got, exact, strict=True)])
        rows.append({"kind": name, "build_s": round(build_s, 1), "mib": round(faiss.serialize_index(index).nbytes / 2**20, 1),
                     "recall10": round(float(rec10), 4), "recall50": round(float(rec50), 4),
                     "latency": latency_summary(ms)})
        print(rows[-1], flush=True)
    return rows


def flat_by_size(vectors: np.ndarray, queries: np.ndarray, sizes: tuple[int, ...]) -> dict[int, dict]:
    """Exact-search latency at smaller vector counts (interleaved per query, so a change in
    machine load hits every size alike): where flat stops being cheap."""
    indexes = {}
    for n in sizes:
        indexes[n] = faiss.IndexFlatIP(vectors.shape[1])
        indexes[n].add(vectors[:n])
    ms: dict[int, list[float]] = {n: [] for n in sizes}
    for q in queries:
        for n, index in indexes.items():
            t = time.perf_counter()
            index.search(q[None, :], CANDIDATES)
            ms[n].append((time.perf_counter() - t) * 1000)
    return {n: latency_summary(v) for n, v in ms.items()}


def render(rows: list[dict], n: int, real: int, nq: int, load: tuple[float, float], flat: dict[int, dict]) -> str:
    out = [f"{n:,} vectors ({real:,} real chunk vectors, the rest noisy copies), {nq} real queries, k = {CANDIDATES}, "
           f"one query at a time; load average {load[0]:.1f} → {load[1]:.1f} on {os.cpu_count()} cores. "
           f"`make_vector_index` uses flat up to FLAT_LIMIT = {FLAT_LIMIT:,} vectors.\n",
           "| index | build | size | recall@10 vs flat | recall@50 | latency p50 / p95 |", "|---|---|---|---|---|---|"]
    for r in rows:
        lat = r["latency"]
        out.append(f"| {r['kind']} | {r['build_s']:.1f} s | {r['mib']:.0f} MiB | {r['recall10']:.4f} | "
                   f"{r['recall50']:.4f} | {lat['p50']:.2f} / {lat['p95']:.2f} ms |")
    out += ["", "Exact (flat) search by vector count, same queries: " + ", ".join(
        f"{k:,}: {v['p50']:.1f} / {v['p95']:.1f} ms" for k, v in flat.items()) + " (p50 / p95)."]
    return "\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", type=Path, default=Path("data/bench/xwlb-10000/index"))
    ap.add_argument("--questions", type=Path, default=Path("data/bench/xwlb-10000/questions.jsonl"))
    ap.add_argument("--n", type=int, default=132_100)
    ap.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    a = ap.parse_args()
    load0 = os.getloadavg()[0]
    vectors, real = corpus_vectors(a.root, a.n)
    qs = [json.loads(line)["q"] for line in a.questions.read_text(encoding="utf-8").splitlines() if line]
    queries = Embedder(cache_dir=Path("data/models")).encode_queries(qs)
    rows = measure(vectors, queries)
    flat = flat_by_size(vectors, queries, (16_566, 50_000, 100_000, len(vectors)))
    body = render(rows, len(vectors), real, len(queries), (load0, os.getloadavg()[0]), flat)
    print(body)
    write_section(a.out, body, "vecindex")


if __name__ == "__main__":
    main()
