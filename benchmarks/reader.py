"""The reader's backends side by side: CMRC 2018 dev EM/F1 (never trained on) and the time to
read one question's five passages, in one run on one machine.

    python -m benchmarks.reader [--backends torch,onnx,onnx-int8] [--limit N] [--weights W]

Latency: the dev set's and seeds_extra's questions, each against the five passages hybrid search
would give it on the seed index (`newsqa index` first), read in one call, after warm-up.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from benchmarks.latency import percentile
from benchmarks.machine import cpu_info

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    from bot.runtime import make_service
    from bot.settings import Settings
    from retrieval.qa.reading import READ_PASSAGES, passage_of
    from retrieval.read.reader import load_reader
    from training.reader import data
    from training.reader.evaluate import predict, span_scores

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backends", default="torch,onnx,onnx-int8,onnx-int8-block")
    ap.add_argument("--limit", type=int, default=0, help="first N CMRC 2018 dev questions (0: all 3,219)")
    ap.add_argument("--weights", type=Path, default=None)
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--model-cache", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    settings = Settings()
    cache = args.model_cache or settings.resolved_model_cache_dir
    test = data.load_squad(args.shared / "data/mrc" / data.TEST_FILE)
    test = test[: args.limit] if args.limit else test
    service = make_service(settings)
    questions = [json.loads(line)["q"] for path in (args.shared / "eval/dev.jsonl", REPO / "eval/seeds_extra.jsonl")
                 for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    passages = {q: [passage_of(h) for h in service.search(q, READ_PASSAGES)] for q in questions}
    info = cpu_info()
    print(f"CPU {info['cpu']} · {len(test)} CMRC 2018 dev questions · {len(questions)} latency questions")
    print("| backend | EM | F1 | read 5 passages p50 ms | p95 ms |\n|---|---|---|---|---|")
    rows = []
    for backend in args.backends.split(","):
        reader = load_reader(cache, backend, args.weights)
        scores = span_scores(test, predict(reader.logits, reader.maker, test))
        reader.read(questions[0], passages[questions[0]])  # warm-up
        times = []
        for q in questions:
            started = time.perf_counter()
            reader.read(q, passages[q])
            times.append((time.perf_counter() - started) * 1000)
        row = {"backend": backend, **scores, "p50_ms": percentile(times, 50), "p95_ms": percentile(times, 95)}
        rows.append(row)
        print(f"| {backend} | {row['em']:.1f} | {row['f1']:.1f} | {row['p50_ms']:.0f} | {row['p95_ms']:.0f} |", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"cpu": info, "rows": rows}, ensure_ascii=False, indent=2) + "\n",
                             encoding="utf-8")


if __name__ == "__main__":
    main()
