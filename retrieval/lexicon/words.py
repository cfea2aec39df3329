"""Read word lists: ours in ``retrieval/lexicon/data/`` (``.txt`` one entry per line, ``.tsv`` two
columns, ``#`` comments) and jieba's part-of-speech dictionary.

Each file says in its header where its entries come from. Lists are data, not code, so a
deployment can review them and a change to one is a one-line diff.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import jieba


def _lines(filename: str) -> list[str]:
    text = resources.files("retrieval.lexicon").joinpath("data", filename).read_text(encoding="utf-8")
    entries = (line.strip() for line in text.splitlines())
    return [e for e in entries if e and not e.startswith("#")]


@cache
def word_list(name: str) -> tuple[str, ...]:
    """The entries of ``data/<name>.txt`` in file order (blank lines and ``#`` lines skipped)."""
    return tuple(_lines(f"{name}.txt"))


@cache
def word_table(name: str) -> dict[str, str]:
    """``data/<name>.tsv`` as {first column: second column}, in file order."""
    table: dict[str, str] = {}
    for line in _lines(f"{name}.tsv"):
        key, _, value = line.partition("\t")
        table[key.strip()] = value.strip()
    return table


def word_set(name: str) -> frozenset[str]:
    """The entries of ``data/<name>.txt`` as a set."""
    return frozenset(word_list(name))


@cache
def load_word_tags() -> dict[str, str]:
    """Part-of-speech tags of jieba's bundled dictionary (word → tag), read once per process
    (~0.5 s) and shared by every caller (tokenizers of each index version, mining, the
    generation guard): callers must not modify it."""
    tags: dict[str, str] = {}
    with jieba.get_dict_file() as fh:
        for raw in fh:
            parts = raw.decode("utf-8").split()
            if len(parts) == 3:
                tags[parts[0]] = parts[2]
    return tags
