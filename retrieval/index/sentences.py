"""Sentence vectors stored with the index, so answering re-scores candidate sentences by meaning
without running the model per question.

Chunk i's sentences are ``chunk_sentences(chunks[i].text)``; their vectors are rows
``offsets[i]:offsets[i + 1]`` of ``vectors`` (float16, (n_sentences, dim)); float16 halves the
file and memory, and the cosines it changes are below 1e-3, far under the re-rank's margins.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.text import split_sentences

VECTORS_FILE = "sentence_vectors.npy"
OFFSETS_FILE = "sentence_offsets.npy"


def chunk_sentences(text: str) -> list[str]:
    """The sentences of a chunk an answer can quote (``；`` keeps clauses together): the one
    definition shared by the index build and the answerer, so rows line up."""
    return split_sentences(text, at_semicolons=False)


@dataclass(frozen=True)
class SentenceVectors:
    """``offsets``: (n_chunks + 1,) int64; ``vectors``: (n_sentences, dim) float16."""

    offsets: np.ndarray
    vectors: np.ndarray

    @classmethod
    def from_rows(cls, per_chunk: list[np.ndarray], dim: int) -> SentenceVectors:
        """From one (k_i, dim) array per chunk, in chunk order."""
        counts = np.array([len(rows) for rows in per_chunk], dtype=np.int64)
        offsets = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(counts)])
        vectors = (np.concatenate(per_chunk).astype(np.float16) if int(offsets[-1])
                   else np.zeros((0, dim), dtype=np.float16))
        return cls(offsets, vectors)

    @property
    def chunks(self) -> int:
        return len(self.offsets) - 1

    def of_chunk(self, chunk_id: int) -> np.ndarray:
        """The chunk's sentence vectors, (k, dim) float16."""
        return self.vectors[self.offsets[chunk_id] : self.offsets[chunk_id + 1]]

    def row(self, chunk_id: int, sentence: int) -> np.ndarray | None:
        """Vector of the chunk's ``sentence``-th sentence as float32 (dim,), or None if the
        index has no such row."""
        if not 0 <= chunk_id < self.chunks:
            return None
        start, end = int(self.offsets[chunk_id]), int(self.offsets[chunk_id + 1])
        return self.vectors[start + sentence].astype(np.float32) if 0 <= sentence < end - start else None

    def save(self, folder: Path) -> None:
        np.save(folder / OFFSETS_FILE, self.offsets, allow_pickle=False)
        np.save(folder / VECTORS_FILE, self.vectors, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, chunks: int, dim: int) -> SentenceVectors | None:
        """The stored vectors, or None for an index built without them (older versions).
        Raises ValueError if they do not match the index's chunks and dimension."""
        if not (folder / OFFSETS_FILE).is_file():
            return None
        offsets = np.load(folder / OFFSETS_FILE, allow_pickle=False)
        vectors = np.load(folder / VECTORS_FILE, allow_pickle=False, mmap_mode="r")
        if (offsets.ndim != 1 or len(offsets) != chunks + 1 or vectors.ndim != 2 or vectors.shape[1] != dim
                or int(offsets[-1]) != vectors.shape[0] or vectors.dtype != np.float16):
            raise ValueError(f"sentence vectors do not match the index ({vectors.shape}, {len(offsets) - 1} chunks)")
        return cls(offsets.astype(np.int64), vectors)
