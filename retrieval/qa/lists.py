"""Complete answers to list questions about a person ("朱志杰去过哪些镇", "章旭升参加了哪些活动").

All articles naming the person are found through the keyword posting list (an
inverted index, not a scan and not top-k), then items are extracted only from
sentences where that person is the one acting, so a town visited by someone else
in the same archive is never listed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import cn2an

from retrieval.index.article_index import ArticleIndex
from retrieval.lexicon.mining import find_places
from retrieval.lexicon.places import find_countries, find_provinces
from retrieval.models import AnswerItem, Article, Citation
from retrieval.qa.question import AUTHORED_KINDS, EVENT_KINDS, Question
from retrieval.text import split_sentences

_VISIT = re.compile(r"出访|访问|前往|赴|来到|到达|深入|走访|调研|考察|视察|督查|检查|察看|看望|慰问|实地|带队|到")
# A visit verb followed, within one clause (、-lists allowed), by the place at the end.
_VISITED = re.compile(r"(?:出访|访问|前往|赴|来到|到达|深入|走访|调研|考察|视察|督查|检查|察看|看望|慰问|到)[^，。；：！？]{0,40}$")
_MOVE_OBJECT = re.compile(
    r"(?:前往|赴|来到|到达|深入|走访了?|调研|考察|视察|察看)([^，。、；：“”\s]{2,16}?)"
    r"(?=开展|调研|督查|检查|考察|视察|参加|看望|慰问|进行|召开|举行|，|。|、|；|等|的|$)"
)
_EVENT = re.compile(
    r"(?:召开|举行|举办|开展|参加|出席|主持召开|主持)(?:了)?([^，。；：]{2,40}?(?:活动|会议|大会|推进会|座谈会|"
    r"汇报会|交流会|例会|常务会议|现场会|发布会|论坛|仪式|典礼|会))"
)
_HEADLINE_VERB = re.compile(r"^(?:在|参加|出席|主持|赴|带队|调研|督查|考察|视察)")
_HEADLINE_TAIL = re.compile(r"(?:上|时|中)?(?:强调|指出|要求|表示|提出|说)$|与企业家面对面$")


@dataclass(frozen=True)
class _Found:
    label: str
    evidence: str
    article: Article


def entity_articles(index: ArticleIndex, entity: str) -> list[Article]:
    """Every article whose text names ``entity``, oldest page order kept."""
    chunk_ids = index.chunks_with_token(entity.lower())
    article_ids = {index.chunks[int(i)].article_id for i in chunk_ids}
    if not article_ids:  # an entity jieba never saw as one token: fall back to the sub-tokens
        tokens = index.tokenizer.tokens(entity)
        sets = [{index.chunks[int(i)].article_id for i in index.chunks_with_token(t)} for t in tokens]
        article_ids = set.intersection(*sets) if sets else set()
    by_id = index.article_by_id
    hits = [by_id[a] for a in article_ids if a in by_id]
    hits = [a for a in hits if entity in a.headline or entity in a.text]
    order = {a.id: n for n, a in enumerate(index.articles)}
    return sorted(hits, key=lambda a: order[a.id])


def _sentences(article: Article) -> list[str]:
    return split_sentences(article.text, at_semicolons=False)


def actor_sentences(article: Article, entity: str) -> list[str]:
    """Sentences in which ``entity`` acts: the headline and the lead when they name the
    entity, plus later sentences naming it. Empty if the entity is only mentioned in passing
    inside someone else's story (e.g. listed among attendees of another's visit)."""
    sentences = _sentences(article)
    lead = sentences[:2]
    out: list[str] = []
    if entity in article.headline:
        out.append(article.headline)
    out.extend(s for s in lead if entity in s)
    if not out:
        return []
    # Once established as the actor, the body's sentences about "一行/服务团/督查组" are theirs too.
    out.extend(s for s in sentences[2:] if entity in s or re.search(r"一行|服务团|督查组|调研组", s))
    return out


def _place_items(article: Article, q: Question, tags: dict[str, str]) -> list[_Found]:
    found: list[_Found] = []
    for sentence in actor_sentences(article, q.entity):
        if not _VISIT.search(sentence):
            continue
        if q.place_suffixes == ("省",):
            names = [name for _, name in find_provinces(sentence)]
        elif q.place_suffixes == ("国",):
            names = [name for _, name in find_countries(sentence)]
        elif q.place_suffixes:
            names = [name for _, name in find_places(sentence, tags) if name.endswith(q.place_suffixes)]
        else:
            names = [name for _, name in find_places(sentence, tags)]
            names += [m.group(1) for m in _MOVE_OBJECT.finditer(sentence)]
        start = sentence.find(q.entity)
        for name in names:
            # The place must follow the person ("X赴古山镇") and be the object of a visit verb
            # (前往古山镇, 走访了溪塘村、上丁村), not an attendee's unit listed before the verb.
            pos = sentence.find(name)
            if (start >= 0 and pos < start) or not _VISITED.search(sentence[max(0, start) : pos + len(name)]):
                continue
            for item in [name, *_expanded(name, sentence, article, tags)]:
                if item != q.entity and all(item not in f.label and f.label not in item for f in found):
                    found.append(_Found(item, sentence, article))
    return found


_NUMERALS = "0123456789一二两三四五六七八九十"


def _expanded(name: str, sentence: str, article: Article, tags: dict[str, str]) -> list[str]:
    """The other places behind "古山镇等3镇": when ``name`` is followed by 等 and a count of its
    own kind, and the article names exactly that many places of the kind (以古山镇、方岩镇和舟山镇
    为主体), all of them; otherwise none (the count cannot be filled with certainty)."""
    at = sentence.find(name)
    rest = sentence[at + len(name) :] if at >= 0 else ""
    if not rest.startswith("等"):
        return []
    digits = ""
    for ch in rest[1:]:
        if ch not in _NUMERALS:
            break
        digits += ch
    kind = next((s for s in ("街道", "社区", "镇", "村") if name.endswith(s)), "")
    tail = rest[1 + len(digits) :].removeprefix("个")
    if not digits or not kind or not tail.startswith(kind):
        return []
    try:
        count = int(digits) if digits.isdigit() else int(cn2an.cn2an(digits, "normal"))
    except ValueError:
        return []
    named = list(dict.fromkeys(n for _, n in find_places(article.headline + "\n" + article.text, tags)
                               if n.endswith(kind)))
    return [n for n in named if n != name] if len(named) == count and name in named else []


def _headline_event(article: Article, entity: str) -> str:
    for line in (article.title, article.subtitle):
        if entity in line:
            rest = line[line.find(entity) + len(entity) :]
            rest = _HEADLINE_TAIL.sub("", _HEADLINE_VERB.sub("", rest)).strip()
            if len(rest) >= 4:
                return rest
    return ""


def _event_item(article: Article, q: Question) -> _Found | None:
    sentences = actor_sentences(article, q.entity)
    in_attendance = [s for s in _sentences(article) if q.entity in s and re.search(r"参加|出席|主持|参会", s)]
    if not sentences and not in_attendance:
        return None
    label = _headline_event(article, q.entity)
    evidence = (sentences or in_attendance)[0]
    if not label:
        for sentence in _sentences(article)[:3] + in_attendance:
            m = _EVENT.search(sentence)
            if m:
                label, evidence = m.group(1).strip(), sentence
                break
    return _Found(label or article.display_title, evidence, article)


def in_window(article: Article, years: tuple[str, ...], months: tuple[int, ...]) -> bool:
    """Whether the article's date falls in the asked years and months ("2019年", "7月份");
    an article whose date says nothing of a year or month asked for is kept."""
    if article.date:  # ISO: the archive states it
        year, month = article.date[:4], int(article.date[5:7])
        return (not years or year in years) and (not months or month in months)
    printed = article.dateline
    if months and "月" in printed:
        head = printed.split("月", 1)[0][-2:].lstrip("年")
        return not head.isdigit() or int(head) in months
    return True


def aggregate(
    index: ArticleIndex, q: Question, max_items: int = 50, required: tuple[str, ...] = (),
    years: tuple[str, ...] = (), months: tuple[int, ...] = (),
) -> tuple[list[AnswerItem], int]:
    """Items for a person-centred list question, each citing its own article(s).

    ``required`` names (other people or places in the question) must all occur in an
    article for it to count; ``years`` and ``months`` restrict articles to a time window
    (``in_window``). Returns (items, total) where total counts items before truncation to
    ``max_items``.
    """
    found: list[_Found] = []
    authored = q.item_kind in AUTHORED_KINDS
    articles = index.articles_by_byline_name.get(q.entity, []) if authored else entity_articles(index, q.entity)
    for article in articles:
        if required and not all(n in article.headline or n in article.text for n in required):
            continue
        if (years or months) and not in_window(article, years, months):
            continue
        if authored:
            wanted_kind = AUTHORED_KINDS[q.item_kind]
            if q.entity in article.byline and (not wanted_kind or article.kind == wanted_kind):
                lead = _sentences(article)[:1]
                found.append(_Found(article.display_title, lead[0] if lead else article.headline, article))
        elif q.item_kind in EVENT_KINDS:
            item = _event_item(article, q)
            if item:
                found.append(item)
        else:
            found.extend(_place_items(article, q, index.tokenizer.tags))
    merged: dict[str, list[_Found]] = {}
    for f in found:
        merged.setdefault(f.label, []).append(f)
    items = [
        AnswerItem(
            label=label,
            evidence=group[0].evidence,
            citations=tuple(
                Citation(f.article.id, f.article.display_title, f.article.when, f.article.source, f.evidence)
                for f in group
            ),
        )
        for label, group in merged.items()
    ]
    return items[:max_items], len(items)


def render_list(lead: str, items: Sequence[AnswerItem], total: int) -> str:
    """``lead`` + "共 N 个：" then one numbered line per item with its first citation's date and
    title (and how many more articles say it); ``total`` counts items before truncation."""
    head = f"{lead}共 {total} 个：" if total == len(items) else f"{lead}共 {total} 个，以下列出前 {len(items)} 个："
    lines = [head]
    for n, item in enumerate(items, 1):
        first = item.citations[0]
        when = f"{first.date}，" if first.date else ""
        more = f"等 {len(item.citations)} 篇" if len(item.citations) > 1 else ""
        lines.append(f"{n}. {item.label}（{when}《{first.title}》{more}）")
    return "\n".join(lines)


def cited_articles(items: Sequence[AnswerItem]) -> tuple[Citation, ...]:
    """Every article the items cite, once each, in item order."""
    seen: dict[str, Citation] = {}
    for item in items:
        for c in item.citations:
            seen.setdefault(c.article_id, c)
    return tuple(seen.values())
