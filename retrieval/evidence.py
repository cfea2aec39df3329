"""Does the archive support an answer? A calibrated rule over a few evidence features.

The thresholds were tuned on the project's own question set (tests/questions/*.jsonl,
answerable and unanswerable questions over the seed pages and the xwlb corpus) and
checked on held-out questions; see docs/answers.md for the figures.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Evidence:
    """Features of the best candidate answer, each in [0, 1] except ``dense`` (cosine).

    sentence_coverage: idf-weighted share of question words found in the answer sentence.
    article_coverage: the same over the whole source article (headline + body).
    dense: cosine between question and passage embeddings.
    unseen_share: idf-weighted share of question words that occur nowhere in the archive.
    names_seen: every person or place the question names occurs in the retrieved articles.
    numbers_seen: every number in the question occurs in the answer's article (第23届 vs 第22届).
    quantity_seen: a 多少/几个 question's answer sentence states an amount.
    focus_seen: whether the thing asked for (市花 in 永康市的市花是什么) occurs in the archive at
        all, whole or by its last two characters (机制 for 新机制); a generic focus counts as seen.
    """

    sentence_coverage: float
    article_coverage: float
    dense: float
    unseen_share: float
    focus_seen: bool = True
    names_seen: bool = True
    numbers_seen: bool = True
    quantity_seen: bool = True

    def as_dict(self) -> dict[str, float]:
        return {k: round(float(v), 4) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class SupportRule:
    min_article_coverage: float = 0.4
    min_sentence_coverage: float = 0.3
    min_dense: float = 0.8
    max_unseen_share: float = 0.8


DEFAULT_RULE = SupportRule()


def is_supported(e: Evidence, rule: SupportRule = DEFAULT_RULE) -> bool:
    """True when the evidence is strong enough to answer rather than decline."""
    if not (e.focus_seen and e.names_seen and e.numbers_seen and e.quantity_seen) or e.unseen_share > rule.max_unseen_share:
        return False
    return (
        e.article_coverage >= rule.min_article_coverage
        and e.sentence_coverage >= rule.min_sentence_coverage
        and e.dense >= rule.min_dense
    )
