"""The inline keyboard under an answer and the callback data its buttons carry.

Two kinds of buttons, each with callback data far below Telegram's 64-byte limit:

* ``a:<16 hex>`` — "📄 原文 n": the full text of the n-th cited article. The key is the first 16
  hex digits of SHA-1 over the article id and the SHA-256 of its page file in the index
  manifest. Article ids are positional (``page#3``), so the file digest is what tells an
  unchanged article (same key after a reindex: old buttons keep working) from one whose page
  changed or vanished (a new or missing key: the button is stale, and says so).
* ``v:+:<store>:<row>`` / ``v:-:<store>:<row>`` — 👍/👎 on the feedback row of that answer in the
  feedback database ``<store>`` (8 hex digits): with several replicas, each with its own file, a
  tap that reaches another replica is refused instead of counted on an unrelated row.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.telegram.render import unique_citations
from retrieval.index.article_index import ArticleIndex
from retrieval.models import Answer, Article

MAX_ARTICLE_BUTTONS = 5
ARTICLE_PATTERN = r"^a:"
VOTE_PATTERN = r"^v:"
_ARTICLE_DATA = re.compile(r"a:([0-9a-f]{16})")
_VOTE_DATA = re.compile(r"v:([+-]):([0-9a-f]{8}):([1-9][0-9]{0,17})")


def article_key(article_id: str, page_digest: str) -> str:
    """The 16-hex-digit key of an article as cited from a page with this content digest."""
    return hashlib.sha1(f"{article_id}\0{page_digest}".encode()).hexdigest()[:16]


class ArticleKeys:
    """key → Article for the service's current index, rebuilt when the index object changes
    (after a reindex). Thread-safe: looked up from worker threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._index: ArticleIndex | None = None
        self._by_key: dict[str, Article] = {}

    def _keys_for(self, index: ArticleIndex) -> dict[str, Article]:
        with self._lock:
            if index is not self._index:
                files = index.manifest.files
                self._by_key = {article_key(a.id, files.get(a.source, "")): a for a in index.articles}
                self._index = index
            return self._by_key

    def key(self, index: ArticleIndex, article_id: str) -> str | None:
        """The key of a cited article, or None if it is not in ``index``."""
        article = index.article_by_id.get(article_id)
        if article is None:
            return None
        return article_key(article.id, index.manifest.files.get(article.source, ""))

    def lookup(self, index: ArticleIndex, key: str) -> Article | None:
        return self._keys_for(index).get(key)


@dataclass(frozen=True)
class VoteData:
    """A parsed vote button: which feedback row, and +1 or -1."""

    answer_id: int
    vote: int
    store: str = ""


def parse_article_data(data: str | None) -> str | None:
    """The article key in ``a:<key>`` callback data, or None if malformed."""
    match = _ARTICLE_DATA.fullmatch(data or "")
    return match.group(1) if match else None


def parse_vote_data(data: str | None) -> VoteData | None:
    """The vote in ``v:+:<store>:<row>`` / ``v:-:<store>:<row>`` callback data, or None if malformed."""
    match = _VOTE_DATA.fullmatch(data or "")
    if not match:
        return None
    return VoteData(int(match.group(3)), 1 if match.group(1) == "+" else -1, match.group(2))


def cited_keys(answer: Answer, index: ArticleIndex, keys: ArticleKeys) -> list[tuple[int, str]]:
    """(number, key) of the articles an answer cites, numbered as its sources are listed
    (``render.answer_blocks``: found answers only), for the first :data:`MAX_ARTICLE_BUTTONS`."""
    if not answer.found:
        return []
    out: list[tuple[int, str]] = []
    for n, citation in enumerate(unique_citations(answer.citations)[:MAX_ARTICLE_BUTTONS], 1):
        key = keys.key(index, citation.article_id) if citation.article_id else None
        if key:  # a citation without an article in the index keeps its number, gets no button
            out.append((n, key))
    return out


def answer_keyboard(article_keys: list[tuple[int, str]], feedback_row: str | None) -> InlineKeyboardMarkup | None:
    """Row 1: "📄 原文 n" per cited article; row 2: 👍/👎 if the answer was recorded
    (``feedback_row`` is "<store>:<row>")."""
    rows: list[list[InlineKeyboardButton]] = []
    if article_keys:
        rows.append([InlineKeyboardButton(f"📄 原文 {n}", callback_data=f"a:{key}")
                     for n, key in article_keys])
    if feedback_row is not None:
        rows.append([InlineKeyboardButton("👍", callback_data=f"v:+:{feedback_row}"),
                     InlineKeyboardButton("👎", callback_data=f"v:-:{feedback_row}")])
    return InlineKeyboardMarkup(rows) if rows else None
