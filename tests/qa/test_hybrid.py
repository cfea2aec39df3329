"""ANSWER_READER=hybrid: the rules decide whether the archive answers and with which sentence;
the reader (scripted here) picks the short answer 答：… in that sentence when it is confident.
Slow: the rules need the real model's vectors to answer at all (the seed index, built once)."""

from __future__ import annotations

import pytest

from retrieval.models import Answer
from retrieval.qa.rules import SPAN_MARGIN
from retrieval.service import NewsQA
from tests.qa.test_reading import ScriptedReader

pytestmark = pytest.mark.slow

SIGNED = "星月集团和谁签约了"


@pytest.fixture
def hybrid(seed_service: NewsQA):
    def make(reader: ScriptedReader, margin: float = SPAN_MARGIN) -> NewsQA:
        return NewsQA(seed_service.index_root, lambda: seed_service.encoder, model_name=seed_service.model_name,
                      reader_factory=lambda: reader, reader_margin=margin, reader_role="spans")

    return make


@pytest.fixture
def rules_answer(seed_service: NewsQA) -> Answer:
    return seed_service.ask(SIGNED)


def test_a_confident_span_in_the_rules_sentence_is_the_short_answer(hybrid, rules_answer: Answer) -> None:
    reader = ScriptedReader(["小米、三行资本"], score=SPAN_MARGIN + 4)
    answer = hybrid(reader).ask(SIGNED)
    assert rules_answer.found and answer.found
    sentence = rules_answer.text.split("\n", 1)[-1]
    # the same decision and sentence as the rules; only the short answer is the reader's
    assert answer.text == f"答：小米、三行资本\n{sentence}"
    assert answer.extra["short_answer"] == "小米、三行资本"
    # the rules' own typed span (or none) stays for follow-ups (retrieval.dialogue.referents)
    assert answer.extra["typed_answer"] == rules_answer.extra.get("short_answer", "")
    assert answer.citations == rules_answer.citations
    assert reader.calls == [(SIGNED, 1)]  # one passage read: the one the sentence is from


def test_an_unsure_reader_leaves_the_rules_answer(hybrid, rules_answer: Answer) -> None:
    answer = hybrid(ScriptedReader(["小米、三行资本"], score=SPAN_MARGIN - 1)).ask(SIGNED)
    assert answer.text == rules_answer.text
    assert answer.extra["reader_span"] == {"text": "小米、三行资本", "score": SPAN_MARGIN - 1}


def test_a_span_outside_the_shown_sentence_is_not_used(hybrid, rules_answer: Answer) -> None:
    # the passage's headline words: the sentence the rules checked does not hold them
    outside = next(w for w in ("永康", "我市", "全市") if w not in rules_answer.text.split("\n", 1)[-1])
    answer = hybrid(ScriptedReader([outside], score=SPAN_MARGIN + 4)).ask(SIGNED)
    assert answer.text == rules_answer.text


def test_declines_lists_and_yes_no_stay_the_rules(hybrid, seed_service: NewsQA) -> None:
    reader = ScriptedReader(["古山镇", "是"], score=SPAN_MARGIN + 4)
    service = hybrid(reader)
    for question in ("火星上有几座城市", "朱志杰去过哪些镇", "永康入围全国农村电商十大典型县市了吗"):
        assert service.ask(question).text == seed_service.ask(question).text
