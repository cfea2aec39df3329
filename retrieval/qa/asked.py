"""What a question asks about, as opposed to the topic it names: the kind of thing asked for
(哪所大学 → 大学), what an amount counts (总投资是多少 → 总投资), and the nouns beside the
interrogative (机长叫什么名字 → 机长). Pure functions over the analysed question; the word lists
are data files (``retrieval/lexicon/data/``)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from retrieval.lexicon.tokenizer import STOPWORDS
from retrieval.lexicon.words import word_list, word_table
from retrieval.qa.analysis import Analysis, relation_nouns
from retrieval.qa.question import GENERIC_FOCUS


def names_a_category(noun: str) -> bool:
    """Whether the asked noun is written with its answers, so that its absence from the articles
    means the answer is absent: a kind of person (记者 林群心), or a kind of place or organisation
    whose names end with it (哪所大学 → 清华大学, 哪个村 → 前村村). A broader kind (国家, 城市,
    机构: 宁波, 联合国环境规划署) and an attribute noun (题目, 人数) are not; the span check
    stands in for them."""
    kind = word_table("focus_types").get(noun)
    if kind == "place":
        return noun in word_list("place_suffixes")
    if kind == "organization":
        return noun in word_list("org_suffixes")
    return kind == "person"


def measured_noun(analysis: Analysis, focus: str) -> str:
    """What an asked amount counts (总投资 in 总投资是多少): the question's focus noun unless it
    is generic, else the analysed one; "" for questions that do not ask for a number, and when
    that one is generic too (比例 is written 占比, or "…的1.89%")."""
    if analysis.answer_type != "number":
        return ""
    noun = focus if len(focus) >= 2 and focus not in GENERIC_FOCUS else analysis.focus
    return "" if noun in GENERIC_FOCUS else noun


@cache
def _not_asked() -> frozenset[str]:
    """Nouns that never say what is asked: stopwords, generic nouns (时候, 照片) and kinds never
    written beside their names (国家, 城市: ``names_a_category``). A kind written beside its
    names (公司, 校长, 大学) is asked about like any other noun."""
    kinds = frozenset(noun for noun in word_table("focus_types") if not names_a_category(noun))
    return STOPWORDS | GENERIC_FOCUS | kinds


def asked_nouns(question: str, tagged: list[tuple[str, str]], analysis: Analysis, focus: str) -> tuple[str, ...]:
    """The nouns beside the interrogative in its clause (``analysis.relation_nouns``), less
    those that only name the kind of answer."""
    asked_kind = {noun for noun in (focus, analysis.focus) if not names_a_category(noun)}
    return relation_nouns(question, tagged, analysis.cue, _not_asked() | asked_kind)


def nouns_seen(nouns: Sequence[str], text: str) -> bool:
    """Whether every asked noun is in ``text``, character by character: a compound is often
    written with more in between (工业产值 in 规上工业总产值), but a sentence about 财政总收入
    does not hold 总支出."""
    return all(all(ch in text for ch in noun) for noun in nouns)
