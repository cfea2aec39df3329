"""Write the first N items of the shared CCTV 新闻联播 archive as a small JSONL corpus.

    python -m benchmarks.xwlb_subset [--shared ../shared] [--n 800] [--out data/xwlb800/xwlb800.jsonl]

The items are copied unchanged (one JSON object per line: id, date, title, text), in file
order, so the same N always gives the same corpus. The output lives under data/ (git-ignored);
the shared data is never copied into the repository. eval/xwlb_questions.jsonl is written
against the first 800 items.
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=Path("../shared"))
    ap.add_argument("--n", type=int, default=800, help="how many items, from the start of the file")
    ap.add_argument("--out", type=Path, default=Path("data/xwlb800/xwlb800.jsonl"))
    args = ap.parse_args()

    src = args.shared / "data/xwlb_articles.jsonl.gz"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    written = 0
    with gzip.open(src, "rt", encoding="utf-8") as fin, tmp.open("w", encoding="utf-8") as fout:
        for line in fin:
            if written >= args.n:
                break
            line = line.strip()
            if not line:
                continue
            json.loads(line)  # fail loudly on a corrupt line rather than write it
            fout.write(line + "\n")
            written += 1
    tmp.replace(args.out)
    print(f"wrote {written} items from {src} to {args.out}")


if __name__ == "__main__":
    main()
