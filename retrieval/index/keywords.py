"""Keyword search: BM25 over jieba tokens, and the tokens kept beside the index so an update
re-tokenises only the chunks that changed.

jieba search-mode tokenisation is most of a build without the model (about 30 s for 16k chunks
on 2 cores), so redoing it for a one-page update would dominate the update. Tokenisation is a
pure function of the chunk text and of the lexicon words that occur in it (``WordTokenizer``
keeps jieba's frequency total fixed, so words elsewhere in the lexicon cannot change it):
a chunk's stored tokens are reused when its text is unchanged and no word that entered or left
the lexicon occurs in it.

File format (``tokens.npz``, listed in the manifest's checksums like every data file):
``vocab`` one string of ``\\n``-joined tokens, ``ids`` (total tokens,) uint32 into it,
``offsets`` (chunks + 1,) int64, row i's tokens are ``ids[offsets[i]:offsets[i + 1]]``.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np

from retrieval.lexicon.mining import Lexicon, word_automaton
from retrieval.lexicon.tokenizer import WordTokenizer
from retrieval.models import ProgressFn

log = logging.getLogger(__name__)
# bm25s sets its own logger to DEBUG on import, which prints "Building index from IDs" into
# every terminal and log; its progress is ours to report.
logging.getLogger("bm25s").setLevel(logging.WARNING)

TOKENS_FILE = "tokens.npz"


def token_ids(token_lists: Sequence[list[str]]) -> tuple[list[list[int]], dict[str, int]]:
    """Each chunk's tokens as ids into a vocabulary (token → id, in order of first use):
    what bm25s indexes and what :func:`save_token_ids` stores."""
    vocab: dict[str, int] = {}
    put = vocab.setdefault
    return [[put(t, len(vocab)) for t in tokens] for tokens in token_lists], vocab


def make_keyword_index(token_lists: Sequence[list[str]]) -> bm25s.BM25:
    """BM25 (bm25s defaults: Lucene variant, k1=1.5, b=0.75) over pre-tokenised chunks."""
    return keyword_index_from_ids(*token_ids(token_lists))


def keyword_index_from_ids(id_lists: Sequence[list[int]], vocab: dict[str, int]) -> bm25s.BM25:
    """The same BM25 from chunks already mapped to ids by ``token_cache.token_ids``; bm25s
    appends the empty token "" to ``vocab`` (in place) if it is missing."""
    retriever = bm25s.BM25()
    if not id_lists:  # bm25s cannot index an empty corpus; one empty doc keeps shapes consistent
        id_lists, vocab = [[0]], {"": 0}
    retriever.index((list(id_lists), vocab), show_progress=False)
    return retriever


def save_token_ids(path: Path, id_lists: Sequence[list[int]], vocab: dict[str, int]) -> bool:
    """Write one id list per chunk (in chunk order) with its ``vocab`` to ``path``; False
    (nothing written) if a token holds a newline, which the format cannot carry."""
    words = [""] * len(vocab)
    for word, i in vocab.items():
        words[i] = word
    if any("\n" in w for w in words):
        log.warning("a keyword token contains a newline; not caching tokens")
        return False
    offsets = np.zeros(len(id_lists) + 1, dtype=np.int64)
    np.cumsum([len(ids) for ids in id_lists], out=offsets[1:])
    ids = np.fromiter(itertools.chain.from_iterable(id_lists), dtype=np.uint32, count=int(offsets[-1]))
    with path.open("wb") as fh:
        np.savez(fh, vocab=np.array("\n".join(words)), ids=ids, offsets=offsets)
    return True


@dataclass(frozen=True)
class TokenCache:
    """Tokens of a previous index version's chunks, looked up by chunk text digest."""

    lexicon: Lexicon
    rows: dict[str, int]  # text digest → row
    vocab: list[str]
    ids: np.ndarray
    offsets: np.ndarray

    def get(self, digest: str) -> list[str] | None:
        row = self.rows.get(digest)
        if row is None:
            return None
        vocab = self.vocab
        return [vocab[i] for i in self.ids[self.offsets[row] : self.offsets[row + 1]].tolist()]


def load_token_cache(folder: Path, digests: Sequence[str], lexicon: Lexicon) -> TokenCache | None:
    """The cache of the version in ``folder`` whose chunks have text ``digests`` (in order);
    None if it has none or it does not fit (older index format, damaged file)."""
    path = folder / TOKENS_FILE
    if not path.is_file():
        return None
    try:
        with np.load(path) as data:
            vocab, ids, offsets = str(data["vocab"]).split("\n"), data["ids"], data["offsets"]
    except (OSError, ValueError, KeyError) as exc:
        log.warning("ignoring unreadable token cache %s: %s", path, exc)
        return None
    if len(offsets) != len(digests) + 1 or (len(ids) and int(ids.max()) >= len(vocab)):
        log.warning("ignoring token cache %s: it does not match the index", path)
        return None
    return TokenCache(lexicon, {d: i for i, d in enumerate(digests)}, vocab, ids, offsets)


def contains_any(words: Iterable[str]) -> Callable[[str], bool]:
    """A test for whether a text contains any of ``words`` (one Aho-Corasick pass per text)."""
    automaton = word_automaton(words)
    if automaton is None:
        return lambda text: False
    return lambda text: next(automaton.iter(text), None) is not None


#: Tokenises many texts at once with a lexicon: ``(lexicon, texts) -> tokens per text``, in
#: order. The default is :meth:`WordTokenizer.tokens` in this process; a Ray build passes one
#: that spreads the texts over its workers (``retrieval.index.ray_build``).
BatchTokenizer = Callable[[Lexicon, list[str]], list[list[str]]]


def tokenize_chunks(
    texts: Sequence[str], digests: Sequence[str], tokenizer: WordTokenizer,
    previous: TokenCache | None = None, progress: ProgressFn | None = None,
    batch_tokenizer: BatchTokenizer | None = None,
) -> tuple[list[list[str]], int]:
    """Keyword tokens for each of ``texts`` (with their ``digests``) and how many were
    tokenised afresh; the rest come from ``previous`` where that is exact (module docstring).
    ``batch_tokenizer`` tokenises the fresh ones elsewhere; it must give what
    ``tokenizer.tokens`` gives (same lexicon, same jieba)."""
    touched = contains_any(set(tokenizer.lexicon.words) ^ set(previous.lexicon.words)) if previous else None
    token_lists: list[list[str] | None] = []
    fresh_rows: list[int] = []
    for i, (text, digest) in enumerate(zip(texts, digests, strict=True)):
        cached = previous.get(digest) if previous is not None and touched is not None else None
        if cached is None or touched(text):  # type: ignore[misc]
            fresh_rows.append(i)
            cached = None
        token_lists.append(cached)
    if batch_tokenizer is not None and fresh_rows:
        fresh = batch_tokenizer(tokenizer.lexicon, [texts[i] for i in fresh_rows])
        if len(fresh) != len(fresh_rows):
            raise RuntimeError(f"batch tokenizer returned {len(fresh)} token lists for {len(fresh_rows)} texts")
        for i, tokens in zip(fresh_rows, fresh, strict=True):
            token_lists[i] = tokens
        if progress:
            progress("keywords", len(texts), len(texts))
    else:
        for done, i in enumerate(fresh_rows, 1):
            token_lists[i] = tokenizer.tokens(texts[i])
            if progress and done % 2000 == 0:
                progress("keywords", done, len(fresh_rows))
    return token_lists, len(fresh_rows)  # type: ignore[return-value]
