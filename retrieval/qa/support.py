"""Does the archive support an answer? A calibrated rule over a few evidence features.

The thresholds were tuned on the tune halves of the project's own question sets
(``eval/seeds_extra.jsonl`` over the seed pages, ``eval/xwlb_questions.jsonl`` over 800 xwlb
items) and checked on their held-out halves; docs/answers.md has the figures.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Evidence:
    """Features of the best candidate answer, each in [0, 1] except ``dense`` (cosine).

    sentence_coverage: idf-weighted share of question words found in the answer sentence.
    article_coverage: the same over the whole source article (headline + body).
    dense: cosine between question and passage embeddings.
    unseen_share: idf-weighted share of question words absent from the retrieved articles (the
        articles behind the top search hits, not the whole archive).
    names_seen: every person, place or organisation the question names occurs in the answer's
        own article.
    numbers_seen: every identifier the question names occurs in the answer's article (第23届 vs
        第22届); years and other numbers are checked by ``years_seen`` and ``type_seen``.
    type_seen: a question asking for a typed answer (an amount, a date, a person, a place …)
        is answered by a sentence holding a span of that type the question does not name.
    years_seen: the years the question names agree with the answer (``dates.years_agree``).
    days_seen: the dates (3月23日) the question names agree with the answer (``dates.days_agree``).
    months_seen: the months (5月初, 1-7月) the question names agree with the answer
        (``dates.months_agree``); a question naming a date is judged by ``days_seen``.
    asked_seen: for a typed question, the answer sentence (with its headline) holds the nouns the
        question asks about, the ones beside the interrogative (机长 in 机长叫什么名字; 总支出 in
        财政总支出是多少), character by character (``retrieval.qa.asked``).
    focus_seen: whether the thing asked for (市花 in 永康市的市花是什么) occurs in the retrieved
        articles, whole or by its last two characters (机制 for 新机制); a generic focus counts as seen.
    """

    sentence_coverage: float
    article_coverage: float
    dense: float
    unseen_share: float
    focus_seen: bool = True
    names_seen: bool = True
    numbers_seen: bool = True
    type_seen: bool = True
    years_seen: bool = True
    days_seen: bool = True
    months_seen: bool = True
    asked_seen: bool = True

    def as_dict(self) -> dict[str, float]:
        return {k: round(float(v), 4) for k, v in asdict(self).items()}


# Thresholds of the rule (see the module docstring for where they come from).
MIN_ARTICLE_COVERAGE = 0.4
MIN_SENTENCE_COVERAGE = 0.3
MIN_DENSE = 0.8
MAX_UNSEEN_SHARE = 0.8


def is_supported(e: Evidence) -> bool:
    """True when the evidence is strong enough to answer rather than decline."""
    gates = (e.focus_seen, e.names_seen, e.numbers_seen, e.type_seen, e.years_seen, e.days_seen,
             e.months_seen, e.asked_seen)
    if not all(gates) or e.unseen_share > MAX_UNSEEN_SHARE:
        return False
    return (
        e.article_coverage >= MIN_ARTICLE_COVERAGE
        and e.sentence_coverage >= MIN_SENTENCE_COVERAGE
        and e.dense >= MIN_DENSE
    )
