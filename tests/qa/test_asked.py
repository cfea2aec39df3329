"""What a question asks about (retrieval.qa.asked, analysis.relation_nouns), with no model."""

from __future__ import annotations

import pytest

from retrieval.lexicon.mining import Lexicon
from retrieval.lexicon.tokenizer import WordTokenizer
from retrieval.qa.analysis import analyze
from retrieval.qa.asked import asked_nouns, measured_noun, nouns_seen
from retrieval.qa.question import focus_noun

TOKENIZER = WordTokenizer(Lexicon(("朱志杰",), ("古山镇", "舟山镇")))


def _asked(question: str) -> tuple[str, ...]:
    tagged = TOKENIZER.tagged(question)
    focus = focus_noun(TOKENIZER.words(question), TOKENIZER.tags)
    return asked_nouns(question, tagged, analyze(question, tagged), focus)


@pytest.mark.parametrize(("question", "nouns"), [
    ("莫斯科迫降起火的那架客机，机长叫什么名字？", ("机长",)),  # only the cue's clause counts
    ("今年上半年永康的财政总支出是多少亿元", ("总支出",)),
    ("金台铁路铺轨的照片是在哪个村拍的", ("铺轨",)),  # 照片 is generic, 村 the kind asked for
    # 作风建设专项行动 is in another clause
    ("作风建设专项行动中，全市有多少支三服务队深入一线开展服务？", ("全市", "服务队")),
    ("非洲第一家鲁班工坊建在哪个国家？", ("工坊",)),  # verbs are paraphrased (建在 ↔ 建设): never asked nouns
    ("十八大哪天开幕", ()),
    # a kind written beside its names (公司 in 中国路桥工程有限责任公司, 校长 in 校长巴科) is asked
    # about; a kind never written so (国家 beside 吉布提) is not
    ("格罗奇马大桥是哪家中国公司承建的？", ("公司",)),
    ("哈佛大学校长叫什么名字", ("校长",)),
])
def test_asked_nouns(question: str, nouns: tuple[str, ...]) -> None:
    assert _asked(question) == nouns


def test_nouns_seen_character_by_character() -> None:
    assert nouns_seen(("工业产值",), "1-7月，古山镇实现规上工业总产值35亿元")  # written apart
    assert not nouns_seen(("总支出",), "1-6月，我市实现GDP276亿元，财政总收入67.4亿元")
    assert not nouns_seen(("机长",), "当天在莫斯科谢列梅捷沃机场一架客机发生迫降和起火事故")
    assert nouns_seen((), "任何句子")  # nothing asked beside the cue: nothing to hold


@pytest.mark.parametrize(("question", "measured"), [
    ("金台铁路的总投资是多少", "总投资"),
    ("人民币资产占全球外汇储备的比例是百分之几", ""),  # 比例 is generic: written 占比, …的1.89%
    ("金台铁路哪天开工", ""),  # not an amount
])
def test_measured_noun(question: str, measured: str) -> None:
    tagged = TOKENIZER.tagged(question)
    focus = focus_noun(TOKENIZER.words(question), TOKENIZER.tags)
    assert measured_noun(analyze(question, tagged), focus) == measured
