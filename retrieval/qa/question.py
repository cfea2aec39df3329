"""Question parsing: is it a list question, about whom, asking for what kind of item.

Pure functions over the question text and the corpus lexicon; no model involved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from retrieval.lexicon.mining import Lexicon
from retrieval.lexicon.words import word_set

# Kinds of item a list question can ask for, by the noun that names them.
PLACE_KINDS = {
    "镇": ("镇",), "乡镇": ("镇",), "村": ("村",), "村庄": ("村",), "社区": ("社区",), "街道": ("街道",),
    "镇街": ("镇", "街道"), "省": ("省",), "省份": ("省",), "省区": ("省",), "省市": ("省",),
    "国家": ("国",), "国": ("国",), "地方": (), "地点": (), "哪里": (), "哪儿": (), "地区": (), "场所": (),
}
# Things a reporter or photographer makes: answered from bylines.
AUTHORED_KINDS = {"照片": "photo", "图片": "photo", "报道": "", "文章": "", "新闻": "", "稿子": "", "稿件": ""}
EVENT_KINDS = {"活动", "会议", "会", "大会", "工作", "调研", "检查", "督查", "考察", "事", "事情", "项目"}

_LIST_CUE = re.compile(r"哪些|哪几|几个|都去|都到|都参加|都出席|有哪|分别|都有什么|都做了|多少个")
_PLACE_CUE = re.compile(r"(去过|到过|走访过?|调研过?|考察过?|视察过?|去了|到了)(哪里|哪儿|什么地方|哪些地方|何处)")
_ASK_NOUN = re.compile(r"(?:哪些|哪几个|哪几|几个|什么)([\u4e00-\u9fff]{1,4})")
_QUESTION_WORDS = re.compile(r"哪|什么|啥|怎么|怎样|如何|多少|多大|多久|多长|几个|几位|几家|几岁|是否|有没有|吗|呢|？|\?")
_ACTOR_VERBS = re.compile(r"拍摄|拍|写|采写|发表|出访|访问|去过|到过|参加|出席|主持|调研|走访|考察|视察|督查|检查|开展|召开|带队|赴|去|到|参与")


# Verbs and nouns that only shape a question ("是在哪个村拍的", "搞了什么").
_FILLER = frozenset(["所", "搞", "是", "有", "在", "被", "去", "到", "了", "的", "呢", "吧", "请", "问", "说", "讲", "做", "为", "样", "里", "位", "家", "种", "项", "次", "年", "月", "日", "时候"])
# Nouns that ask for a kind of answer rather than name a topic: never "unseen" evidence.
GENERIC_FOCUS = frozenset(
    ["地方", "时候", "时间", "日子", "人", "方面", "问题", "情况", "东西", "内容", "意思", "原因", "办法", "措施", "作用", "目的", "特点", "结果", "效果", "活动", "会议", "工作", "精神", "地点", "名字", "名称", "单位", "部门", "企业", "村", "镇", "数字", "比例", "程度", "进展", "目标", "任务", "成绩", "指标", "场所", "资源", "项目", "领导", "人物", "书记", "市长", "记者", "作者", "身份", "职务",
     "钱", "费用", "金额", "数量", "人数", "天", "年", "月", "日", "号", "时", "哪天", "水平", "事", "事情",
     "样子", "形式", "方式", "手段", "渠道", "称号", "荣誉", "照片", "图片", "新闻", "报道", "文章"]
)
_ASK_WORD = re.compile(r"^(什么|啥|哪|哪些|哪个|哪位|哪所|哪家|哪几|哪几个|哪一|哪种|何种|几|几个|几家|几位|多少)$")
_MEASURE = frozenset(["所", "家", "位", "个", "种", "项", "座", "条", "件", "只", "名", "几", "几家", "几个", "几位", "一", "些"])
_OF_WHAT = re.compile(r"的([\u4e00-\u9fff]{2,4})(?:是什么|是谁|是多少|有多少|叫什么|是啥|叫啥)")


_AGE = re.compile(r"多大|几岁|多少岁|年龄|年纪|岁数")


def focus_noun(words: list[str], tags: dict[str, str] | None = None) -> str:
    """The thing a question asks for, from its jieba words: 大学 in 毕业于哪所大学,
    副市长 in 哪位副市长陪同, 市花 in 永康市的市花是什么, 岁 for an age; "" if there is none."""
    text = "".join(words)
    if _AGE.search(text):
        return "岁"
    m = _OF_WHAT.search(text)
    if m:
        return m.group(1)
    for i, word in enumerate(words):
        if not _ASK_WORD.match(word):
            continue
        rest = [w for w in words[i + 1 :] if w.strip()]
        while rest and rest[0] in _MEASURE:
            rest = rest[1:]
        if not rest:
            return ""
        # The asked-for noun ends a run of modifiers: 什么重要会议 → 会议, 哪位副市长 → 副市长.
        tags = tags or {}
        noun = rest[0]
        for nxt in rest[1:]:
            kind, next_kind = tags.get(noun, "n")[:1], tags.get(nxt, "")[:1]
            if kind == "a" and len(noun) > 1 and next_kind == "n":  # 重要会议 → 会议
                noun = nxt
                continue
            if kind == "b" and next_kind == "n":  # 副 + 市长
                noun += nxt
                continue
            break
        return noun
    return ""


@dataclass(frozen=True)
class Question:
    """A parsed question. ``entity`` is a known person or place it is about (or "")."""

    text: str
    is_list: bool
    entity: str = ""
    entity_kind: str = ""  # "person" | "place" | ""
    item_kind: str = ""  # the noun asked for: 镇, 活动, 地方 …
    actor_verb: str = ""  # 去过, 参加 … when the entity is the one acting

    @property
    def is_aggregate(self) -> bool:
        """A complete-list question about what a person did or where they went."""
        return (
            self.is_list
            and self.entity_kind == "person"
            and bool(self.actor_verb)
            and (self.item_kind in PLACE_KINDS or self.item_kind in EVENT_KINDS or self.item_kind in AUTHORED_KINDS)
        )

    @property
    def place_suffixes(self) -> tuple[str, ...]:
        return PLACE_KINDS.get(self.item_kind, ())


def _find_entity(text: str, lexicon: Lexicon) -> tuple[str, str]:
    """The longest lexicon person, else place, named in ``text`` (earliest on ties)."""
    for kind, names in (("person", lexicon.people), ("place", lexicon.places)):
        found = [(text.find(n), n) for n in names if n in text]
        if found:
            found.sort(key=lambda item: (-len(item[1]), item[0]))
            return found[0][1], kind
    return "", ""


def _item_kind(text: str) -> str:
    if _PLACE_CUE.search(text):
        return "地方"
    m = _ASK_NOUN.search(text)
    if not m:
        return ""
    noun = m.group(1)
    # Prefer the longest known kind that the noun starts with (镇街 over 镇, 会议 over 会).
    for kind in sorted([*PLACE_KINDS, *EVENT_KINDS, *AUTHORED_KINDS], key=len, reverse=True):
        if noun.startswith(kind):
            return kind
    return noun


def parse_question(text: str, lexicon: Lexicon) -> Question:
    """Parse a normalised question."""
    entity, entity_kind = _find_entity(text, lexicon)
    is_list = bool(_LIST_CUE.search(text) or _PLACE_CUE.search(text))
    item_kind = _item_kind(text)
    actor_verb = ""
    if entity:
        after = text[text.find(entity) + len(entity) :]
        m = _ACTOR_VERBS.search(after)
        # The verb must follow the entity closely (朱志杰去过…, 温家宝7、8月份去…), not in a later clause.
        if m and m.start() <= 10 and not re.search(r"[，。；？！,;]", after[: m.start()]):
            actor_verb = m.group(0)
    return Question(text, is_list, entity, entity_kind, item_kind, actor_verb)


@cache
def _fillers() -> frozenset[str]:
    """Words that only shape a question: the short ones above and the spoken ones of
    ``question_fillers.txt`` (咱们, 那个, 听说)."""
    return _FILLER | word_set("question_fillers")


def content_words(words: list[str], stopwords: frozenset[str]) -> list[str]:
    """Words that carry the question's meaning: no question words, stopwords or punctuation."""
    out = []
    for word in words:
        word = word.strip()
        if not word or word in stopwords or _QUESTION_WORDS.search(word) or word in _fillers():
            continue
        if not re.search(r"[\w]", word):
            continue
        out.append(word)
    return out
