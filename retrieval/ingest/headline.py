"""Headlines: build headline elements from a run of lines, pick title vs subtitle,
and attach headline runs to article bodies by content.

Headlines on extracted pages are not reliably next to their article: usually
after the body, sometimes before it, and sometimes two articles' headlines are
stacked in reverse order. So a run of headline lines is split into elements
(one printed headline line, possibly wrapped) and the elements are distributed
over nearby bodies by character-bigram overlap, solved exactly by dynamic
programming over (elements × candidate bodies).
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from retrieval.ingest.clean import normalise_spaces, text_width
from retrieval.ingest.layout import Line
from retrieval.text import is_cjk

# Scoring constants (tuned on the seed pages, see tests/test_segment.py):
# an element must cover at least THRESHOLD of its weighted bigrams in a body to
# be worth attaching; cutting a headline stack where the layout shows no
# boundary costs SPLIT_COST, so a weakly matching deck stays with its title.
THRESHOLD = 0.3
SPLIT_COST = 0.4
# Headlines follow their body more often than they precede it.
PREVIOUS_BONUS = 0.05

# A printed headline line wraps at most a few times; longer stacks are split
# (this also keeps joining linear on hostile input).
_MAX_ELEMENT_LINES = 4
_COUPLET_RE = re.compile(r"[\u4e00-\u9fff”’》）\w] [“‘《（\u4e00-\u9fff\w]")


@dataclass(frozen=True)
class Element:
    """One printed headline line (wrapped lines already joined)."""

    text: str
    couplet: bool
    forced: bool
    start: int


@dataclass(frozen=True)
class Candidate:
    """A body a headline run may belong to."""

    key: int
    grams: frozenset[str]
    bonus: float = 0.0


def is_couplet(text: str) -> bool:
    """Two or more phrases separated by a space: "紧抓工业不放 打造工业强镇"."""
    return _COUPLET_RE.search(text) is not None


def build_elements(lines: Sequence[Line]) -> list[Element]:
    """Join the lines of a headline run into elements.

    Lines printed without a blank line between them belong together: a wrapped
    title ("我市举行烈士" + "纪念日公祭活动") is joined without a space; two
    equal-width lines are the halves of a two-phrase headline and get a space;
    a short line under a two-phrase line continues the deck. A leading space or a
    switch between bold (doubled) and plain text always starts a new element,
    and marks a hard boundary between headlines.
    """
    elements: list[Element] = []
    parts: list[str] = []
    count = 0
    head: Line | None = None
    forced = True
    prev: Line | None = None
    for line in lines:
        joiner = None
        same_block = prev is not None and not line.gap_before and not line.indent
        if same_block and prev is not None and line.doubled == prev.doubled and count < _MAX_ELEMENT_LINES:
            joiner = _joiner("".join(parts), count, prev, line)
        if joiner is None:
            if head is not None:
                elements.append(_element(parts, head, forced))
            forced = prev is None or line.indent or line.doubled != prev.doubled
            parts, count, head = [line.text], 1, line
        else:
            parts.extend((joiner, line.text))
            count += 1
        prev = line
    if head is not None:
        elements.append(_element(parts, head, forced))
    return elements


def _element(parts: list[str], head: Line, forced: bool) -> Element:
    text = normalise_spaces("".join(parts))
    return Element(text, is_couplet(text), forced, head.number)


def _joiner(current: str, count: int, prev: Line, line: Line) -> str | None:
    """How to join ``line`` to the element ending with ``prev``; None starts a new element."""
    text = normalise_spaces(current)
    if is_couplet(text):
        widest = max(text_width(p) for p in text.split())
        return " " if line.width <= widest + 1 and not is_couplet(line.text) else None
    if is_couplet(line.text):
        return None
    if count == 1 and abs(prev.width - line.width) < 0.25 and line.width >= 4 and not line.doubled:
        return " "
    return ""


def compose_headline(elements: Sequence[Element]) -> tuple[str, str]:
    """(title, subtitle) of one article's headline elements.

    Rule: the title is the first element that is not a two-phrase slogan (the
    factual line: "朱志杰赴古山镇开展“三服务”活动", "我市对小微企业园建设再动员再部署再推进");
    every other element, in page order, goes to the subtitle, joined by spaces.
    If all elements are slogans, the first one is the title.
    """
    texts = [e for e in elements if e.text]
    if not texts:
        return "", ""
    index = next((i for i, e in enumerate(texts) if not e.couplet), 0)
    rest = [e.text for i, e in enumerate(texts) if i != index]
    return texts[index].text, " ".join(rest)


def grams(text: str) -> list[str]:
    """Character bigrams of each run of ideographs/alphanumerics (single chars stand alone)."""
    out: list[str] = []
    for run in re.findall(r"[\w]+", text):
        chars = [c for c in run if is_cjk(c) or c.isalnum()]
        if len(chars) == 1:
            out.append(chars[0])
        out.extend(a + b for a, b in itertools.pairwise(chars))
    return out


def gram_weights(bodies: Sequence[frozenset[str]]) -> dict[str, float]:
    """Inverse document frequency of each gram over the page's bodies."""
    df: Counter[str] = Counter()
    for body in bodies:
        df.update(body)
    total = len(bodies)
    return {g: math.log(1 + (total + 1) / (count + 1)) for g, count in df.items()}


def similarity(text: str, body: frozenset[str], weights: dict[str, float], default: float) -> float:
    """Weighted share of the headline's bigrams that occur in the body (0..1)."""
    items = grams(text)
    if not items:
        return 0.0
    total = sum(weights.get(g, default) for g in items)
    hit = sum(weights.get(g, default) for g in items if g in body)
    return hit / total if total else 0.0


_State = tuple[int, int]
# state → (best score, previous state, does this element open a new group?)
_Layer = dict[_State, tuple[float, _State | None, bool]]


def _offer(layer: _Layer, state: _State, score: float, back: _State, new: bool) -> None:
    """Keep the better of two ways to reach ``state`` (the first one on ties, for determinism)."""
    best = layer.get(state)
    if best is None or score > best[0] + 1e-9:
        layer[state] = (score, back, new)


def assign(
    elements: Sequence[Element], candidates: Sequence[Candidate], weights: dict[str, float], default: float
) -> list[tuple[list[int], int | None]]:
    """Split a run's elements into contiguous groups, each given to a distinct body or to none.

    Maximises Σ (similarity − THRESHOLD + bonus) over attached elements minus
    SPLIT_COST per cut that the layout does not mark. Returns
    (element indices, candidate key or None) in page order.
    """
    if not elements:
        return []
    cands = list(candidates)[:6]  # bounded state space (2^6 masks)
    gain = [
        [similarity(e.text, c.grams, weights, default) - THRESHOLD + c.bonus for c in cands] for e in elements
    ]
    # A state is (mask of bodies used so far, body of the current group or -1 for none).
    first: _Layer = {(0, -1): (0.0, None, True)}
    for c in range(len(cands)):
        first[(1 << c, c)] = (gain[0][c], None, True)
    layers = [first]
    for i in range(1, len(elements)):
        layer: _Layer = {}
        for (mask, cur), (score, _, _) in layers[-1].items():
            if not elements[i].forced:  # keep the element in the current group
                _offer(layer, (mask, cur), score + (gain[i][cur] if cur >= 0 else 0.0), (mask, cur), False)
            cost = 0.0 if elements[i].forced else SPLIT_COST
            _offer(layer, (mask, -1), score - cost, (mask, cur), True)
            for c in range(len(cands)):
                if not mask & (1 << c):
                    _offer(layer, (mask | (1 << c), c), score - cost + gain[i][c], (mask, cur), True)
        layers.append(layer)
    state = max(layers[-1], key=lambda s: (layers[-1][s][0], -bin(s[0]).count("1")))
    path: list[tuple[int, bool]] = []
    for i in range(len(elements) - 1, -1, -1):
        _, back, new = layers[i][state]
        path.append((state[1], new))
        if back is not None:
            state = back
    path.reverse()
    groups: list[tuple[list[int], int | None]] = []
    for i, (cur, new) in enumerate(path):
        key = cands[cur].key if cur >= 0 else None
        if new or not groups:
            groups.append(([i], key))
        else:
            groups[-1][0].append(i)
    return groups
