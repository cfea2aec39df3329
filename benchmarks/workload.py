"""The scale benchmark's inputs: corpus slices of the shared archive and the question set.

Questions are made from item titles (a fixed random sample, reworded two ways so they are
not verbatim headlines) plus the 300 RGB zh questions, which are mostly about other news
and so also exercise the "not in the archive" path.
"""

from __future__ import annotations

import gzip
import itertools
import json
import random
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from retrieval.lexicon.tokenizer import STOPWORDS, WordTokenizer

_QUOTES = re.compile(r"[《》“”\"'「」【】\[\]（）()：:，,、！!？?—…·\s]+")


def write_slice(archive: Path, n: int, out: Path) -> int:
    """The first ``n`` items of ``archive`` (.jsonl.gz) as ``out`` (.jsonl), unchanged and
    in file order; kept if already complete. Returns the number of items written."""
    if out.is_file():
        with out.open(encoding="utf-8") as fh:
            have = sum(1 for _ in fh)
        if have == n:
            return n
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with gzip.open(archive, "rt", encoding="utf-8") as fin, tmp.open("w", encoding="utf-8") as fout:
        written = 0
        for line in itertools.islice((ln for ln in fin if ln.strip()), n):
            fout.write(line.rstrip("\n") + "\n")
            written += 1
    tmp.replace(out)
    return written


def read_items(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def title_questions(items: Sequence[dict], n: int = 200, seed: int = 0) -> list[dict]:
    """``n`` titles picked with a fixed seed; even picks become "<title>是怎么回事？" (quotes
    and brackets stripped), odd picks become up to four of the title's content words."""
    rng = random.Random(seed)
    picked = rng.sample(range(len(items)), min(n, len(items)))
    tokenizer = WordTokenizer()
    out: list[dict] = []
    for k, i in enumerate(picked):
        title = _QUOTES.sub(" ", items[i].get("title", "")).strip()
        if not title:
            continue
        if k % 2 == 0:
            q, kind = title.replace(" ", "") + "是怎么回事？", "title"
        else:
            words = [w for w in tokenizer.words(title) if len(w.strip()) >= 2 and w not in STOPWORDS]
            q, kind = " ".join(words[:4]) or title, "keywords"
        out.append({"q": q, "kind": kind, "article_id": str(items[i]["id"])})
    return out


def rgb_questions(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [{"q": json.loads(line)["query"], "kind": "rgb", "article_id": ""} for line in fh if line.strip()]


def latency_summary(ms: Sequence[float]) -> dict[str, float]:
    """p50 / p95 / mean / max of latencies in milliseconds."""
    arr = np.asarray(ms, dtype=np.float64)
    if arr.size == 0:
        return {"n": 0, "p50": 0.0, "p95": 0.0, "mean": 0.0, "max": 0.0}
    return {
        "n": int(arr.size), "p50": round(float(np.percentile(arr, 50)), 2),
        "p95": round(float(np.percentile(arr, 95)), 2), "mean": round(float(arr.mean()), 2),
        "max": round(float(arr.max()), 2),
    }


def hit_rate(questions: Sequence[dict], ranked_article_ids: Sequence[Sequence[str]]) -> float:
    """Share of title-derived questions whose source item is among the returned articles."""
    pairs = [(q, r) for q, r in zip(questions, ranked_article_ids, strict=True) if q["article_id"]]
    return round(sum(q["article_id"] in r for q, r in pairs) / len(pairs), 4) if pairs else 0.0
