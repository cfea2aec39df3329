"""Typed list answers gathered across passages (``retrieval.qa.span_lists``), with no model."""

from __future__ import annotations

from retrieval.lexicon.mining import Lexicon
from retrieval.lexicon.tokenizer import WordTokenizer
from retrieval.models import Article, Chunk, Citation, Hit
from retrieval.qa.analysis import analyze
from retrieval.qa.span_lists import ListContext, span_list
from retrieval.qa.spans import answer_spans

TOKENIZER = WordTokenizer(Lexicon(("习近平",), ()))
QUESTION = "2019年3月习近平出访了哪几个国家"
WORDS = ["2019", "习近平", "出访", "国家"]


def _article(aid: str, date: str, title: str, text: str) -> Article:
    return Article(aid, "xwlb.jsonl", title, date=date, paragraphs=(text,))


def _hit(article: Article) -> Hit:
    chunk = Chunk(ord(article.id), article.id, article.source, article.title, article.date, article.text)
    return Hit(chunk, 1.0, 0)


ARTICLES = [
    _article("a", "2019-03-21", "习近平出访意大利", "国家主席习近平21日出访意大利、摩纳哥和法国。"),
    _article("b", "2019-03-26", "习近平抵达法国", "习近平当地时间26日出访法国，并同马克龙会谈。"),
    _article("c", "2019-06-05", "习近平出访俄罗斯", "国家主席习近平5日出访俄罗斯。"),  # out of the window
    _article("d", "2019-03-10", "天气", "3月10日，北京晴。"),  # does not cover the question
]


def _context(people: frozenset[str] = frozenset({"习近平"})) -> ListContext:
    analysis = analyze(QUESTION, TOKENIZER.tagged(QUESTION))
    by_id = {a.id: a for a in ARTICLES}

    def coverage(text: str) -> float:
        return sum(w in text for w in WORDS) / len(WORDS)

    return ListContext(
        coverage=coverage,
        spans=lambda s: answer_spans(s, TOKENIZER.tagged(s), analysis, QUESTION, WORDS, people=people),
        article=by_id.get,
        citation=lambda h: Citation(h.chunk.article_id, h.chunk.title, h.chunk.date, h.chunk.source),
        is_person=lambda w: w in people,
    )


def test_items_come_from_every_covering_passage_in_the_window() -> None:
    analysis = analyze(QUESTION, TOKENIZER.tagged(QUESTION))
    items = span_list([_hit(a) for a in ARTICLES], analysis, {"习近平"}, _context())
    labels = [i.label for i in items]
    assert set(labels) == {"法国", "意大利", "摩纳哥"}  # 俄罗斯 is June: outside 2019年3月
    assert {i.citations[0].article_id for i in items} <= {"a", "b"}


def test_a_named_person_missing_from_the_article_drops_it() -> None:
    analysis = analyze(QUESTION, TOKENIZER.tagged(QUESTION))
    assert span_list([_hit(a) for a in ARTICLES], analysis, {"李克强"}, _context()) == []


def test_amount_questions_are_not_lists_of_spans() -> None:
    question = "2019年3月习近平出访了多少个国家"
    analysis = analyze(question, TOKENIZER.tagged(question))
    assert analysis.answer_type == "number"
    assert span_list([_hit(a) for a in ARTICLES], analysis, set(), _context()) == []
