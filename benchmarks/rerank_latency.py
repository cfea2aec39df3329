"""Ask latency with sentence vectors stored in the index against embedding candidate sentences
per question, side by side in one run (interleaved, so machine noise hits both alike).

    python -m benchmarks.rerank_latency [--sets dev,seeds_extra,seeds_v2] [--rounds 3]

Uses ``benchmarks.answers``' cached indexes (data/bench/answers/). "stored" is the shipped path;
"per question" is what an index built without sentence vectors does (``SENTENCE_VECTORS=false``
or an index from before them). Answers must be identical both ways; the script checks that.
The query-vector cache is cleared before every ask, so each ask embeds its question.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from benchmarks.answer_services import Services, header
from benchmarks.answer_sets import REPO, build_set
from benchmarks.latency import percentile
from benchmarks.machine import cpu_info, header_line


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="dev,seeds_extra,seeds_v2")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--work", type=Path, default=REPO / "data/bench/answers")
    parser.add_argument("--model-cache", type=Path, default=REPO / "data/models")
    args = parser.parse_args(argv)
    services = Services(args.work, args.model_cache, rebuild=False)
    rows = []
    for name in args.sets.split(","):
        bench = build_set(name, args.shared)
        times: dict[str, list[float]] = {"stored": [], "per question": []}
        for job in bench.jobs:
            service = services.over(job.corpus)
            index = service.index
            stored = index.sentences
            if stored is None:
                raise SystemExit(f"{job.corpus.key}: the index has no sentence vectors; run benchmarks.answers first")
            for _ in range(args.rounds):
                for q in job.questions:
                    answers = {}
                    for mode in ("stored", "per question"):
                        index.sentences = stored if mode == "stored" else None
                        service.loaded.searcher.forget_queries()
                        started = time.perf_counter()
                        answers[mode] = service.ask(q.scored.q).text
                        times[mode].append((time.perf_counter() - started) * 1000)
                    if answers["stored"] != answers["per question"]:
                        print(f"  differs: {q.scored.id}")
            index.sentences = stored
        stored_ms, live_ms = times["stored"], times["per question"]
        rows.append((name, len(stored_ms), percentile(stored_ms, 50), percentile(stored_ms, 95),
                     percentile(live_ms, 50), percentile(live_ms, 95)))
    print(header_line(header(services)) if services.first else cpu_info())
    print("| set | asks | stored p50 / p95 ms | per question p50 / p95 ms | p95 ratio |")
    print("|---|---|---|---|---|")
    for name, n, s50, s95, l50, l95 in rows:
        print(f"| {name} | {n} | {s50:.0f} / {s95:.0f} | {l50:.0f} / {l95:.0f} | {l95 / s95:.1f}× |")


if __name__ == "__main__":
    main()
