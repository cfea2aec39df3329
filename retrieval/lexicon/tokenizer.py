"""The index's keyword tokenizer: a private jieba instance that knows the corpus lexicon.

Never the global jieba: each index teaches its own instance the names mined from its corpus,
and keeps jieba's frequency total fixed so that a text's tokens depend only on the lexicon
words it contains (``retrieval.index.keywords`` relies on that to reuse tokens).
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field

import jieba
import jieba.posseg

from retrieval.lexicon.mining import Lexicon
from retrieval.lexicon.words import load_word_tags, word_set

logging.getLogger("jieba").setLevel(logging.WARNING)

STOPWORDS = word_set("stopwords")
_PUNCT_ONLY = re.compile(r"[\W_]+")


@dataclass
class WordTokenizer:
    """jieba search-mode tokenizer with a corpus lexicon; drops punctuation and stopwords.

    One instance per index: jieba's dictionary is loaded lazily on first use (~1 s).
    """

    lexicon: Lexicon = field(default_factory=Lexicon)
    _jieba: jieba.Tokenizer | None = field(default=None, init=False, repr=False)
    _tags: dict[str, str] | None = field(default=None, init=False, repr=False)
    _pos: jieba.posseg.POSTokenizer | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def tags(self) -> dict[str, str]:
        """jieba's part-of-speech table, loaded on first use."""
        if self._tags is None:
            self._tags = load_word_tags()
        return self._tags

    def _tokenizer(self) -> jieba.Tokenizer:
        if self._jieba is None:
            tok = jieba.Tokenizer()
            tok.initialize()
            total = tok.total
            people = set(self.lexicon.people)
            for word in self.lexicon.words:
                # tagged, so part-of-speech cuts know a mined name as a person or a place
                tok.add_word(word, freq=50_000, tag="nr" if word in people else "ns")
            # add_word raises the frequency total, which would re-weigh every route in every text;
            # kept fixed, a text's tokens depend only on the lexicon words it contains, so an
            # index update can reuse the tokens of untouched chunks (retrieval.token_cache).
            tok.total = total
            self._jieba = tok
        return self._jieba

    def tokens(self, text: str) -> list[str]:
        """Search-mode tokens of ``text``: words plus their sub-words, lower-cased."""
        out: list[str] = []
        for tok in self._tokenizer().cut_for_search(text):
            tok = tok.strip().lower()
            if tok and tok not in STOPWORDS and not _PUNCT_ONLY.fullmatch(tok):
                out.append(tok)
        return out

    def words(self, text: str) -> list[str]:
        """Plain (non-overlapping) words, for question parsing."""
        return [w for w in self._tokenizer().lcut(text) if w.strip()]

    def tagged(self, text: str) -> list[tuple[str, str]]:
        """(word, part-of-speech) pairs of ``text`` with jieba's tag set (nr person, ns place,
        nt organisation, m numeral, t time …); mined names are nr/ns. Blank words dropped."""
        with self._lock:
            if self._pos is None:  # reads jieba's dictionary once more (~0.5 s), on first use
                self._pos = jieba.posseg.POSTokenizer(self._tokenizer())
        return [(p.word, p.flag) for p in self._pos.cut(text) if p.word.strip()]
