"""Splitting multi-fact questions into one question per conjunct, with no model."""

from __future__ import annotations

import pytest

from retrieval.lexicon.mining import Lexicon
from retrieval.lexicon.tokenizer import WordTokenizer
from retrieval.qa.multi import split_question

TOKENIZER = WordTokenizer(Lexicon((), ("古山镇", "舟山镇")))


def _split(question: str) -> list[str]:
    return split_question(TOKENIZER.tagged(question), frozenset(TOKENIZER.lexicon.words))


@pytest.mark.parametrize(("question", "parts"), [
    ("2021年香港和澳门的GDP增长率", ["2021年香港的GDP增长率", "2021年澳门的GDP增长率"]),
    ("宣誓仪式及首次会议的时间", ["宣誓仪式的时间", "首次会议的时间"]),
    ("活动的开始和结束时间", ["活动的开始时间", "活动的结束时间"]),  # a shared head
    ("古山镇和舟山镇的人口分别是多少", ["古山镇的人口是多少", "舟山镇的人口是多少"]),  # 分别 dropped
])
def test_multi_fact_questions_split_per_conjunct(question: str, parts: list[str]) -> None:
    assert _split(question) == parts


@pytest.mark.parametrize("question", ["朱志杰去过哪些镇", "舟山镇被比作什么", "和哪些公司签了协议"])
def test_single_fact_questions_do_not_split(question: str) -> None:
    assert _split(question) == []
