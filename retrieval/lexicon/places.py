"""Places with no telltale suffix, from closed lists: provinces and countries.

Town and village names are mined from the corpus (``retrieval.lexicon.mining``); these lists
cover the larger units a national archive talks about ("温家宝去过哪些省").
"""

from __future__ import annotations

import re
from functools import cache

from retrieval.lexicon.words import word_list


@cache
def _pattern(name: str) -> re.Pattern[str]:
    # Longest first, so 沙特阿拉伯 wins over 沙特.
    return re.compile("|".join(sorted(word_list(name), key=len, reverse=True)))


def find_provinces(text: str) -> list[tuple[int, str]]:
    """Provinces (省/自治区/直辖市) named in ``text`` as (offset, name)."""
    return [(m.start(), m.group(0)) for m in _pattern("provinces").finditer(text)]


def find_countries(text: str) -> list[tuple[int, str]]:
    """Countries named in ``text`` as (offset, name)."""
    return [(m.start(), m.group(0)) for m in _pattern("countries").finditer(text)]
