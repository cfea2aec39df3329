"""Article → Chunk: sentence-aware passages of roughly 150–400 characters.

A chunk never cuts a sentence (unless one sentence alone exceeds the hard limit,
where it is cut at clause punctuation), and may repeat the previous chunk's last
sentence so that a fact straddling a boundary is still found in one piece.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from retrieval.models import Article, Chunk
from retrieval.text import split_sentences

MIN_CHARS = 150
MAX_CHARS = 400
# A trailing sentence shorter than this is repeated at the start of the next chunk.
OVERLAP_MAX_CHARS = 80

_CLAUSE_END = re.compile(r"[^，,、：:]*(?:[，,、：:]|$)")


def _split_long(sentence: str, limit: int) -> list[str]:
    """Cut an over-long sentence at clause punctuation so each piece fits ``limit``."""
    pieces: list[str] = []
    current = ""
    for clause in (m.group(0) for m in _CLAUSE_END.finditer(sentence)):
        if not clause:
            continue
        if current and len(current) + len(clause) > limit:
            pieces.append(current)
            current = ""
        while len(clause) > limit:  # no punctuation at all: hard cut
            pieces.append(clause[:limit])
            clause = clause[limit:]
        current += clause
    if current:
        pieces.append(current)
    return pieces


def _units(article: Article, max_chars: int) -> list[str]:
    units: list[str] = []
    for paragraph in article.paragraphs:
        for sentence in split_sentences(paragraph):
            units.extend(_split_long(sentence, max_chars) if len(sentence) > max_chars else [sentence])
    return units


def chunk_article(
    article: Article,
    start_id: int = 0,
    min_chars: int = MIN_CHARS,
    max_chars: int = MAX_CHARS,
) -> list[Chunk]:
    """Chunk one article. Ids are consecutive from ``start_id``.

    An article with no body (a banner or a headline-only block) yields one chunk
    holding its headline, so it can still be found.
    """
    units = _units(article, max_chars)
    title = article.display_title
    if not units:
        units = [article.headline] if article.headline else []
    groups: list[list[str]] = []
    current: list[str] = []
    size = 0
    for unit in units:
        if current and size >= min_chars and size + len(unit) > max_chars:
            groups.append(current)
            tail = current[-1]
            # Repeat a short last sentence so a fact spanning the boundary stays whole.
            current = [tail] if len(tail) <= OVERLAP_MAX_CHARS and len(tail) + len(unit) <= max_chars else []
            size = sum(len(u) for u in current)
        current.append(unit)
        size += len(unit)
    if current:
        # A short remainder joins the previous chunk when it fits.
        if groups and size < min_chars // 2 and sum(map(len, groups[-1])) + size <= max_chars:
            groups[-1].extend(u for u in current if u not in groups[-1][-1:])
        else:
            groups.append(current)
    return [
        Chunk(
            id=start_id + i,
            article_id=article.id,
            source=article.source,
            title=title,
            date=article.when,
            text="".join(group),
            position=i,
        )
        for i, group in enumerate(groups)
    ]


def chunk_articles(articles: Iterable[Article], start_id: int = 0) -> Iterator[Chunk]:
    """Chunk many articles with globally consecutive ids."""
    next_id = start_id
    for article in articles:
        chunks = chunk_article(article, next_id)
        next_id += len(chunks)
        yield from chunks
