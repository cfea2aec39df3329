"""CJK text helpers every stage shares: character classes, the one sentence splitter, and
query normalisation. Pure functions; no I/O."""

from __future__ import annotations

import re
import unicodedata
from typing import Protocol

HAN = "\u4e00-\u9fff"  # CJK unified ideographs, for character classes in patterns
HAN_RUN = re.compile(f"[{HAN}]+")
_HAS_TEXT = re.compile(f"[{HAN}A-Za-z0-9]")

# A sentence ends at 。！？!? (and, unless told otherwise, at ；;…), with any closing quotes or
# brackets after the mark; a newline ends one too.
_SENTENCE = re.compile(r"[^。！？!?；;…\n]*(?:[。！？!?；;…]+[”’」』）)]*|\n|$)")
_SENTENCE_STRONG = re.compile(r"[^。！？!?\n]*(?:[。！？!?]+[”’」』）)]*|\n|$)")

# Invisible characters are deleted (朱\u200b志杰 is 朱志杰); control characters become spaces.
_INVISIBLE = re.compile(r"[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def is_cjk(ch: str) -> bool:
    """CJK ideographs (incl. extensions and compatibility forms), kana and hangul."""
    code = ord(ch)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x3FFFF
        or 0xF900 <= code <= 0xFAFF
        or 0x3040 <= code <= 0x30FF
        or 0xAC00 <= code <= 0xD7AF
        or ch == "〇"
    )


def has_text(text: str) -> bool:
    """Whether ``text`` holds anything searchable: a Han character, a Latin letter or a digit."""
    return _HAS_TEXT.search(text) is not None


def sentence_spans(text: str, *, at_semicolons: bool = True) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of ``text``: consecutive, covering every character
    (whitespace included), so ``text[s:e]`` pieces join back to ``text``."""
    pattern = _SENTENCE if at_semicolons else _SENTENCE_STRONG
    return [m.span() for m in pattern.finditer(text) if m.end() > m.start()]


def split_sentences(text: str, *, at_semicolons: bool = True) -> list[str]:
    """Sentences of ``text`` in order, each stripped and keeping its punctuation and closing
    quotes; never empty strings. ``at_semicolons=False`` keeps ；-joined clauses (and …) in
    one sentence, as an answer quotes them."""
    sentences = (text[s:e].strip() for s, e in sentence_spans(text, at_semicolons=at_semicolons))
    return [s for s in sentences if s]


class Simplifier(Protocol):
    def convert(self, text: str) -> str: ...


def make_simplifier() -> Simplifier:
    """Traditional → simplified converter (OpenCC tables, pure Python; ~0.1 s to build)."""
    from opencc import OpenCC

    return OpenCC("t2s")


def normalize_query(text: str, max_chars: int = 500, simplifier: Simplifier | None = None) -> str:
    """NFKC, no invisible or control characters, collapsed whitespace, traditional →
    simplified (with ``simplifier``), cut to ``max_chars``."""
    text = unicodedata.normalize("NFKC", _INVISIBLE.sub("", text))
    text = " ".join(_CONTROL.sub(" ", text).split())[:max_chars].rstrip()
    if simplifier is not None and text and not text.isascii():
        text = simplifier.convert(text)
    return text


def word_offsets(text: str, words: list[tuple[str, str]]) -> list[int]:
    """Where each of ``words`` ((word, tag) pairs, as the tagger cut ``text``) starts in ``text``,
    searching left to right; -1 for a word not found."""
    offsets: list[int] = []
    pos = 0
    for word, _ in words:
        at = text.find(word, pos)
        offsets.append(at)
        if at >= 0:
            pos = at + len(word)
    return offsets


def char_bigrams(text: str) -> list[str]:
    """Character bigrams over CJK runs (the classic keyword baseline), ASCII words whole."""
    grams: list[str] = []
    for run in re.findall(f"[{HAN}]+|[A-Za-z0-9]+", text.lower()):
        if run[0].isascii() or len(run) == 1:
            grams.append(run)
        else:
            grams.extend(run[i : i + 2] for i in range(len(run) - 1))
    return grams
