"""Answers decided by a reader (retrieval.qa.reading), with a scripted reader standing in for
the model: the margin decides found / not found, the answer is 答：span + its sentence with the
span's article cited first, lists are deduplicated and cite every article."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from retrieval.models import Chunk, Citation, Hit
from retrieval.qa.reading import factoid_answer, list_answer, read_hits, sentence_holding
from retrieval.read.reader import ReadSpan
from retrieval.service import NewsQA
from tests.conftest import CORPUS_DIR
from tests.fakes import FAKE_MODEL, HashingEncoder


class ScriptedReader:
    """Finds the first of ``answers`` that occurs in a passage, scored ``score``; else the
    passage's first two characters scored -5 (the model prefers "no answer")."""

    def __init__(self, answers: Sequence[str], score: float = 3.0) -> None:
        self.answers, self.score = answers, score
        self.calls: list[tuple[str, int]] = []

    def read(self, question: str, passages: Sequence[str]) -> list[ReadSpan | None]:
        self.calls.append((question, len(passages)))
        out: list[ReadSpan | None] = []
        for i, p in enumerate(passages):
            found = next((a for a in self.answers if a in p), None)
            if found:
                at = p.index(found)
                out.append(ReadSpan(i, found, at, at + len(found), self.score))
            else:
                out.append(ReadSpan(i, p[:2], 0, 2, -5.0) if p else None)
        return out


def hit(n: int, title: str, text: str) -> Hit:
    return Hit(Chunk(n, f"a{n}", "永康日报", title, "2024-07-0" + str(n), text), 1.0 / (n + 1), n)


def cite(h: Hit) -> Citation:
    return Citation(h.chunk.article_id, h.chunk.title, h.chunk.date, h.chunk.source, h.chunk.text, h.score)


HITS = [hit(1, "上半年经济运行", "今年上半年，全市GDP为276亿元，同比增长8.5%。工业增长较快。"),
        hit(2, "星月集团签约", "星月集团与上海康复医院签约，共建康复中心。"),
        hit(3, "古山镇见闻", "胡公文化园位于古山镇。")]


def test_the_sentence_holding_a_span() -> None:
    text = "标题\n第一句。第二句有276亿元！第三句"
    at = text.index("276")
    assert sentence_holding(text, at, at + 3) == "第二句有276亿元！"
    assert sentence_holding(text, 0, 2) == "标题"
    assert sentence_holding(text, text.index("一句"), text.index("第二") + 1) == "第一句。第二句有276亿元！"


def test_a_confident_span_is_the_answer_with_its_sentence_and_article_first() -> None:
    readings = read_hits(ScriptedReader(["上海康复医院"]), "星月集团和谁签约了", HITS)
    answer = factoid_answer("星月集团和谁签约了", readings, 0.0, HITS, cite)
    assert answer.found and answer.text == "答：上海康复医院\n星月集团与上海康复医院签约，共建康复中心。"
    assert answer.citations[0].article_id == "a2" and len(answer.citations) == 3
    assert answer.extra["short_answer"] == "上海康复医院"


def test_below_the_margin_the_archive_is_silent() -> None:
    readings = read_hits(ScriptedReader(["上海康复医院"], score=1.0), "星月集团和谁签约了", HITS)
    answer = factoid_answer("星月集团和谁签约了", readings, 1.5, HITS, cite)
    assert not answer.found and answer.text == "没有找到相关报道。" and answer.kind == "none"
    assert [c.article_id for c in answer.related] == ["a1", "a2", "a3"]  # shown as related reading


def test_nothing_read_is_not_found() -> None:
    assert not factoid_answer("问", [], 0.0, [], cite).found


def test_list_spans_are_deduplicated_and_cite_every_article() -> None:
    hits = [*HITS, hit(4, "古山镇再访", "朱志杰再次来到古山镇。"), hit(5, "舟山", "朱志杰赴舟山镇调研。")]
    readings = read_hits(ScriptedReader(["古山镇", "舟山镇"]), "朱志杰去过哪些镇", hits)
    answer = list_answer("朱志杰去过哪些镇", readings, 0.0, cite, "据报道，")
    assert answer is not None and [i.label for i in answer.items] == ["古山镇", "舟山镇"]
    assert [c.article_id for c in answer.items[0].citations] == ["a3", "a4"]
    assert answer.text.startswith("据报道，共 2 个：")
    assert list_answer("朱志杰去过哪些镇", readings, 10.0, cite, "据报道，") is None  # none confident


@pytest.fixture(scope="module")
def reading_service(tmp_path_factory: pytest.TempPathFactory) -> tuple[NewsQA, ScriptedReader]:
    reader = ScriptedReader(["276亿元"])
    service = NewsQA(tmp_path_factory.mktemp("reading") / "index", HashingEncoder, model_name=FAKE_MODEL,
                     reader_factory=lambda: reader, reader_margin=0.0)
    service.reindex(CORPUS_DIR)
    return service, reader


def test_the_service_answers_factoids_through_the_reader(reading_service: tuple[NewsQA, ScriptedReader]) -> None:
    service, reader = reading_service
    answer = service.ask("1-6月我市实现GDP多少，财政总收入多少")
    assert answer.found and answer.text.startswith("答：276亿元\n") and "276亿元" in answer.text.split("\n")[1]
    assert reader.calls[-1][1] == 5  # the top five passages, one call


def test_the_person_visit_aggregation_stays(reading_service: tuple[NewsQA, ScriptedReader]) -> None:
    service, reader = reading_service
    before = len(reader.calls)
    answer = service.ask("朱志杰去过哪些镇")
    assert answer.found and answer.kind == "list" and "古山镇" in answer.text and "舟山镇" in answer.text
    assert len(reader.calls) == before  # aggregated from the person's articles, not read


def test_the_reader_is_not_loaded_until_a_question_needs_it(tmp_path: Path) -> None:
    def fail() -> ScriptedReader:
        raise AssertionError("loaded too early")

    service = NewsQA(tmp_path / "index", HashingEncoder, model_name=FAKE_MODEL, reader_factory=fail)
    service.reindex(CORPUS_DIR)
    assert service.ask("").kind == "invalid"
