"""Answers decided by the trained reader (``retrieval.read``): it reads the best passages of the
hybrid search and either finds a span that beats "no answer" by the calibrated margin, or the
archive is silent.

- A factoid answer is ``答：<span>`` and the sentence that holds it, citing its article first.
- A list answer (哪些…) gathers every confident span of the top passages, deduplicated, each
  citing the article it was read from.

Passages are read as the reader was trained: headline, line break, chunk text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from retrieval.models import Answer, AnswerItem, Citation, Hit
from retrieval.qa.lists import cited_articles, render_list
from retrieval.read.reader import ReadSpan, SpanReader

NOT_FOUND = "没有找到相关报道。"  # the one wording of "the archive is silent" (rules and reader)
READ_PASSAGES = 5  # evidence@5 is 80–100 %: the answer's passage is almost always among these
LIST_PASSAGES = 12  # lists spread over more articles than one answer needs
# The "no answer" margin a span must beat, in logits. Calibrated on the tune halves and CMRC 2018
# trial/DRCD-derived hard negatives (docs/reader.md); never on a held-out half, CMRC dev or RGB.
DEFAULT_MARGIN = 0.0
MAX_LIST_ITEMS = 20
# a sentence: up to its end mark (and a closing quote or bracket after it), or a line
_SENTENCE = re.compile(r"[^。！？!?\n]*(?:[。！？!?]+[”’」』）)]*|\n|$)")


@dataclass(frozen=True)
class Reading:
    """One passage read: the span found in ``hit``'s passage and the sentence holding it."""

    span: ReadSpan
    hit: Hit
    sentence: str


def passage_of(hit: Hit) -> str:
    """What the reader reads for a hit: the headline, a line break, the chunk text."""
    return hit.chunk.index_text


def sentence_holding(text: str, start: int, end: int) -> str:
    """The sentence(s) of ``text`` that hold characters ``[start, end)``: a span crossing a
    sentence end gets both; a headline (ended by the line break) counts as a sentence."""
    return "".join(m.group().strip() for m in _SENTENCE.finditer(text)
                   if m.start() < m.end() and m.start() < end and start < m.end())


def read_hits(reader: SpanReader, question: str, hits: Sequence[Hit]) -> list[Reading]:
    """Every hit's best span, best margin first (hits with no passage text are skipped)."""
    passages = [passage_of(h) for h in hits]
    out = []
    for span, hit, passage in zip(reader.read(question, passages), hits, passages, strict=True):
        if span is not None and span.text.strip():
            out.append(Reading(span, hit, sentence_holding(passage, span.start, span.end)))
    out.sort(key=lambda r: -r.span.score)
    return out


def factoid_answer(raw: str, readings: Sequence[Reading], margin: float, hits: Sequence[Hit],
                   cite: Callable[[Hit], Citation], note: str = "", sources: int = 5) -> Answer:
    """The best reading as ``答：span`` + its sentence when it beats ``margin``; else not found,
    with the closest passages as related reading."""
    extra: dict[str, object] = {"reader": {"margin": margin, "scores": [round(r.span.score, 3) for r in readings]}}
    if not readings or readings[0].span.score <= margin:
        related: list[Citation] = []
        for hit in hits:
            if all(c.article_id != hit.chunk.article_id for c in related):
                related.append(cite(hit))
        return Answer(raw, False, NOT_FOUND, kind="none", related=tuple(related[:3]), note=note, extra=extra)
    best = readings[0]
    ordered = [best.hit] + [h for h in hits if h.chunk.id != best.hit.chunk.id]
    citations = tuple(cite(h) for h in ordered[:sources])
    short = best.span.text.strip()
    extra.update({"short_answer": short, "score": round(best.span.score, 3)})
    sentence = best.sentence.strip()
    text = f"答：{short}\n{sentence}" if sentence and sentence != short else f"答：{short}"
    return Answer(raw, True, text, kind="factoid", citations=citations, note=note,
                  items=(AnswerItem(short, sentence, (citations[0],)),), extra=extra)


def list_answer(raw: str, readings: Sequence[Reading], margin: float, cite: Callable[[Hit], Citation],
                lead: str, note: str = "") -> Answer | None:
    """Every confident span, deduplicated (a span contained in another is the same item), each
    citing every article it was read from; ``None`` when no span is confident."""
    items: dict[str, list[Reading]] = {}
    for r in readings:
        if r.span.score <= margin:
            continue
        label = r.span.text.strip()
        same = next((k for k in items if label in k or k in label), None)
        items.setdefault(same or label, []).append(r)
    if not items:
        return None
    answer_items = []
    for label, rs in list(items.items())[:MAX_LIST_ITEMS]:
        cites: dict[str, Citation] = {}
        for r in rs:
            cites.setdefault(r.hit.chunk.article_id, cite(r.hit))
        answer_items.append(AnswerItem(label, rs[0].sentence, tuple(cites.values())))
    text = render_list(lead, answer_items, len(items))
    return Answer(raw, True, text, kind="list", items=tuple(answer_items), citations=cited_articles(answer_items),
                  note=note, extra={"reader": {"margin": margin}})
