"""The corpus's own names, and a jieba tokenizer that knows them.

Generic jieba splits unseen local names (朱志杰 → 朱/志杰, 古山镇 → 古山/镇), which
hurts both keyword search and entity questions. We mine people named after a
title (市长朱志杰, 记者 张赤奎) and places ending in 镇/村/街道/社区 at index time
and teach them to a private ``jieba.Tokenizer`` (never the global one).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import ahocorasick
import jieba

logging.getLogger("jieba").setLevel(logging.WARNING)

_HAN = "\u4e00-\u9fff"
PERSON_TITLES = (
    "市委副书记", "市委书记", "副书记", "书记", "常务副市长", "副市长", "市长", "副县长", "县长",
    "镇长", "主席", "副主席", "主任", "副主任", "局长", "部长", "首席记者", "记者", "总书记",
    "总理", "委员长", "主席团", "董事长", "总经理", "区长", "村支书", "社长", "厅长", "省长",
)
PLACE_SUFFIXES = ("街道", "社区", "镇", "村")
# Characters that make "X镇" generic (全镇, 该镇, 强镇) rather than a named place.
_PLACE_FUNCTION_CHARS = frozenset("全各该个为与进好大小新现业强跨本每其此之等和及到在从赴往前后的乡城集镇村农")
_PLACE_STEM_BLOCK = frozenset({"美丽", "城市", "乡村", "农村", "城乡", "特色", "重点", "示范", "风情"})
# A known common word of these classes before 镇/村 is a description (推进镇, 整治村), not a name.
_PLACE_OK_TAGS = frozenset({"ns", "nr", "nrt", "nz"})
# Common surnames (about 97% of the population): a title followed by one of these starts a name.
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔"
    "向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌"
    "毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦"
    "麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩"
    "明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强"
    "帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓"
    "修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植"
    "衡富尧闭由"
)
_NAME_BREAK = set("主带在赴对指要说参表出到与和等同作代会一等率是为就了也又向前深来")
_PERSON_AFTER_TITLE = re.compile(
    "(?:" + "|".join(sorted(PERSON_TITLES, key=len, reverse=True)) + f")\\s*([{_HAN}]{{2,3}})"
)
_PLACE_SUFFIX_RE = re.compile("|".join(PLACE_SUFFIXES))
_HAN_RE = re.compile(f"[{_HAN}]")


@dataclass(frozen=True)
class Lexicon:
    """Names found in a corpus. ``people`` and ``places`` are sorted, unique."""

    people: tuple[str, ...] = ()
    places: tuple[str, ...] = ()

    @property
    def words(self) -> tuple[str, ...]:
        return self.people + self.places

    def to_json(self) -> dict[str, list[str]]:
        return {"people": list(self.people), "places": list(self.places)}

    @classmethod
    def from_json(cls, data: dict[str, list[str]]) -> Lexicon:
        return cls(tuple(data.get("people", ())), tuple(data.get("places", ())))


def mine_people(texts: Iterable[str]) -> list[str]:
    """People named right after a title. Between a 2- and 3-character reading
    (金政主持 vs 朱志杰带队) the 3-character one wins only if it is nearly as
    frequent in the corpus as its 2-character prefix."""
    corpus = "\n".join(texts)
    candidates: Counter[str] = Counter(m.group(1) for m in _PERSON_AFTER_TITLE.finditer(corpus))
    kept = [c for c in candidates if c[0] in SURNAMES and c[:2] not in PERSON_TITLES]
    counts = count_occurrences(corpus, [w for c in kept if len(c) == 3 for w in (c, c[:2])])
    people: set[str] = set()
    for cand in kept:
        two, three = cand[:2], cand[:3]
        if len(cand) == 3 and cand[2] not in _NAME_BREAK and counts[three] >= 0.6 * counts[two]:
            people.add(three)
        elif two[1] not in _NAME_BREAK:
            people.add(two)
    return sorted(people)


def word_automaton(words: Iterable[str]) -> ahocorasick.Automaton | None:
    """An Aho-Corasick automaton over the non-empty ``words`` (each its own value), ready to
    search a text for all of them in one pass; None when there are none."""
    automaton = ahocorasick.Automaton()
    for word in set(words):
        if word:
            automaton.add_word(word, word)
    if len(automaton) == 0:
        return None
    automaton.make_automaton()
    return automaton


def count_occurrences(text: str, words: Iterable[str]) -> Counter[str]:
    """How often each of ``words`` occurs in ``text`` (overlaps included), in one
    Aho-Corasick pass: thousands of ``str.count`` scans took 12 s on a 10k-article corpus."""
    automaton = word_automaton(words)
    return Counter(word for _, word in automaton.iter(text)) if automaton is not None else Counter()


def load_word_tags() -> dict[str, str]:
    """Part-of-speech tags of jieba's bundled dictionary (word → tag), read once (~0.5 s)."""
    tags: dict[str, str] = {}
    with jieba.get_dict_file() as fh:
        for raw in fh:
            parts = raw.decode("utf-8").split()
            if len(parts) == 3:
                tags[parts[0]] = parts[2]
    return tags


def is_place_stem(stem: str, tags: dict[str, str]) -> bool:
    """Whether ``stem`` + 镇/村/街道/社区 reads as a named place (古山镇, 申亭村)."""
    if len(stem) != 2 or not all(_HAN_RE.fullmatch(c) for c in stem):
        return False
    if stem in _PLACE_STEM_BLOCK or stem[0] in _PLACE_FUNCTION_CHARS or stem[1] in _PLACE_FUNCTION_CHARS:
        return False
    tag = tags.get(stem)
    return tag is None or tag in _PLACE_OK_TAGS or (tag == "n" and jieba.dt.FREQ.get(stem, 0) < 100)


def find_places(text: str, tags: dict[str, str]) -> list[tuple[int, str]]:
    """Named places in ``text`` as (offset, name), in order of appearance.
    ``tags`` is ``load_word_tags()`` (or ``WordTokenizer.tags``)."""
    found: list[tuple[int, str]] = []
    for m in _PLACE_SUFFIX_RE.finditer(text):
        start = m.start()
        stem = text[max(0, start - 2) : start]
        if is_place_stem(stem, tags):
            found.append((start - 2, stem + m.group(0)))
    return found


def mine_places(texts: Iterable[str]) -> list[str]:
    """Places ending in 镇/村/街道/社区, minus generic words (全镇, 乡村, 强镇)."""
    tags = load_word_tags()
    return sorted({name for text in texts for _, name in find_places(text, tags)})


def mine_lexicon(texts: Iterable[str]) -> Lexicon:
    materialised = list(texts)
    return Lexicon(tuple(mine_people(materialised)), tuple(mine_places(materialised)))


@dataclass
class WordTokenizer:
    """jieba search-mode tokenizer with a corpus lexicon; drops punctuation and stopwords.

    One instance per index: jieba's dictionary is loaded lazily on first use (~1 s).
    """

    lexicon: Lexicon = field(default_factory=Lexicon)
    _jieba: jieba.Tokenizer | None = field(default=None, init=False, repr=False)
    _tags: dict[str, str] | None = field(default=None, init=False, repr=False)

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
            for word in self.lexicon.words:
                tok.add_word(word, freq=50_000)
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


def char_bigrams(text: str) -> list[str]:
    """Character bigrams over CJK runs (the classic baseline), ASCII words whole."""
    grams: list[str] = []
    for run in re.findall(f"[{_HAN}]+|[A-Za-z0-9]+", text.lower()):
        if run[0].isascii() or len(run) == 1:
            grams.append(run)
        else:
            grams.extend(run[i : i + 2] for i in range(len(run) - 1))
    return grams


_PUNCT_ONLY = re.compile(r"[\W_]+")
STOPWORDS = frozenset(
    ["的", "了", "和", "是", "在", "有", "与", "及", "等", "也", "都", "而", "并", "对", "为", "以", "于", "之", "其", "或", "就", "被", "把", "这", "那", "个", "中", "上", "下", "什么", "哪些", "哪个", "哪几个", "哪里", "哪儿", "怎么", "怎样", "如何", "多少", "几", "吗", "呢", "吧", "啊", "呀", "去过", "有没有", "是否", "请问", "一下", "一些"]
)
