"""Article recovery from the five real seed pages, plus properties on arbitrary text.

The expected article lists below were written by reading the pages in corpus/
by hand (headline placement, bylines, captions), not generated from the code.
Title rule (see retrieval.ingest.headline.compose_headline): the factual headline line
is the title; two-phrase slogans ("紧抓工业不放 打造工业强镇") and further
deck lines are the subtitle, in page order.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retrieval.ingest.clean import dedouble_line, strip_decoration
from retrieval.ingest.segment import find_dateline, segment, segment_page
from retrieval.models import Article
from tests.paths import CORPUS_DIR

CORPUS = CORPUS_DIR
PAGES = {
    "000": "000_903294924633f08b.txt",
    "001": "001_4397dc98031408d7.txt",
    "002": "002_bb7c16360d800cd6.txt",
    "003": "003_0aafd6e597b28172.txt",
    "004": "004_dce850472f704fef.txt",
}

# (kind, title, subtitle, byline, dateline, first sentence of the body or "")
EXPECTED: dict[str, list[tuple[str, str, str, str, str, str]]] = {
    "000": [
        (
            "news",
            "朱志杰赴古山镇开展“三服务”活动",
            "紧抓工业不放 打造工业强镇",
            "首席记者 张赤奎",
            "21日上午",
            "21日上午，市长朱志杰带队前往古山镇开展“三服务”活动，为该镇经济社会发展把脉，"
            "并要求古山镇紧抓工业不放，加快产业集聚和公共服务配套集聚，全力打造工业强镇。",
        ),
        ("other", "实施“三服务”提升获得感", "", "", "", ""),
        (
            "news",
            "我市持续深化作风建设工作成效显著",
            "创新工作载体 坚持效果导向",
            "记者 颜元滔",
            "",
            "今年以来，我市高度重视作风建设工作，市委主要领导担任作风建设专项行动领导小组组长，"
            "推动“扛责任、强担当、治顽症、促发展”作风建设专项行动迅速开展。",
        ),
        (
            "photo",
            "金台铁路铺轨",
            "",
            "记者 林群心",
            "20日",
            "20日，记者在金台铁路舟山镇申亭村段看到，工程队正在铺设轨道。",
        ),
    ],
    "001": [
        (
            "news",
            "省直单位厅局长工作交流会召开",
            "打开四个通道力促“三服务”提质升级",
            "首席记者 陈晓苏",
            "7月29日晚",
            "7月29日晚，省委召开省直单位厅局长工作交流会，对开展“三服务”活动进行再部署再推进。",
        ),
        ("other", "实施“三服务”提升获得感", "", "", "", ""),
        (
            "news",
            "朱志杰赴舟山镇开展“三服务”",
            "立足生态优势 打造休闲小镇",
            "首席记者 张赤奎",
            "7月31日",
            "7月31日，由市长朱志杰带队的服务团赴舟山镇开展“三服务”活动，访民情、送服务、解难题，"
            "为该镇经济社会发展“把脉开方”。",
        ),
        ("photo", "晒席草", "", "记者 杨成栋", "1日", "1日，舟山镇前村村一名种植户正在铺晒席草。"),
    ],
    "002": [
        (
            "news",
            "金政部署本月工作重点时强调",
            "冲锋四季度 冲刺全年红",
            "记者 陈晓苏",
            "9月30日",
            "9月30日，市委书记金政主持召开市各套班子月度工作例会，明确我市10月份工作主题为"
            "“冲锋四季度，冲刺全年红”。",
        ),
        (
            "news",
            "市政府常务会议审议通过多项议题",
            "今年开建5个以上小微企业园",
            "记者 张赤奎",
            "9月29日",
            "9月29日，市长朱志杰主持召开市十七届政府第12次常务会议，审议并原则通过了多项议题。",
        ),
        (
            "photo",
            "我市举行烈士纪念日公祭活动",
            "",
            "记者 杨成栋",
            "",
            # The page really starts "政、" here: the "金" of 金政 is missing from the extraction.
            "政、朱志杰、陈美蓉、朱世道、范晓东等市各套班子领导，人武部部长、政委，法检“两长”，"
            "市机关部门负责人，方岩镇机关干部，驻永部队官兵和大司巷小学少先队员等前往方岩刘英烈士陵园，"
            "开展烈士纪念日公祭活动。",
        ),
        (
            "news",
            "朱志杰在督查安全生产时要求",
            "树立忧患意识 层层压实责任",
            "记者 张赤奎 施夏琦",  # printed at the very end of the page, after this headline
            "9月30日",
            "9月30日，市长朱志杰带领相关部门负责人督查节前安全生产工作。",
        ),
        (
            # A second 本报讯 item printed under the same headline block; it has no headline of its own.
            "news",
            "",
            "",
            "",
            "9月30日",
            "9月30日，全省民房等重点领域火灾隐患集中排查整治行动视频会议召开。",
        ),
    ],
    "003": [
        (
            "news",
            "我市对小微企业园建设再动员再部署再推进",
            "紧盯工作难点 投入最强力量",
            "首席记者 张赤奎",
            "15日",
            "15日，我市召开小微企业园建设汇报会，对小微企业园建设工作进行再动员、再部署、再推进。",
        ),
        (
            "photo",
            "垃圾分类宣传进社区",
            "",
            "记者 杨成栋",
            "14日",
            "14日，由市委组织部、市委宣传部、团市委、市创建办、市综合执法局和江南街道金胜社区主办的"
            "垃圾分类和敬老服务进社区活动在安居苑和锦绣江南小区举行。",
        ),
        ("other", "农行视角", "", "", "", ""),
        (
            "other",
            "23条新政加快我市现代服务业高质量发展",
            "引导鼓励企业主辅分离 全面惠及四大服务业 加强重点企业培育力度",
            "",
            "",
            "",
        ),
        (
            "news",
            "金政在督查金台铁路项目工程时强调",
            "以目标时限为工作底线确保无障碍施工",
            "首席记者 陈晓苏",
            "15日",
            "15日，市委书记金政赴石柱、前仓等地现场督查金台铁路项目工程推进情况。",
        ),
    ],
    "004": [
        (
            "news",
            "胡勇春在调研全域土地综合整治项目工作时强调",
            "抢抓试点机遇 打造“永康模式”",
            "融媒记者 徐敏",
            "3月22日",
            "3月22日，市委副书记、市长胡勇春带队调研古山镇等3镇全域土地综合整治项目工作。",
        ),
        (
            "news",
            "章旭升参加永商会客厅活动与企业家面对面",
            "满腔热情建言献策 一杯清茶共话发展",
            "融媒首席记者 陈晓苏",
            "3月23日晚",
            "一杯清茶，共话发展。",
        ),
        (
            "news",
            "章旭升在基层“五整治五提升”规范深化行动推进会上强调",
            "聚焦基层基础 提升治理效能 坚决有力推动专项行动取得实效",
            "融媒首席记者 陈晓苏",
            "3月24日上午",
            "3月24日上午，我市召开基层“五整治五提升”规范深化行动推进会。",
        ),
    ],
}

# Paragraph counts checked by hand for the longer news articles: (page, index) → count.
PARAGRAPHS = {("000", 0): 5, ("000", 2): 5, ("001", 0): 5, ("002", 0): 7, ("002", 1): 6, ("003", 4): 5}

# Spaces between ideographs that are really printed (slogans), allowed in news bodies.
SLOGANS = ("世界五金之都 品质活力永康",)


def load(page: str) -> tuple[str, list[Article]]:
    path = CORPUS / PAGES[page]
    text = path.read_text(encoding="utf-8")
    return text, segment_page(text, str(path))


def first_sentence(paragraph: str) -> str:
    match = re.match(r".*?[。！？][”’]?", paragraph)
    return match.group() if match else paragraph


def visible(text: str) -> Counter[str]:
    """Non-whitespace, non-decoration characters of a page after de-doubling each line."""
    return Counter(
        ch for line in text.splitlines() for ch in strip_decoration(dedouble_line(line)) if not ch.isspace()
    )


def article_chars(articles: list[Article] | tuple[Article, ...], dropped: tuple[str, ...]) -> Counter[str]:
    parts = [f"{a.title}{a.subtitle}{a.byline}{''.join(a.paragraphs)}" for a in articles]
    return Counter(ch for part in [*parts, *dropped] for ch in part if not ch.isspace())


@pytest.mark.parametrize("page", sorted(PAGES))
def test_seed_page_article_list(page: str) -> None:
    _, articles = load(page)
    got = [
        (
            a.kind,
            a.title,
            a.subtitle,
            a.byline,
            a.dateline,
            first_sentence(a.paragraphs[0]) if a.paragraphs else "",
        )
        for a in articles
    ]
    assert got == EXPECTED[page]


@pytest.mark.parametrize("page", sorted(PAGES))
def test_ids_and_sources(page: str) -> None:
    _, articles = load(page)
    stem = PAGES[page].removesuffix(".txt")
    assert [a.id for a in articles] == [f"{stem}#{n}" for n in range(1, len(articles) + 1)]
    assert all(a.source.endswith(PAGES[page]) for a in articles)
    assert all(a.date == "" for a in articles)
    assert all(not a.paragraphs for a in articles if a.kind == "other")


@pytest.mark.parametrize(("key", "count"), sorted(PARAGRAPHS.items()))
def test_paragraph_breaks(key: tuple[str, int], count: int) -> None:
    _, articles = load(key[0])
    assert len(articles[key[1]].paragraphs) == count


def test_page_000_lead_article() -> None:
    _, articles = load("000")
    lead = next(a for a in articles if a.text.startswith("21日上午，市长朱志杰带队前往古山镇"))
    assert (lead.title, lead.subtitle) == ("朱志杰赴古山镇开展“三服务”活动", "紧抓工业不放 打造工业强镇")
    assert lead.byline == "首席记者 张赤奎"
    assert lead.dateline == "21日上午"
    assert lead.paragraphs[-1].endswith("真正实现从小城镇向小城市转变。")
    assert "本报讯" not in lead.text


def test_page_002_doubled_photo_caption_is_one_readable_piece() -> None:
    _, articles = load("002")
    photo = next(a for a in articles if a.kind == "photo")
    assert len(photo.paragraphs) == 1
    assert "前往方岩刘英烈士陵园，开展烈士纪念日公祭活动" in photo.paragraphs[0]
    assert photo.title == "我市举行烈士纪念日公祭活动"
    assert photo.byline == "记者 杨成栋"


def test_page_003_letter_spacing_removed() -> None:
    _, articles = load("003")
    text = articles[-1].text
    assert "沿途经过我市5个镇街区的47个行政村，全线要求在2020年6月底具备通车条件" in text
    assert "金台铁路永康段自2016年7月1日开工建设" in text


def test_page_004_inline_byline_and_split_date() -> None:
    _, articles = load("004")
    assert articles[0].paragraphs[0].startswith("3月22日，市委副书记、市长胡勇春")
    assert "（" not in articles[1].text[:5]


@pytest.mark.parametrize("page", sorted(PAGES))
def test_no_text_lost_on_seed_pages(page: str) -> None:
    text = (CORPUS / PAGES[page]).read_text(encoding="utf-8")
    result = segment(text, PAGES[page])
    # Every stripped marker is accounted for explicitly, and only these markers are stripped.
    leads = sum(
        1 for line in text.splitlines() if strip_decoration(dedouble_line(line)).strip().startswith("本报讯")
    )
    photos = sum(1 for a in result.articles if a.kind == "photo")
    inline_bylines = sum(1 for line in text.splitlines() if line.startswith("本报讯（"))
    assert (
        Counter(result.dropped)
        == Counter({"本报讯": leads, "摄": photos, "（": inline_bylines, "）": inline_bylines}) - Counter()
    )
    assert article_chars(result.articles, result.dropped) == visible(text)


def test_no_text_lost_detects_a_dropped_character() -> None:
    """Guard the guard: the multiset comparison is sensitive to one lost or doubled character."""
    text = (CORPUS / PAGES["000"]).read_text(encoding="utf-8")
    result = segment(text, "000")
    damaged = [*result.articles]
    first = damaged[0]
    damaged[0] = Article(**{**first.__dict__, "paragraphs": (first.paragraphs[0][1:], *first.paragraphs[1:])})
    assert article_chars(damaged, result.dropped) != visible(text)
    damaged[0] = Article(**{**first.__dict__, "title": first.title + "朱"})
    assert article_chars(damaged, result.dropped) != visible(text)


@pytest.mark.parametrize("page", sorted(PAGES))
def test_no_spaces_between_ideographs_in_news_bodies(page: str) -> None:
    _, articles = load(page)
    for article in articles:
        if article.kind != "news":
            continue
        for paragraph in article.paragraphs:
            for slogan in SLOGANS:
                paragraph = paragraph.replace(slogan, "")
            assert not re.search(r"[\u4e00-\u9fff]\s+[\u4e00-\u9fff]", paragraph), paragraph


def test_find_dateline() -> None:
    assert find_dateline("9月30日，市长朱志杰") == "9月30日"
    assert find_dateline("一杯清茶，共话发展。3月23日晚，我市") == "3月23日晚"
    assert find_dateline("今年以来，我市高度重视") == ""


def test_small_synthetic_page() -> None:
    page = "\n".join(
        [
            "□记者 王小明",
            "本报讯 5日上午，我市召开会议。",
            "会议要求全力推进。",
            "",
            "我市召开推进会议",
            "全力推进 再创佳绩",
        ]
    )
    [article] = segment_page(page, "x/p.txt")
    assert (article.id, article.title, article.subtitle) == ("p#1", "我市召开推进会议", "全力推进 再创佳绩")
    assert (article.byline, article.dateline, article.kind) == ("记者 王小明", "5日上午", "news")


# --- properties on arbitrary text ----------------------------------------------------------

NEWSY = "本报讯记者摄□■。，“”日月天谢看 \n"
page_text = st.one_of(
    st.text(alphabet=NEWSY, max_size=300),
    st.text(max_size=200),
    st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "□记者 张三",
                    "本报讯 3日，",
                    "本报讯（融媒记者 李四） 3月 2",
                    "记者 杨成栋 摄",
                    "■■实施实施",
                    "..........农行视角",
                    "紧抓工业不放 打造工业强镇",
                    "",
                    " 晒席草",
                    "金台铁路铺轨金台铁路铺轨",
                ]
            ),
            st.text(alphabet=NEWSY, max_size=20),
            st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x4E40), max_size=18),
        ),
        max_size=40,
    ).map("\n".join),
)


@settings(max_examples=300, deadline=None)
@given(page_text)
def test_segment_never_raises_and_loses_nothing(text: str) -> None:
    result = segment(text, "random.txt")
    assert set(result.dropped) <= {"本报讯", "摄", "（", "）", "(", ")"}
    assert article_chars(result.articles, result.dropped) == visible(text)
    assert [a.id for a in result.articles] == [f"random#{n}" for n in range(1, len(result.articles) + 1)]
    assert all(a.kind in {"news", "photo", "other"} for a in result.articles)
    assert segment_page(text, "random.txt") == list(result.articles)
