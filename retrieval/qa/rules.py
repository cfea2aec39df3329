"""The rules-only answer path: the archive sentence that best covers the question, a span of the
asked type from it, and ``retrieval.qa.support``'s calibrated rule for whether the archive answers.

Nothing is generated: a factoid answer is the archive's own sentence (``答：<span>`` first when the
sentence holds exactly one span of the asked type, or, with a span reader, the reader's span in
that sentence); a typed 哪些 question gathers spans of its kind from the passages that answer
(``retrieval.qa.span_lists``). This path serves unless the reader decides (``retrieval.qa.reading``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from retrieval.index.sentences import chunk_sentences
from retrieval.lexicon.tokenizer import STOPWORDS
from retrieval.models import Answer, AnswerItem, Citation, Hit
from retrieval.qa.analysis import Analysis
from retrieval.qa.asked import asked_nouns, measured_noun, names_a_category, nouns_seen
from retrieval.qa.dates import days_agree, months_agree, years_agree
from retrieval.qa.evidence import coverage, focus_seen, reads_as_name, repeats, unseen_share
from retrieval.qa.lists import cited_articles, render_list
from retrieval.qa.names import factoid_names
from retrieval.qa.question import Question, content_words, focus_noun
from retrieval.qa.reading import NOT_FOUND, passage_of
from retrieval.qa.span_lists import LIST_KINDS, ListContext, span_list
from retrieval.qa.spans import Span, answer_spans
from retrieval.qa.support import Evidence, is_supported
from retrieval.read.reader import SpanReader
from retrieval.search import HybridSearcher
from retrieval.text import split_sentences

SOURCES_SHOWN = 5
# How many lexically best sentences the embedding model re-scores, and its weight
# (cosines of e5 differ by a few hundredths, so the weight is large).
# Tuned on the tune halves of eval/*.jsonl (docs/answers.md); 5 candidates cost ~1/2 of 8's
# latency at the same accuracy.
SENTENCE_RERANK = 5
# How many of the best sentences are checked for a span of the asked type (tagging costs ~0.3 ms each).
TYPED_CANDIDATES = 10
TYPED_KINDS = frozenset({"number", "date", "person", "role", "place", "organization", "name"})
SEMANTIC_WEIGHT = 4.0
RUNNER_UP_MARGIN = 0.1
# Passages a typed list is gathered from: lists span more articles than one answer needs.
LIST_PASSAGES = 20
FACTOID_PASSAGES = max(SOURCES_SHOWN, 8)
# The margin (logits over "no answer") the reader's span must beat to become the short answer.
# Chosen on the tune halves with reader-v6 (docs/reader.md): at 4 it gave 47 right and 5 wrong
# short answers of 73 rules answers, the rules alone 28 and 4.
SPAN_MARGIN = 4.0
# what a read span is trimmed of: brackets and separators the model sometimes takes along
SPAN_EDGES = "（()）【】《》“”\"'，、。；：！？ \n的"


@dataclass(frozen=True)
class _Sentence:
    text: str
    hit: Hit
    coverage: float
    spans: tuple[Span, ...] = ()  # answer-typed spans the question does not already name
    position: int = -1  # index in ``chunk_sentences(hit.chunk.text)``; -1 for merged text


class RuleAnswerer:
    """Answers one (non-aggregate, single-part) question from one searcher's index by rules."""

    def __init__(self, searcher: HybridSearcher, span_reader: SpanReader | None = None,
                 span_margin: float = SPAN_MARGIN) -> None:
        self.searcher = searcher
        self.index = searcher.index
        # with a reader, the short answer (答：…) is the reader's span in the chosen sentence
        # when it beats "no answer" by ``span_margin``; the rules still decide whether and which
        self.span_reader = span_reader
        self.span_margin = span_margin

    def idf(self, word: str) -> float:
        """BM25-style idf of ``word`` over chunks; unseen words get the highest value."""
        n = max(len(self.index.chunks), 1)
        df = int(self.index.chunks_with_token(word.lower()).size)
        return math.log((n - df + 0.5) / (df + 0.5) + 1.0)

    def answer(self, raw: str, question: str, parsed: Question, analysis: Analysis,
               tagged: list[tuple[str, str]], note: str) -> Answer:
        """The best sentence (and its one typed span) when the evidence supports it, else not found;
        a typed 哪些 question is answered by a list of spans when one is found."""
        listing = parsed.is_list and analysis.answer_type in LIST_KINDS
        # One search serves both: a typed list reads more passages; the factoid answer its best 8
        # (fusion ranks the same way whatever k is, so the first 8 are the same).
        found = self.searcher.search(question, k=LIST_PASSAGES if listing else FACTOID_PASSAGES)
        hits = found[:FACTOID_PASSAGES]
        if not hits:
            return Answer(raw, False, NOT_FOUND, kind="none", note=note)
        named = factoid_names(question, analysis, tagged, self.index.lexicon, self.index.tokenizer.tags)
        all_words = self.index.tokenizer.words(question)
        # Latin words the archive never uses ("Please tell me") are noise, not evidence.
        words = [w for w in content_words(all_words, STOPWORDS)
                 if not w.isascii() or w.isdigit() or self.index.chunks_with_token(w.lower()).size]
        if analysis.answer_type == "role":
            # "X担任什么职务": the archive writes the title beside the name (市长胡勇春) and never
            # the words of the question (担任, 职务), so the evidence is the person named.
            words = [w for w in words if w in named] or words
        weights = [self.idf(w) for w in words]
        focus = focus_noun(all_words, self.index.tokenizer.tags)
        measured = measured_noun(analysis, focus)
        if listing:
            listed = self._span_list(raw, question, analysis, found, named, words, weights, measured, note)
            if listed is not None:
                return listed
        best = self._best_sentence(hits, words, weights, wants_list=parsed.is_list, question=question,
                                   analysis=analysis, measured=measured)
        retrieved = self._articles_text(hits)
        answer_article = self._articles_text([best.hit])
        typed = analysis.answer_type in TYPED_KINDS
        dated = self._dated(best.hit)
        evidence = Evidence(
            sentence_coverage=best.coverage,
            article_coverage=coverage(words, weights, answer_article),
            dense=best.hit.dense,
            unseen_share=unseen_share(words, weights, retrieved),
            focus_seen=focus_seen(focus, retrieved) or (typed and not names_a_category(focus)),
            names_seen=all(name in answer_article for name in named),
            type_seen=not typed or bool(best.spans),
            years_seen=years_agree(analysis.constraints.years, best.text, best.hit.chunk.title + best.hit.chunk.date),
            # the lead is read only when a day is asked: most questions name none
            days_seen=days_agree(analysis.constraints.days, best.text, *dated,
                                 lead=self._lead(best.hit) if analysis.constraints.days else ""),
            # a named date (3月23日) is judged by days_seen alone
            months_seen=bool(analysis.constraints.days)
            or months_agree(analysis.constraints.months, best.text, best.hit.chunk.title, *dated),
            numbers_seen=all(i in answer_article for i in analysis.constraints.identifiers),
            # a role is judged by the person named (above); every other typed answer's sentence
            # holds what is asked about: 机长, not only the flight (the words beside the cue)
            asked_seen=not typed or analysis.answer_type == "role"
            or nouns_seen(asked_nouns(question, tagged, analysis, focus), best.text + best.hit.chunk.title),
        )
        sources = self._sources(hits, best.hit)
        extra: dict[str, object] = {"evidence": evidence.as_dict(), "answer_type": analysis.answer_type}
        if not is_supported(evidence):
            related = [c for n, c in enumerate(sources) if c.article_id not in {s.article_id for s in sources[:n]}]
            return Answer(raw, False, NOT_FOUND, kind="none", related=tuple(related[:3]), note=note, extra=extra)
        # One span of the asked type in the sentence is the answer; with several (66名, 11名, 77具)
        # choosing one would be a guess, so the sentence speaks for itself. A list is no span.
        near = typed and not parsed.is_list and len({s.text for s in best.spans}) == 1
        short = best.spans[0].text if near else ("是" if analysis.answer_type == "yesno" else "")
        if self.span_reader is not None and not parsed.is_list and analysis.answer_type != "yesno":
            read = self._read_span(question, best, extra)
            if read and read != short:
                # the rules' span of the asked type (or none): what a follow-up's 他/那里 may mean
                extra["typed_answer"] = short
            short = read or short
        if short:
            extra["short_answer"] = short
        text = f"答：{short}\n{best.text}" if short else best.text
        return Answer(raw, True, text, kind="factoid", citations=tuple(sources), note=note,
                      items=(AnswerItem(short or best.text, best.text, (sources[0],)),), extra=extra)

    def _read_span(self, question: str, best: _Sentence, extra: dict[str, object]) -> str:
        """The reader's span in the best sentence's passage, if it beats "no answer" by the margin
        and lies in the sentence shown (the sentence the rules' evidence checked); else ""."""
        assert self.span_reader is not None
        span = self.span_reader.read(question, [passage_of(best.hit)])[0]
        if span is None:
            return ""
        text = span.text.strip(SPAN_EDGES)
        extra["reader_span"] = {"text": text, "score": round(span.score, 3)}
        return text if span.score > self.span_margin and text and text in best.text else ""

    def _span_list(self, raw: str, question: str, analysis: Analysis, hits: list[Hit], named: set[str],
                   words: list[str], weights: list[float], measured: str, note: str) -> Answer | None:
        """A list of the asked kind of item from the passages that answer (``span_lists``)."""
        ctx = ListContext(
            coverage=lambda text: coverage(words, weights, text),
            spans=lambda sentence: self._spans(sentence, analysis, question, words, measured),
            article=self.index.article_by_id.get,
            citation=Citation.from_hit,
            is_person=lambda word: word in self.index.lexicon.people or reads_as_name(word),
        )
        items = span_list(hits, analysis, named, ctx)
        if not items:
            return None
        text = render_list(f"据报道，{analysis.focus}" if analysis.focus else "据报道，", items, len(items))
        return Answer(raw, True, text, kind="list", items=tuple(items), citations=cited_articles(items),
                      note=note, extra={"answer_type": analysis.answer_type})

    def _dated(self, hit: Hit) -> tuple[str, str]:
        """(printed dateline, ISO date) of the hit's article."""
        article = self.index.article_by_id.get(hit.chunk.article_id)
        return (article.dateline, article.date) if article else ("", hit.chunk.date)

    def _lead(self, hit: Hit) -> str:
        """The first sentence of the hit's article: where news says when the story happened."""
        article = self.index.article_by_id.get(hit.chunk.article_id)
        sentences = split_sentences(article.text) if article else []
        return sentences[0] if sentences else ""

    def _articles_text(self, hits: list[Hit]) -> str:
        """Headline and body of every article behind ``hits``."""
        seen: dict[str, str] = {}
        for hit in hits:
            aid = hit.chunk.article_id
            if aid not in seen:
                article = self.index.article_by_id.get(aid)
                seen[aid] = (article.headline + "\n" + article.text) if article else hit.chunk.index_text
        return "\n".join(seen.values())

    def _best_sentence(
        self, hits: list[Hit], words: list[str], weights: list[float], wants_list: bool = False,
        question: str = "", analysis: Analysis | None = None, measured: str = "",
    ) -> _Sentence:
        """The archive sentence that best answers: lexical evidence first, then the model's
        judgement of meaning over the best few candidates (paraphrases share no words). A
        question that asks for a typed answer (an amount, a date, a person …) is answered only
        by sentences holding a span of that type that the question does not already name."""
        scored: list[tuple[float, _Sentence]] = []
        top = hits[0].score or 1.0
        for hit in hits:
            for position, text in enumerate(chunk_sentences(hit.chunk.text)):
                if len(text) < 4:
                    continue
                cov = coverage(words, weights, text + hit.chunk.title)
                # Coverage decides; retrieval rank, repeated question words and (for 哪些
                # questions) enumerations break near-ties.
                score = cov + 0.15 * (hit.score / top) + 0.1 * repeats(words, weights, text)
                if wants_list:
                    score += 0.05 * min(text.count("、") + text.count("；"), 6) / 6
                scored.append((score, _Sentence(text, hit, cov, position=position)))
        if not scored:
            return _Sentence(hits[0].chunk.text, hits[0], 0.0)
        scored.sort(key=lambda item: -item[0])
        if analysis is not None and analysis.answer_type in TYPED_KINDS:
            typed = [(score, replace(c, spans=spans)) for score, c in scored[:TYPED_CANDIDATES]
                     if (spans := self._spans(c.text, analysis, question, words, measured))]
            scored = typed or scored[:1]
        shortlist = scored[:SENTENCE_RERANK]
        if question and len(shortlist) > 1 and SEMANTIC_WEIGHT > 0:
            qv = self.searcher.query_vector(question)
            sims = self._sentence_vectors([c for _, c in shortlist]) @ qv
            shortlist = [(score + SEMANTIC_WEIGHT * float(sim), cand)
                         for (score, cand), sim in zip(shortlist, sims, strict=True)]
            shortlist.sort(key=lambda item: -item[0])
        best_score, best = shortlist[0]
        # A close runner-up from the same article usually carries the rest of the answer
        # (the list continues, or the reason follows); show both, in reading order.
        for score, other in shortlist[1:3]:
            same_article = other.hit.chunk.article_id == best.hit.chunk.article_id
            if same_article and best_score - score <= RUNNER_UP_MARGIN and other.text not in best.text:
                first, second = sorted((best, other), key=lambda c: (c.hit.chunk.position,
                                                                     c.hit.chunk.text.find(c.text)))
                return _Sentence(first.text + second.text, best.hit, max(best.coverage, other.coverage),
                                 best.spans + other.spans)
        return best

    def _sentence_vectors(self, candidates: list[_Sentence]) -> np.ndarray:
        """(n, dim) float32 vectors of the candidates: stored with the index when it has them
        (no model call), else embedded now (indexes built before sentence vectors)."""
        stored = self.index.sentences
        rows = [stored.row(c.hit.chunk.id, c.position) if stored is not None else None for c in candidates]
        missing = [c.text for c, row in zip(candidates, rows, strict=True) if row is None]
        fresh = iter(self.searcher.encoder.encode_passages(missing) if missing else [])
        return np.stack([row if row is not None else next(fresh) for row in rows]).astype(np.float32)

    def _spans(self, sentence: str, analysis: Analysis, question: str, words: list[str],
               measured: str) -> tuple[Span, ...]:
        lexicon = self.index.lexicon
        return answer_spans(sentence, self.index.tokenizer.tagged(sentence), analysis, question, words,
                            measured, frozenset(lexicon.people), frozenset(lexicon.places))

    def _sources(self, hits: list[Hit], answer_hit: Hit) -> list[Citation]:
        ordered = [answer_hit] + [h for h in hits if h.chunk.id != answer_hit.chunk.id]
        return [Citation.from_hit(h) for h in ordered[:SOURCES_SHOWN]]
