"""`ask` and `search` latency on an index, after warm-up.

    python -m benchmarks.latency [--index-dir data/index] [--questions FILE ...] [--rounds 3]

Prints p50 / p95 / max in milliseconds. Run `newsqa index` first. Default questions: the
shared dev set and the project's own seed questions.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from bot.runtime import make_service
from bot.settings import Settings


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--index-dir", type=Path, default=None)
    ap.add_argument("--questions", type=Path, nargs="*",
                    default=[Path("../shared/eval/dev.jsonl"), Path("eval/seeds_extra.jsonl")])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    settings = Settings(index_dir=args.index_dir) if args.index_dir else Settings()
    service = make_service(settings)
    started = time.perf_counter()
    service.load()
    service.warm_up()
    print(f"load + warm-up: {time.perf_counter() - started:.1f}s")
    questions = [json.loads(line)["q"] for path in args.questions if path.exists()
                 for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for q in questions:  # warm every code path once
        service.ask(q)
    timings: dict[str, list[float]] = {"search": [], "ask": []}
    for _ in range(args.rounds):
        for q in questions:
            # Measure the query embedding too: forget remembered query vectors.
            service.loaded.searcher.forget_queries()
            t = time.perf_counter()
            service.search(q, 5)
            timings["search"].append((time.perf_counter() - t) * 1000)
            service.loaded.searcher.forget_queries()
            t = time.perf_counter()
            service.ask(q)
            timings["ask"].append((time.perf_counter() - t) * 1000)
    print(f"{len(questions)} questions × {args.rounds} rounds")
    print("| op | p50 ms | p95 ms | max ms | mean ms |\n|---|---|---|---|---|")
    for op, values in timings.items():
        print(f"| {op} | {percentile(values, 50):.1f} | {percentile(values, 95):.1f} | "
              f"{max(values):.1f} | {statistics.mean(values):.1f} |")


if __name__ == "__main__":
    main()
