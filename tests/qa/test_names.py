"""The names a factoid question requires of its answer's article (retrieval.qa.names), and the
asked category nouns that must occur in the retrieved articles (retrieval.qa.answer)."""

from __future__ import annotations

import pytest

from retrieval.lexicon.mining import Lexicon
from retrieval.lexicon.tokenizer import WordTokenizer
from retrieval.qa.analysis import analyze
from retrieval.qa.names import factoid_names

TOKENIZER = WordTokenizer(Lexicon(people=("朱志杰",), places=("古山镇",)))


def _names(question: str) -> set[str]:
    tagged = TOKENIZER.tagged(question)
    return factoid_names(question, analyze(question, tagged), tagged, TOKENIZER.lexicon, TOKENIZER.tags)


@pytest.mark.parametrize(("question", "required", "not_required"), [
    # the noun asked for is what the answer is, not a word its article must hold
    ("玲珑轮胎的欧洲工厂建在哪个国家？", {"欧洲"}, {"国家"}),
    ("博览会6月要在哪个城市举办？", set(), {"城市"}),
    # 国 and 来 are surnames, but the dictionary knows 国家 as a noun and 来自 as a verb
    ("访华的总理都来自哪些国家", set(), {"来自", "国家"}),
    # real names stay: a dictionary name, a corpus name, a guessed person's name
    ("朱志杰在古山镇说了什么", {"朱志杰", "古山镇"}, set()),
    ("李克强在北京会见了谁", {"李克强", "北京"}, set()),
    ("章旭升去了哪里", {"章旭升"}, set()),
])
def test_required_names(question: str, required: set[str], not_required: set[str]) -> None:
    names = _names(question)
    assert required <= names, names
    assert not (not_required & names), names


@pytest.mark.parametrize(("noun", "written_with_answer"), [
    ("大学", True), ("村", True), ("公司", True), ("记者", True),  # 清华大学, 前村村, 记者 林群心
    ("国家", False), ("城市", False), ("机构", False), ("单位", False),  # 宁波, 联合国环境规划署
    ("题目", False), ("人数", False),  # attributes: the span check stands in for them
])
def test_category_nouns_that_answers_are_written_with(noun: str, written_with_answer: bool) -> None:
    """Only a category written beside its answers must occur in the retrieved articles."""
    from retrieval.qa.asked import names_a_category

    assert names_a_category(noun) is written_with_answer
