"""News-domain reading examples from the *tune* halves of the project's own question sets:
each tune question against the passages hybrid search returns for it over its own corpus.

- A passage holding one of the question's accepted spellings is a positive (the first spelling
  found, at its first occurrence).
- The other retrieved passages are hard negatives: same topic, no answer. So is every passage
  retrieved for an answer-absent question.

Only questions whose answer is one group of spellings are used (a multi-part answer is no single
span). Held-out halves, the shared dev set and RGB are never read here.

    python -m training.reader.news --out ~/.cache/newsqa/runs/news-tune.jsonl
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

from training.reader.data import Example, write_jsonl_examples

PASSAGES = 8  # read per question at training time: the reader sees 5 at answer time, plus margin


def tune_examples(shared: Path, work: Path, model_cache: Path, passages: int = PASSAGES) -> Iterator[Example]:
    from benchmarks.answer_services import Services
    from benchmarks.answer_sets import tune_jobs
    from retrieval.qa.reading import passage_of

    services = Services(work, model_cache, rebuild=False)
    for name, job in tune_jobs(shared):
        service = services.over(job.corpus)
        for q in job.questions:
            groups = q.scored.answers
            if len(groups) > 1:
                continue
            spellings = sorted(groups[0], key=len, reverse=True) if groups else []
            for rank, hit in enumerate(service.search(q.scored.q, k=passages)):
                text = passage_of(hit)
                found = next(((s, text.find(s)) for s in spellings if s and s in text), None)
                yield Example(f"{name}:{q.scored.id}:{rank}", q.scored.q, text,
                              (found,) if found else (), f"{name}:{q.scored.id}", source=name)


def main() -> None:
    repo = Path(__file__).resolve().parents[2]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--shared", type=Path, default=repo.parent / "shared")
    ap.add_argument("--work", type=Path, default=repo / "data/bench/answers")
    ap.add_argument("--model-cache", type=Path, default=repo / "data/models")
    args = ap.parse_args()
    examples = list(tune_examples(args.shared, args.work, args.model_cache))
    write_jsonl_examples(args.out, examples)
    positives = sum(ex.answerable for ex in examples)
    print(f"{len(examples)} examples ({positives} with an answer) from "
          f"{len({ex.article for ex in examples})} tune questions → {args.out}")


if __name__ == "__main__":
    main()
