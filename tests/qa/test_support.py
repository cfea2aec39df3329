"""The rule that decides answer vs "not found" (retrieval.qa.support), on Evidence values at and
around each threshold and with each yes/no check failing alone. No index, no model."""

from __future__ import annotations

import math
from dataclasses import fields, replace

import pytest

from retrieval.qa.support import (
    MAX_UNSEEN_SHARE,
    MIN_ARTICLE_COVERAGE,
    MIN_DENSE,
    MIN_SENTENCE_COVERAGE,
    Evidence,
    is_supported,
)

# Exactly at every threshold, every check passed: the weakest evidence that is still an answer.
AT_THRESHOLDS = Evidence(sentence_coverage=MIN_SENTENCE_COVERAGE, article_coverage=MIN_ARTICLE_COVERAGE,
                         dense=MIN_DENSE, unseen_share=MAX_UNSEEN_SHARE)
STRONG = Evidence(sentence_coverage=0.9, article_coverage=1.0, dense=0.93, unseen_share=0.0)
GATES = ["focus_seen", "names_seen", "numbers_seen", "type_seen", "years_seen", "days_seen", "months_seen",
         "asked_seen"]


def below(x: float) -> float:
    return math.nextafter(x, -math.inf)


def above(x: float) -> float:
    return math.nextafter(x, math.inf)


def test_thresholds_are_the_documented_ones() -> None:
    """docs/answers.md ("Decline rather than guess") quotes these values."""
    assert (MIN_ARTICLE_COVERAGE, MIN_SENTENCE_COVERAGE, MIN_DENSE, MAX_UNSEEN_SHARE) == (0.4, 0.3, 0.8, 0.8)


def test_every_check_passes_by_default() -> None:
    assert all(getattr(STRONG, gate) is True for gate in GATES)


def test_strong_evidence_is_an_answer() -> None:
    assert is_supported(STRONG)


def test_evidence_exactly_at_every_threshold_is_an_answer() -> None:
    assert is_supported(AT_THRESHOLDS)


@pytest.mark.parametrize("feature", ["sentence_coverage", "article_coverage", "dense"])
def test_just_below_a_minimum_declines(feature: str) -> None:
    at = getattr(AT_THRESHOLDS, feature)
    assert not is_supported(replace(AT_THRESHOLDS, **{feature: below(at)}))
    assert not is_supported(replace(STRONG, **{feature: below(at)})), "strong elsewhere does not make up for it"
    assert is_supported(replace(AT_THRESHOLDS, **{feature: above(at)}))


def test_too_much_of_the_question_unseen_declines() -> None:
    assert not is_supported(replace(AT_THRESHOLDS, unseen_share=above(MAX_UNSEEN_SHARE)))
    assert not is_supported(replace(STRONG, unseen_share=above(MAX_UNSEEN_SHARE)))
    assert not is_supported(replace(STRONG, unseen_share=1.0))
    assert is_supported(replace(AT_THRESHOLDS, unseen_share=below(MAX_UNSEEN_SHARE)))


@pytest.mark.parametrize("gate", GATES)
def test_each_failed_check_alone_declines_even_strong_evidence(gate: str) -> None:
    assert not is_supported(replace(STRONG, **{gate: False}))
    assert not is_supported(replace(AT_THRESHOLDS, **{gate: False}))


def test_a_perfect_passage_cosine_does_not_replace_word_evidence() -> None:
    """The model's cosine alone never answers: paraphrase is judged only with the words present."""
    assert not is_supported(replace(STRONG, dense=1.0, sentence_coverage=0.0))
    assert not is_supported(replace(STRONG, dense=1.0, article_coverage=0.0))


@pytest.mark.parametrize("dense", [-1.0, 0.0, 0.5, below(MIN_DENSE)])
def test_low_or_negative_cosines_decline(dense: float) -> None:
    assert not is_supported(replace(STRONG, dense=dense))


def test_as_dict_has_every_feature_rounded() -> None:
    e = Evidence(sentence_coverage=1 / 3, article_coverage=0.123456, dense=0.87654321, unseen_share=0.0,
                 names_seen=False)
    d = e.as_dict()
    assert list(d) == [f.name for f in fields(Evidence)]
    assert d["sentence_coverage"] == 0.3333 and d["article_coverage"] == 0.1235 and d["dense"] == 0.8765
    assert d["names_seen"] == 0.0 and d["focus_seen"] == 1.0
    assert all(isinstance(v, float) for v in d.values())
