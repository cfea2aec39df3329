"""Evidence features of a candidate answer: how much of the question a text holds, weighted by
each word's idf. Pure functions; the answerer combines them (``retrieval.qa.support``)."""

from __future__ import annotations

from retrieval.lexicon.mining import SURNAMES
from retrieval.qa.question import GENERIC_FOCUS
from retrieval.text import HAN_RUN


def coverage(words: list[str], weights: list[float], text: str) -> float:
    """idf-weighted share of ``words`` present in ``text``, in [0, 1]; a word not present
    whole earns half credit for the share of its characters that are."""
    total = sum(weights)
    if total <= 0:
        return 0.0
    got = 0.0
    for word, weight in zip(words, weights, strict=True):
        if word in text:
            got += weight
        elif len(word) > 1:
            got += 0.5 * weight * sum(ch in text for ch in word) / len(word)
    return got / total


def unseen_share(words: list[str], weights: list[float], evidence: str) -> float:
    """idf-weighted share of question words absent from ``evidence`` (the retrieved articles)."""
    total = sum(weights)
    if total <= 0:
        return 1.0
    return sum(w for word, w in zip(words, weights, strict=True) if word not in evidence) / total


def repeats(words: list[str], weights: list[float], text: str) -> float:
    """idf-weighted share of question words that recur in ``text`` (up to 3 more times)."""
    total = sum(weights) or 1.0
    return sum(w * min(text.count(word) - 1, 3) / 3 for word, w in zip(words, weights, strict=True)
               if text.count(word) > 1) / total


def focus_seen(focus: str, evidence: str) -> bool:
    """Whether the thing asked for appears in the retrieved articles (whole, or its head:
    the last two characters, 机制 for 新机制); a generic focus (地方, 时候) always counts."""
    if not focus or focus in GENERIC_FOCUS or focus[-2:] in GENERIC_FOCUS or focus[-1:] in GENERIC_FOCUS:
        return True
    return focus in evidence or (len(focus) > 2 and focus[-2:] in evidence)


def reads_as_name(word: str) -> bool:
    """A Chinese personal name, surname first, 2–3 characters (章旭升)."""
    return 2 <= len(word) <= 3 and word[0] in SURNAMES and bool(HAN_RUN.fullmatch(word))
