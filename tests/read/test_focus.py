"""Focused reading: which part of a long passage the reader reads, and spans mapped back."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from retrieval.read.focus import Excerpt, focus, question_bigrams, sentences

HEADLINE = "永康经济稳中向好\n"
BODY = ("今年以来，全市上下坚持稳中求进。" "上半年全市实现地区生产总值276亿元，同比增长8.5%。"
        "规上工业增加值增长9.1%。" "固定资产投资增长12.3%。" "社会消费品零售总额增长7.7%。" * 3)
PASSAGE = HEADLINE + BODY


def test_a_passage_within_budget_is_read_whole() -> None:
    excerpt = focus("上半年GDP多少", PASSAGE, len(PASSAGE))
    assert excerpt.text == PASSAGE and excerpt.pieces == ((0, len(PASSAGE)),)


def test_the_headline_and_the_best_matching_sentence_are_kept_within_budget() -> None:
    excerpt = focus("上半年地区生产总值是多少", PASSAGE, 60)
    assert excerpt.text.startswith(HEADLINE)
    assert "276亿元" in excerpt.text
    assert len(excerpt.text) <= 60


def test_neighbours_fill_the_budget_following_sentence_first() -> None:
    excerpt = focus("上半年地区生产总值是多少", PASSAGE, 80)
    assert "规上工业增加值" in excerpt.text  # the next sentence before the previous one


def test_interrogatives_carry_no_weight() -> None:
    assert not question_bigrams("多少？") and "上半" in question_bigrams("上半年多少")


def test_no_matching_sentence_reads_the_start() -> None:
    excerpt = focus("谁是冠军", PASSAGE, 50)
    assert excerpt.text == PASSAGE[:50]


def test_one_sentence_longer_than_the_budget_is_cut_around_its_centre() -> None:
    long_sentence = "甲" * 100 + "星月集团与古山镇签约" + "乙" * 100 + "。"
    excerpt = focus("星月集团和谁签约", "标题\n" + long_sentence, 60)
    assert len(excerpt.text) <= 60 and excerpt.text.startswith("标题\n")


def test_sentences_cover_the_passage_without_gaps() -> None:
    parts = sentences(PASSAGE)
    assert parts[0][0] == 0 and parts[-1][1] == len(PASSAGE)
    assert all(a[1] == b[0] for a, b in pairwise(parts))


@given(st.text(alphabet="甲乙丙丁。，\n上半年GDP", min_size=1, max_size=300), st.integers(10, 200))
def test_every_excerpt_character_maps_back_to_the_same_passage_character(passage: str, budget: int) -> None:
    excerpt = focus("上半年甲乙GDP", passage, budget)
    assert len(excerpt.text) <= max(budget, 0) or excerpt.text == passage
    for i, ch in enumerate(excerpt.text):
        a, b = excerpt.to_passage(i, i + 1)
        assert b == a + 1 and passage[a] == ch


def test_a_span_crossing_a_cut_keeps_its_first_piece() -> None:
    excerpt = Excerpt("ab" + "xyz", ((0, 2), (10, 13)))
    assert excerpt.to_passage(1, 4) == (1, 2)
    assert excerpt.to_passage(2, 4) == (10, 12)
