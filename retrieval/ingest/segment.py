"""Recover the articles of one PDF-extracted newspaper page.

Pipeline (all pure): :func:`retrieval.ingest.layout.read_lines` cleans and types each
line, :func:`retrieval.ingest.layout.split_blocks` cuts the page into bodies, headline
runs, bylines, photo credits and banners, and this module wires them together:
credits make their caption a photo, bylines go to the body they introduce (or,
at the end of a page, to the article whose headline they follow), and headline
runs are shared among nearby bodies by :func:`retrieval.ingest.headline.assign`.
Whatever is left (banners, headlines whose body is on another page, stray
bylines) becomes an article of kind ``"other"`` so that no text is lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.ingest.clean import join_lines
from retrieval.ingest.headline import (
    PREVIOUS_BONUS,
    Candidate,
    Element,
    assign,
    build_elements,
    compose_headline,
    gram_weights,
    grams,
)
from retrieval.ingest.layout import Block, read_lines, split_blocks
from retrieval.models import Article, ArticleKind

_DATELINE_RE = re.compile(
    r"(?:\d{4}年)?(?:\d{1,2}月)?\d{1,2}日(?:上午|下午|晚上|晚间|晚|凌晨|中午|早上|早晨|傍晚|夜间)?(?=[，,])"
)
# How far into the first paragraph a dateline may appear ("一杯清茶，共话发展。3月23日晚，").
_DATELINE_WINDOW = 40
# Headline runs look back at most this many unheaded bodies (bounds the search).
_MAX_PREVIOUS = 3


@dataclass(frozen=True)
class Segmentation:
    """The articles of a page plus every marker that was removed from the text.

    ``dropped`` holds the "本报讯" of each lead, the parentheses around an inline
    byline and the "摄" of each photo credit, so that callers (and tests) can
    account for every character of the page.
    """

    articles: tuple[Article, ...]
    dropped: tuple[str, ...]


@dataclass
class _Draft:
    """An article under construction (local to one call)."""

    order: int
    kind: ArticleKind = "other"
    body: list[str] = field(default_factory=list)
    elements: list[Element] = field(default_factory=list)
    bylines: list[str] = field(default_factory=list)
    headed: bool = False


def segment_page(text: str, source: str) -> list[Article]:
    """The articles of one page, in page order; ids are ``"<file stem>#<n>"``."""
    return list(segment(text, source).articles)


def segment(text: str, source: str) -> Segmentation:
    """Segment a page and report the markers dropped on the way (see :class:`Segmentation`)."""
    blocks = split_blocks(read_lines(text))
    dropped = tuple(marker for block in blocks for line in block.lines for marker in line.dropped)
    drafts: dict[int, _Draft] = {}  # keyed by block index
    extra: list[_Draft] = []
    for index, block in enumerate(blocks):
        if block.kind == "body":
            draft = _Draft(order=block.start, kind="news", body=[line.text for line in block.lines])
            draft.bylines.extend(line.byline for line in block.lines if line.byline)
            drafts[index] = draft
        elif block.kind == "banner":
            extra.append(_Draft(order=block.start, elements=build_elements(block.lines)))
    _attach_credits(blocks, drafts, extra)
    trailing = _attach_bylines(blocks, drafts)
    run_owner = _attach_headlines(blocks, drafts, extra)
    for index in trailing:
        _attach_trailing_byline(blocks, index, drafts, run_owner, extra)
    ordered = sorted([*drafts.values(), *extra], key=lambda d: d.order)
    stem = Path(source).stem
    articles = tuple(_finish(d, f"{stem}#{n}", source) for n, d in enumerate(ordered, start=1))
    return Segmentation(articles, dropped)


def _attach_credits(blocks: list[Block], drafts: dict[int, _Draft], extra: list[_Draft]) -> None:
    """A photo credit closes the caption right before it (headline runs may sit between)."""
    for index, block in enumerate(blocks):
        if block.kind != "credit":
            continue
        credit = " ".join(line.text for line in block.lines)
        back = index - 1
        while back >= 0 and blocks[back].kind == "head":
            back -= 1
        target = drafts.get(back)
        if target is not None and target.kind != "photo":
            target.kind = "photo"
            target.bylines.append(credit)
            target.order = min(target.order, block.start)
        else:
            extra.append(_Draft(order=block.start, bylines=[credit]))


def _skip_bylines(blocks: list[Block]) -> list[int]:
    """For each position, the index of the first block at or after it that is not a byline."""
    following = [len(blocks)] * (len(blocks) + 1)
    for index in range(len(blocks) - 1, -1, -1):
        following[index] = following[index + 1] if blocks[index].kind == "byline" else index
    return following


def _attach_bylines(blocks: list[Block], drafts: dict[int, _Draft]) -> list[int]:
    """Give each byline to the body that follows it; return bylines with no body after them."""
    trailing: list[int] = []
    following = _skip_bylines(blocks)
    for index, block in enumerate(blocks):
        if block.kind != "byline":
            continue
        target = drafts.get(following[index + 1])
        if target is None:
            trailing.append(index)
            continue
        target.bylines.insert(0, " ".join(line.text for line in block.lines))
        target.order = min(target.order, block.start)
    return trailing


def _attach_headlines(
    blocks: list[Block], drafts: dict[int, _Draft], extra: list[_Draft]
) -> dict[int, _Draft]:
    """Share every headline run among its candidate bodies; return the owner of each run's last group."""
    body_grams = {index: frozenset(grams("".join(d.body))) for index, d in drafts.items()}
    weights = gram_weights(list(body_grams.values()))
    default = max(weights.values(), default=1.0)
    owners: dict[int, _Draft] = {}
    following = _skip_bylines(blocks)
    last_run = -1
    for index, block in enumerate(blocks):
        if block.kind != "head":
            continue
        previous = [i for i in range(last_run + 1, index) if i in drafts and not drafts[i].headed]
        candidates = [Candidate(i, body_grams[i], PREVIOUS_BONUS) for i in previous[-_MAX_PREVIOUS:]]
        after = following[index + 1]
        if after in drafts and not drafts[after].headed:
            candidates.append(Candidate(after, body_grams[after]))
        last_run = index
        elements = build_elements(block.lines)
        for members, key in assign(elements, candidates, weights, default):
            chosen = [elements[i] for i in members]
            if key is None:
                owner = _Draft(order=chosen[0].start, elements=chosen)
                extra.append(owner)
            else:
                owner = drafts[key]
                owner.elements, owner.headed = chosen, True
                owner.order = min(owner.order, chosen[0].start)
            owners[index] = owner
    return owners


def _attach_trailing_byline(
    blocks: list[Block], index: int, drafts: dict[int, _Draft], owners: dict[int, _Draft], extra: list[_Draft]
) -> None:
    """A byline with no body after it (end of page) belongs to the article whose headline it follows."""
    byline = " ".join(line.text for line in blocks[index].lines)
    prev = index - 1
    target = owners.get(prev) if prev >= 0 and blocks[prev].kind == "head" else drafts.get(prev)
    if target is not None and not target.bylines:
        target.bylines.append(byline)
    else:
        extra.append(_Draft(order=blocks[index].start, bylines=[byline]))


def find_dateline(paragraph: str) -> str:
    """The date as printed near the start of the lead ("21日上午", "3月23日晚"), else ""."""
    match = _DATELINE_RE.search(paragraph[:_DATELINE_WINDOW])
    return match.group() if match else ""


def _finish(draft: _Draft, article_id: str, source: str) -> Article:
    title, subtitle = compose_headline(draft.elements)
    paragraphs = tuple(join_lines(draft.body))
    return Article(
        id=article_id,
        source=source,
        title=title,
        subtitle=subtitle,
        byline=" ".join(b for b in draft.bylines if b),
        dateline=find_dateline(paragraphs[0]) if paragraphs else "",
        kind=draft.kind,
        paragraphs=paragraphs,
    )
