"""List answers gathered from typed spans: "习近平出访了哪几个国家", "见了哪些中国领导人",
"公布了哪些行政法规" — questions whose items are people, places, organisations or names, not
only a person's visits (those go through ``retrieval.qa.lists``).

Every sentence of the retrieved passages that covers the question (its own words, or its
headline's) gives the spans of the asked kind it holds, under the same constraints as a factoid
answer: not named by the question, at the asked place level, inside the asked time window, in an
article that names everyone and every identifier (神舟十号) the question names. Each item cites the article it came from.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from retrieval.models import AnswerItem, Article, Citation, Hit
from retrieval.qa.analysis import Analysis
from retrieval.qa.lists import in_window
from retrieval.qa.spans import Span
from retrieval.text import split_sentences

# Kinds whose spans can be list items; amounts and dates answer "how many"/"when", not "which".
LIST_KINDS = frozenset({"person", "place", "organization", "name"})
# Share of the question's words (idf-weighted) a sentence and its headline must hold for its
# spans to count: most of the question, as for a factoid answer sentence.
MIN_LIST_COVERAGE = 0.6
MIN_SENTENCE_COVERAGE = 0.4
MAX_ITEMS = 30


@dataclass(frozen=True)
class ListContext:
    """What the list needs from the answerer, as plain callables.

    coverage(text) -> idf-weighted share of the question's words in ``text`` (0–1);
    spans(sentence) -> answer spans of the asked kind in ``sentence``;
    article(article_id) -> the article, or None;
    citation(hit) -> the citation of a hit;
    is_person(word) -> whether a person span is a name (the tagger also tags 强调, 高度 as names).
    """

    coverage: Callable[[str], float]
    spans: Callable[[str], tuple[Span, ...]]
    article: Callable[[str], Article | None]
    citation: Callable[[Hit], Citation]
    is_person: Callable[[str], bool]


def span_list(hits: Sequence[Hit], analysis: Analysis, names: set[str], ctx: ListContext) -> list[AnswerItem]:
    """The distinct items of the asked kind across ``hits``, best-covered sentence first; []
    when the question does not ask for a kind of item or no sentence qualifies."""
    if analysis.answer_type not in LIST_KINDS:
        return []
    window = analysis.constraints
    found: dict[str, tuple[float, AnswerItem]] = {}
    seen_sentences: set[str] = set()
    for hit in hits:
        article = ctx.article(hit.chunk.article_id)
        if article is not None:
            whole = article.headline + "\n" + article.text
            if not all(n in whole for n in names) or not all(i in whole for i in window.identifiers):
                continue
            if (window.years or window.months) and not in_window(article, window.years, window.months):
                continue
        for sentence in split_sentences(hit.chunk.text, at_semicolons=False):
            if sentence in seen_sentences:
                continue
            seen_sentences.add(sentence)
            # The headline may supply the topic, but the sentence itself must be about it: in an
            # article headed by the question's words every sentence would qualify otherwise.
            score = ctx.coverage(sentence + hit.chunk.title)
            if score < MIN_LIST_COVERAGE or ctx.coverage(sentence) < MIN_SENTENCE_COVERAGE:
                continue
            for span in ctx.spans(sentence):
                label = span.text.strip("《》“”")
                if analysis.answer_type == "person" and not ctx.is_person(label):
                    continue
                if label and (label not in found or found[label][0] < score):
                    found[label] = (score, AnswerItem(label, sentence, (ctx.citation(hit),)))
    ranked = sorted(found.values(), key=lambda item: -item[0])
    return _without_parts([item for _, item in ranked])[:MAX_ITEMS]


def _without_parts(items: list[AnswerItem]) -> list[AnswerItem]:
    """Drop an item contained in another one (苏州 inside 中科院苏州医工所 is not listed twice)."""
    labels = [i.label for i in items]
    return [i for i in items if not any(i.label != other and i.label in other for other in labels)]
