"""Pre-processing for the reader: question + passage → fixed-size token windows with offsets.

Each window is laid out as XLM-R's sentence pair, ``<s> question </s></s> passage slice </s>``,
at most ``max_tokens`` long. A passage longer than one window is cut into overlapping slices
(``stride`` tokens shared by neighbours), so an answer near a cut is whole in at least one
window. Every passage token keeps its character span in the passage, which is how a predicted
token span becomes a character span; question and special tokens carry ``(-1, -1)``.

Numpy first: a :class:`WindowBatch` holds ``(n_windows, max_len)`` int64 arrays ready for the
model, plus per-window offsets and the index of the passage each window came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

MAX_TOKENS = 256  # window length, special tokens included
STRIDE = 96  # tokens shared by neighbouring windows of one passage
MAX_QUESTION_TOKENS = 64  # longer questions keep their last tokens (the interrogative is usually there)
NO_SPAN = (-1, -1)


@dataclass(frozen=True)
class Encoded:
    """A text's pieces without special tokens: ids ``(n,)`` and character spans ``(n, 2)``."""

    ids: np.ndarray
    spans: np.ndarray


@dataclass
class WindowBatch:
    """Model inputs for a batch of windows.

    ``input_ids``/``attention_mask``: ``(n_windows, max_len)`` int64, right-padded.
    ``offsets``: ``(n_windows, max_len, 2)`` int32 character spans into the window's passage;
    ``(-1, -1)`` for question, special and padding tokens, so only passage tokens can be answers.
    ``passage``: ``(n_windows,)`` int32, the index of each window's passage in the input list.
    """

    input_ids: np.ndarray
    attention_mask: np.ndarray
    offsets: np.ndarray
    passage: np.ndarray

    def __len__(self) -> int:
        return int(self.input_ids.shape[0])


class WindowMaker:
    """Tokenises questions and passages and lays them out as windows (thread-safe)."""

    def __init__(self, tokenizer: Tokenizer, max_tokens: int = MAX_TOKENS, stride: int = STRIDE,
                 max_question_tokens: int = MAX_QUESTION_TOKENS) -> None:
        if stride >= max_tokens - max_question_tokens - 4:
            raise ValueError("stride must leave room for new passage tokens in every window")
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        self.stride = stride
        self.max_question_tokens = max_question_tokens
        self.bos = _special_id(tokenizer, "<s>", "[CLS]")
        self.eos = _special_id(tokenizer, "</s>", "[SEP]")
        self.pad = _special_id(tokenizer, "<pad>", "[PAD]")

    @classmethod
    def from_folder(cls, model_dir: Path, **kwargs: int) -> WindowMaker:
        """From a model folder's ``tokenizer.json``."""
        return cls(Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json")), **kwargs)

    def encode(self, texts: Sequence[str]) -> list[Encoded]:
        """Pieces of each text, without special tokens. Pieces that cover no character (a bare
        word-start marker) are dropped: they can neither start nor end an answer."""
        out = []
        for enc in self.tokenizer.encode_batch(list(texts), add_special_tokens=False):
            spans = np.array(enc.offsets, dtype=np.int32).reshape(-1, 2)
            keep = spans[:, 1] > spans[:, 0]
            out.append(Encoded(np.array(enc.ids, dtype=np.int64)[keep], spans[keep]))
        return out

    def slices(self, question_len: int, passage_len: int) -> list[tuple[int, int]]:
        """Token ranges ``[a, b)`` of a passage of ``passage_len`` pieces, one per window."""
        room = self.max_tokens - min(question_len, self.max_question_tokens) - 4
        out, a = [], 0
        while True:
            b = min(a + room, passage_len)
            out.append((a, b))
            if b >= passage_len:
                return out
            a = b - self.stride

    def window(self, question: Encoded, passage: Encoded, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        """Token ids ``(len,)`` and character spans ``(len, 2)`` of the window over pieces ``[a, b)``."""
        q = question.ids[-self.max_question_tokens :]
        ids = np.concatenate([[self.bos], q, [self.eos, self.eos], passage.ids[a:b], [self.eos]])
        spans = np.full((len(ids), 2), -1, dtype=np.int32)
        first = len(q) + 3
        spans[first : first + b - a] = passage.spans[a:b]
        return ids.astype(np.int64), spans

    def make(self, question: str, passages: Sequence[str]) -> WindowBatch:
        """Every window of every passage for one question, in passage order."""
        q, *encoded = self.encode([question, *passages])
        return self._lay_out([(q, p) for p in encoded])

    def make_pairs(self, pairs: Sequence[tuple[str, str]]) -> WindowBatch:
        """Every window of each ``(question, passage)`` pair; ``passage`` indexes ``pairs``."""
        encoded = self.encode([text for pair in pairs for text in pair])
        return self._lay_out(list(zip(encoded[0::2], encoded[1::2], strict=True)))

    def _lay_out(self, pairs: Sequence[tuple[Encoded, Encoded]]) -> WindowBatch:
        rows, owner = [], []
        for i, (q, passage) in enumerate(pairs):
            for a, b in self.slices(len(q.ids), len(passage.ids)):
                rows.append(self.window(q, passage, a, b))
                owner.append(i)
        return self.pad_rows(rows, owner)

    def pad_rows(self, rows: Sequence[tuple[np.ndarray, np.ndarray]], owner: Sequence[int]) -> WindowBatch:
        """Stack windows of unequal length into one right-padded :class:`WindowBatch`."""
        width = max((len(ids) for ids, _ in rows), default=0)
        n = len(rows)
        input_ids = np.full((n, width), self.pad, dtype=np.int64)
        mask = np.zeros((n, width), dtype=np.int64)
        offsets = np.full((n, width, 2), -1, dtype=np.int32)
        for r, (ids, spans) in enumerate(rows):
            input_ids[r, : len(ids)] = ids
            mask[r, : len(ids)] = 1
            offsets[r, : len(ids)] = spans
        return WindowBatch(input_ids, mask, offsets, np.asarray(owner, dtype=np.int32))


def _special_id(tokenizer: Tokenizer, *names: str) -> int:
    for name in names:
        found = tokenizer.token_to_id(name)
        if found is not None:
            return int(found)
    raise ValueError(f"the tokenizer has none of the special tokens {names}")
