"""Time windows of list questions, applied to article dates, with no model."""

from __future__ import annotations

import pytest

from retrieval.models import Article
from retrieval.qa.lists import in_window


def _article(date: str = "", dateline: str = "") -> Article:
    return Article(id="a", source="s", title="t", date=date, dateline=dateline, paragraphs=("p",))


@pytest.mark.parametrize(("article", "years", "months", "kept"), [
    (_article(date="2019-04-12"), ("2019",), (4,), True),
    (_article(date="2019-05-02"), ("2019",), (4,), False),
    (_article(date="2018-04-12"), ("2019",), (4,), False),
    (_article(date="2019-04-12"), (), (3, 4), True),
    (_article(dateline="7月31日"), (), (7, 8), True),  # a printed dateline without a year
    (_article(dateline="9月30日"), (), (7, 8), False),
    (_article(dateline="21日上午"), (), (7,), True),  # says nothing of the month: kept
])
def test_in_window(article: Article, years: tuple[str, ...], months: tuple[int, ...], kept: bool) -> None:
    assert in_window(article, years, months) is kept
