"""Questions that ask for several facts at once: split "X和Y的Z分别是多少" into one question per
conjunct, so each part is answered (or not) with its own evidence.

    2021年香港和澳门的GDP增长率      → 2021年香港的GDP增长率 | 2021年澳门的GDP增长率
    宣誓仪式及首次会议的时间          → 宣誓仪式的时间 | 首次会议的时间
    活动的开始和结束时间              → 活动的开始时间 | 活动的结束时间

Conjunctions and the words that bound a conjunct are data (``retrieval/lexicon/data/``).
"""

from __future__ import annotations

from retrieval.lexicon.words import word_set
from retrieval.models import Answer, Citation

# Tags of words that can stand in a conjunct: nouns, names, verbs used as nouns, numerals.
_CONJUNCT_TAGS = ("n", "v", "j", "m", "eng", "t", "a")


def _bounded(word: str, tag: str) -> bool:
    """Whether ``word`` ends a conjunct (的, 分别, punctuation, question words …)."""
    return word in word_set("conjunct_bounds") or not tag.startswith(_CONJUNCT_TAGS)


def split_question(words: list[tuple[str, str]], names: frozenset[str] = frozenset()) -> list[str]:
    """The parts of a multi-fact question from its (word, tag) pairs; [] if it asks one thing.

    Splits at the first conjunction whose both sides are content words; the right conjunct runs
    to the next bound, the left one mirrors its length (or stops at a bound), and a head the left
    conjunct lacks (时间 in 开始和结束时间) is shared. "分别"/"各" are dropped from the parts."""
    conjunctions = word_set("conjunctions")
    tokens = [w for w, _ in words]
    for i, (word, _tag) in enumerate(words):
        if word not in conjunctions or i == 0 or i + 1 >= len(words):
            continue
        if _bounded(*words[i - 1]) or _bounded(*words[i + 1]):
            continue
        j = i + 1
        while j < len(words) and not _bounded(*words[j]):
            j += 1
        right = tokens[i + 1 : j]
        k = i - 1
        while k >= 0 and not _bounded(*words[k]) and i - k <= len(right):
            if words[k][0] in names and i - k < len(right):  # a name is a whole conjunct
                k -= 1
                break
            k -= 1
        left = tokens[k + 1 : i]
        head = right[len(left) :] if len(left) < len(right) else []
        prefix, suffix = tokens[: k + 1], tokens[j:]
        parts = ["".join(prefix + left + head + suffix), "".join(prefix + right + suffix)]
        return [_drop_distributive(p) for p in parts]
    return []


def _drop_distributive(text: str) -> str:
    for word in word_set("distributives"):
        text = text.replace(word, "")
    return text


def combine(raw: str, parts: list[str], answers: list[Answer], note: str) -> Answer:
    """One reply from the answers to each part: found only when every part is; otherwise it
    says which part the archive does not cover, and shows what was found for the others."""
    missing = [part for part, a in zip(parts, answers, strict=True) if not a.found]
    citations: list[Citation] = []
    for a in answers:
        citations += [c for c in (a.citations or a.related) if c not in citations]
    if missing:
        lines = [f"没有找到关于“{part}”的报道。" for part in missing]
        lines += [f"（{part}：{a.text.replace(chr(10), ' ')}）" for part, a in zip(parts, answers, strict=True)
                  if a.found]
        return Answer(raw, False, "\n".join(lines), kind="none", related=tuple(citations[:3]), note=note,
                      extra={"parts": parts, "missing": missing})
    text = "\n".join(f"{n}. {part}：{a.text.replace(chr(10), ' ')}"
                     for n, (part, a) in enumerate(zip(parts, answers, strict=True), 1))
    items = tuple(item for a in answers for item in a.items)
    return Answer(raw, True, text, kind="factoid", items=items, citations=tuple(citations), note=note,
                  extra={"parts": parts})
