"""Question → Answer: checks the question, then routes it to the path that answers its kind.

- 哪些 questions about a person (朱志杰去过哪些镇) gather every article about them
  (``retrieval.qa.lists``);
- questions with several parts are answered part by part (``retrieval.qa.multi``);
- every other question is read by the trained reader when one is configured
  (``retrieval.qa.reading``), else answered by rules (``retrieval.qa.rules``).

Nothing is generated: every answer is the archive's own words, with sources, or "not found".
"""

from __future__ import annotations

from typing import Literal

from retrieval.lexicon.places import find_countries, find_provinces
from retrieval.lexicon.words import word_set
from retrieval.models import Answer, Citation
from retrieval.qa import reading
from retrieval.qa.analysis import Analysis, analyze, constraints_of
from retrieval.qa.lists import aggregate, cited_articles, render_list
from retrieval.qa.multi import combine, split_question
from retrieval.qa.names import list_question_names
from retrieval.qa.question import Question, parse_question
from retrieval.qa.reading import NOT_FOUND
from retrieval.qa.rules import SOURCES_SHOWN, SPAN_MARGIN, RuleAnswerer
from retrieval.read.reader import SpanReader
from retrieval.search import HybridSearcher
from retrieval.text import has_text

__all__ = ["DEFAULT_MARGINS", "NOT_FOUND", "SOURCES_SHOWN", "Answerer", "ReaderRole"]

ReaderRole = Literal["decides", "spans"]
# the calibrated "no answer" margin of each role, when none is configured (docs/reader.md)
DEFAULT_MARGINS: dict[ReaderRole, float] = {"decides": reading.DEFAULT_MARGIN, "spans": SPAN_MARGIN}


class Answerer:
    """Answers questions from one searcher's index."""

    def __init__(self, searcher: HybridSearcher, max_question_chars: int = 500, reader: SpanReader | None = None,
                 reader_margin: float = reading.DEFAULT_MARGIN, reader_role: ReaderRole = "decides") -> None:
        self.searcher = searcher
        self.index = searcher.index
        self.max_question_chars = max_question_chars
        # reader_role "decides": factoid and typed-list answers are read (retrieval.qa.reading);
        # "spans": the rules decide, and the reader picks the short answer in their sentence
        # (retrieval.qa.rules). The person-visit aggregation serves either way.
        self.reader = reader if reader_role == "decides" else None
        self.reader_margin = reader_margin
        self.rules = RuleAnswerer(searcher, span_reader=reader if reader_role == "spans" else None,
                                  span_margin=reader_margin)

    # -- answering -----------------------------------------------------------------------------

    def answer(self, raw_question: str) -> Answer:
        note = ""
        if len(raw_question) > self.max_question_chars:
            note = f"问题过长，只使用了前 {self.max_question_chars} 个字。"
        question = self.searcher.normalize(raw_question, self.max_question_chars)
        if not question:
            return Answer(raw_question, False, "请输入一个问题，例如：朱志杰去过哪些镇？", kind="invalid")
        if not has_text(question):
            return Answer(raw_question, False, "没有识别到可以检索的文字，请用中文描述您的问题。",
                          kind="invalid", note=note)
        parsed = parse_question(question, self.index.lexicon)
        if parsed.is_aggregate:
            listed = self._list_answer(raw_question, parsed, note)
            if listed is not None:
                return listed
        return self._factoid_answer(raw_question, question, parsed, note)

    def _list_answer(self, raw: str, q: Question, note: str) -> Answer | None:
        # Other names in the question narrow the articles: 李克强去四川考察了哪些地方.
        words = self.index.tokenizer.words(q.text)
        required = tuple(sorted(n for n in list_question_names(q.text, words, self.index.lexicon, self.index.tokenizer.tags) if n != q.entity and n not in q.entity))
        required += tuple(n for _, n in find_provinces(q.text) + find_countries(q.text) if n not in required)
        window = constraints_of(q.text, self.index.tokenizer.tagged(q.text))
        items, total = aggregate(self.index, q, required=required, years=window.years, months=window.months)
        if not items:
            return None
        noun = q.item_kind if q.item_kind not in ("哪里", "哪儿") else "地方"
        text = render_list(f"据报道，{q.entity}{q.actor_verb}的{noun}", items, total)
        return Answer(raw, True, text, kind="list", items=tuple(items), citations=cited_articles(items), note=note)

    def _factoid_answer(self, raw: str, question: str, parsed: Question, note: str) -> Answer:
        tagged = self.index.tokenizer.tagged(question)
        analysis = analyze(question, tagged)
        if not parsed.is_list:
            parts = split_question(tagged, frozenset(self.index.lexicon.words))
            distributive = any(w in question for w in word_set("distributives"))
            if parts and (distributive or analysis.answer_type in ("number", "date")):
                return self._multi_answer(raw, parts, note)
        if self.reader is not None:
            return self._read_answer(raw, question, parsed.is_list, analysis, note)
        return self.rules.answer(raw, question, parsed, analysis, tagged, note)

    def _read_answer(self, raw: str, question: str, is_list: bool, analysis: Analysis, note: str) -> Answer:
        """The reader decides: a span beating "no answer" by the margin, or not found."""
        assert self.reader is not None
        hits = self.searcher.search(question, k=reading.LIST_PASSAGES if is_list else reading.READ_PASSAGES)
        if not hits:
            return Answer(raw, False, NOT_FOUND, kind="none", note=note)
        readings = reading.read_hits(self.reader, question, hits)
        if is_list:
            lead = f"据报道，{analysis.focus}" if analysis.focus else "据报道，"
            listed = reading.list_answer(raw, readings, self.reader_margin, Citation.from_hit, lead, note)
            if listed is not None:
                return listed
        return reading.factoid_answer(raw, readings, self.reader_margin, hits[: reading.READ_PASSAGES],
                                      Citation.from_hit, note, SOURCES_SHOWN)

    def _multi_answer(self, raw: str, parts: list[str], note: str) -> Answer:
        """One answer per part, combined (``multi.combine``)."""
        return combine(raw, parts, [self.answer(part) for part in parts], note)

