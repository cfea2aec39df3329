"""Plain records that flow through the pipeline: Article → Chunk → Hit → Answer.

Every stage takes and returns these frozen dataclasses; nothing here knows about
files, models, Telegram or settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

ArticleKind = Literal["news", "photo", "other"]
# A long job reports progress as (stage, done, total): "embed", 256, 16500.
ProgressFn = Callable[[str, int, int], None]


@dataclass(frozen=True)
class IngestProblem:
    """Something wrong with one file (or one line of it), shown to the operator."""

    path: str
    message: str
    line: int | None = None


@dataclass(frozen=True)
class Article:
    """One article recovered from a page (or read from an article-level archive).

    ``dateline`` is the date as printed ("7月31日", "21日上午"); ``date`` is an ISO
    date (YYYY-MM-DD) when the source states one, else "".
    """

    id: str
    source: str
    title: str
    subtitle: str = ""
    byline: str = ""
    dateline: str = ""
    date: str = ""
    kind: ArticleKind = "news"
    paragraphs: tuple[str, ...] = ()

    @property
    def headline(self) -> str:
        """Title plus sub-headline, as a reader would quote it."""
        return f"{self.title} {self.subtitle}".strip() if self.subtitle else self.title

    @property
    def text(self) -> str:
        """Body paragraphs joined with newlines."""
        return "\n".join(self.paragraphs)

    @property
    def when(self) -> str:
        """The best human-readable date: the ISO date, else the printed dateline."""
        return self.date or self.dateline

    @property
    def display_title(self) -> str:
        """A title that is never empty: the headline, else the opening of the body."""
        if self.headline:
            return self.headline
        body = self.text.replace("\n", "")
        return body[:24] + ("…" if len(body) > 24 else "")


@dataclass(frozen=True)
class Chunk:
    """A passage of one article, small enough to embed.

    ``text`` is what users see; ``index_text`` (headline + text) is what is
    embedded and keyword-indexed, so a passage matches on its headline too.
    """

    id: int
    article_id: str
    source: str
    title: str
    date: str
    text: str
    position: int = 0

    @property
    def index_text(self) -> str:
        return f"{self.title}\n{self.text}" if self.title else self.text


@dataclass(frozen=True)
class Hit:
    """A chunk ranked for a query. ``score`` is the fused score (higher is better);
    ``dense`` is the cosine similarity in [-1, 1] and ``keyword`` the raw BM25 score."""

    chunk: Chunk
    score: float
    rank: int
    dense: float = 0.0
    keyword: float = 0.0


@dataclass(frozen=True)
class Citation:
    """Where a statement comes from: enough for a reader to find the page."""

    article_id: str
    title: str
    date: str
    source: str
    text: str = ""
    score: float = 0.0

    @classmethod
    def from_hit(cls, hit: Hit) -> Citation:
        """The citation of a retrieved passage: its article, headline, date, source, text and score."""
        c = hit.chunk
        return cls(c.article_id, c.title, c.date, c.source, c.text, hit.score)


@dataclass(frozen=True)
class AnswerItem:
    """One element of a list answer (e.g. a town), with the article that shows it."""

    label: str
    evidence: str
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True)
class Answer:
    """The reply to one question.

    ``text`` is extracted archive text only (never generated); ``items`` is set for
    list/aggregate questions; ``citations`` are the sources, best first. ``related``
    holds closest passages shown when ``found`` is False, clearly not an answer.
    A generator could later rewrite ``text`` from exactly ``citations``.
    """

    question: str
    found: bool
    text: str
    kind: Literal["factoid", "list", "none", "invalid"] = "factoid"
    items: tuple[AnswerItem, ...] = ()
    citations: tuple[Citation, ...] = ()
    related: tuple[Citation, ...] = ()
    note: str = ""
    took_ms: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)

    def with_timing(self, took_ms: float) -> Answer:
        return replace(self, took_ms=took_ms)
