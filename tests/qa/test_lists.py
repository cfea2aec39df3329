"""Complete list answers on their own (retrieval.qa.lists): which articles name a person, which
sentences are theirs, and which items are gathered. No model: a small hand-written archive is
indexed with the hashing encoder (vectors play no part in lists), plus the seed index for bylines.

The archive is built so that each rule has something to get wrong: a town someone else visits
while the person only attends, an attendee's town named before the person, a town named after
him but not as the object of a visit verb, a town visited in two articles, and words of a name
that occur apart in another article.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from retrieval.index.article_index import ArticleIndex, load_index
from retrieval.index.build import update_index
from retrieval.models import Article
from retrieval.qa.lists import actor_sentences, aggregate, entity_articles
from retrieval.qa.question import Question, parse_question
from retrieval.service import NewsQA
from tests.fakes import FAKE_MODEL, HashingEncoder

ARCHIVE = [
    {"id": "gushan", "title": "朱志杰赴古山镇调研五金产业", "date": "2024-03-01",
     "text": "本报讯 3月1日，副市长朱志杰前往古山镇调研五金产业，并听取了西溪镇的工作汇报。"
             "朱志杰要求古山镇加快产业转型。"},
    {"id": "fangyan", "title": "胡勇春赴方岩镇开展“三服务”活动", "date": "2024-03-05",
     "text": "本报讯 日前，副市长胡勇春前往方岩镇开展“三服务”活动。市长朱志杰参加座谈。"},
    {"id": "xixi", "title": "市领导调研五金产业", "date": "2024-03-09",
     "text": "本报讯 西溪镇党委书记陪同市长朱志杰调研五金产业。座谈会上，企业代表作了发言。"
             "随后，朱志杰一行走访了溪塘村、上丁村。"},
    {"id": "gushan-again", "title": "朱志杰再赴古山镇督查安全生产", "date": "2024-04-02",
     "text": "本报讯 市长朱志杰来到古山镇督查安全生产。"},
    {"id": "apart", "title": "五金城新闻", "date": "2024-04-03",
     "text": "本报讯 五金城里，产业工人正在加班。"},
]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> ArticleIndex:
    root = tmp_path_factory.mktemp("lists")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "archive.jsonl").write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in ARCHIVE),
                                          encoding="utf-8")
    update_index(corpus, root / "index", HashingEncoder())
    index = load_index(root / "index", expected_model=FAKE_MODEL)
    assert {"朱志杰", "胡勇春"} <= set(index.lexicon.people), "names after a title are mined"
    return index


def ask(index: ArticleIndex, text: str, **kwargs: object) -> tuple[list[str], list[list[str]], int]:
    """(labels, cited article ids per item, total) for a parsed list question."""
    q = parse_question(text, index.lexicon)
    assert q.is_aggregate, q
    items, total = aggregate(index, q, **kwargs)  # type: ignore[arg-type]
    return [i.label for i in items], [[c.article_id for c in i.citations] for i in items], total


def article(title: str, *sentences: str) -> Article:
    return Article(id="a#1", source="a.txt", title=title, paragraphs=("".join(sentences),))


# -- actor_sentences -----------------------------------------------------------------------------


def test_headline_and_lead_naming_the_person_are_theirs() -> None:
    a = article("朱志杰赴古山镇调研", "本报讯 朱志杰前往古山镇。", "他察看了企业。", "朱志杰要求加快转型。", "天气晴好。")
    assert actor_sentences(a, "朱志杰") == ["朱志杰赴古山镇调研", "本报讯 朱志杰前往古山镇。", "朱志杰要求加快转型。"]


def test_the_party_of_an_established_actor_is_theirs_too() -> None:
    a = article("朱志杰赴古山镇调研", "本报讯 朱志杰前往古山镇。", "座谈会上有人发言。", "随后，服务团走访了溪塘村。")
    assert actor_sentences(a, "朱志杰")[-1] == "随后，服务团走访了溪塘村。"


def test_a_person_named_only_later_in_someone_elses_story_acts_in_none() -> None:
    a = article("胡勇春赴方岩镇调研", "本报讯 胡勇春前往方岩镇。", "他察看了企业。", "朱志杰等陪同，一行走访了石柱村。")
    assert actor_sentences(a, "朱志杰") == []
    assert actor_sentences(a, "胡勇春")[:2] == ["胡勇春赴方岩镇调研", "本报讯 胡勇春前往方岩镇。"]


# -- entity_articles -----------------------------------------------------------------------------


def test_every_article_naming_the_person_in_archive_order(index: ArticleIndex) -> None:
    assert [a.id for a in entity_articles(index, "朱志杰")] == ["gushan", "fangyan", "xixi", "gushan-again"]
    assert [a.id for a in entity_articles(index, "胡勇春")] == ["fangyan"]
    assert entity_articles(index, "王小明") == []


def test_a_name_that_is_no_single_token_needs_its_words_together(index: ArticleIndex) -> None:
    assert index.chunks_with_token("五金产业").size == 0, "not one token: the sub-token path is taken"
    assert index.chunks_with_token("五金").size and index.chunks_with_token("产业").size
    # "apart" has 五金 and 产业, but not 五金产业
    assert [a.id for a in entity_articles(index, "五金产业")] == ["gushan", "xixi"]


# -- aggregate -----------------------------------------------------------------------------------


def test_towns_are_those_the_person_visits(index: ArticleIndex) -> None:
    labels, cited, total = ask(index, "朱志杰去过哪些镇")
    # not 方岩镇 (胡勇春's visit; 朱志杰 only attends), nor 西溪镇 (an attendee's town, named before
    # him; and a town whose report he heard, after a comma, not after a visit verb)
    assert labels == ["古山镇"] and total == 1
    assert cited == [["gushan", "gushan-again"]], "one item, citing each article where he goes there"


def test_villages_listed_after_the_visit_verb(index: ArticleIndex) -> None:
    labels, cited, _ = ask(index, "朱志杰去过哪些村")
    assert labels == ["溪塘村", "上丁村"] and cited == [["xixi"], ["xixi"]]


def test_the_visitor_gets_the_town(index: ArticleIndex) -> None:
    labels, cited, _ = ask(index, "胡勇春去过哪些镇")
    assert labels == ["方岩镇"] and cited == [["fangyan"]]


def test_activities_include_those_attended(index: ArticleIndex) -> None:
    labels, cited, total = ask(index, "朱志杰参加了哪些活动")
    assert total == 4 and [c[0] for c in cited] == ["gushan", "fangyan", "xixi", "gushan-again"]
    assert labels[0] == "古山镇调研五金产业"  # from his headline, verb dropped
    assert labels[1] == "“三服务”活动"  # he attends 胡勇春's event: named from the article's lead


def test_other_names_in_the_question_narrow_the_articles(index: ArticleIndex) -> None:
    assert ask(index, "朱志杰参加了哪些活动", required=("胡勇春",))[1] == [["fangyan"]]
    assert ask(index, "朱志杰去过哪些镇", required=("胡勇春",)) == ([], [], 0)
    assert ask(index, "朱志杰去过哪些镇", required=("安全生产",))[1] == [["gushan-again"]]


def test_items_are_capped_but_counted(index: ArticleIndex) -> None:
    labels, _, total = ask(index, "朱志杰参加了哪些活动", max_items=2)
    assert len(labels) == 2 and total == 4


def test_a_person_never_named_has_no_items(index: ArticleIndex) -> None:
    q = Question("王小明去过哪些镇", True, "王小明", "person", "镇", "去过")
    assert aggregate(index, q) == ([], 0)


# -- bylines (the seed pages: 21 articles with reporters' and photographers' bylines) ----------


def test_photos_come_from_bylines_and_only_photos(fake_service: NewsQA) -> None:
    index = fake_service.index
    q = Question("杨成栋拍了哪些照片", True, "杨成栋", "person", "照片", "拍")
    items, total = aggregate(index, q)
    assert total == len(items) == 3
    for item in items:
        (citation,) = item.citations
        credited = index.article_by_id[citation.article_id]
        assert credited.kind == "photo" and "杨成栋" in credited.byline and item.label == credited.display_title
    photos_by_others = [a for a in index.articles if a.kind == "photo" and "杨成栋" not in a.byline]
    assert photos_by_others, "the seed pages hold other photographers' photos, which must not be listed"


def test_reports_of_any_kind_by_a_co_author(fake_service: NewsQA) -> None:
    index = fake_service.index
    mine = [a.id for a in index.articles if "张赤奎" in a.byline.split()]
    items, total = aggregate(index, Question("张赤奎写了哪些报道", True, "张赤奎", "person", "报道", "写"))
    assert total == len(mine) == 5 and [i.citations[0].article_id for i in items] == mine
    items, _ = aggregate(index, Question("施夏琦写了哪些报道", True, "施夏琦", "person", "报道", "写"))
    assert [i.citations[0].article_id for i in items] == ["002_bb7c16360d800cd6#4"]  # a shared byline


def test_only_the_kind_of_work_asked_for() -> None:
    """照片 lists a byline's photos only; 报道 lists everything under the byline."""
    photo = Article(id="p", source="s.txt", title="晒席草", byline="记者 杨成栋", kind="photo")
    report = Article(id="r", source="s.txt", title="夏收进度过半", byline="记者 杨成栋", kind="news",
                     paragraphs=("本报讯 夏收进度过半。",))
    by_byline = SimpleNamespace(articles_by_byline_name={"杨成栋": [photo, report]})
    photos, _ = aggregate(by_byline, Question("杨成栋拍了哪些照片", True, "杨成栋", "person", "照片", "拍"))  # type: ignore[arg-type]
    works, _ = aggregate(by_byline, Question("杨成栋写了哪些报道", True, "杨成栋", "person", "报道", "写"))  # type: ignore[arg-type]
    assert [i.label for i in photos] == ["晒席草"]
    assert [i.label for i in works] == ["晒席草", "夏收进度过半"]
    assert works[1].evidence == "本报讯 夏收进度过半。"  # the work's lead


def test_lists_need_no_vectors(index: ArticleIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    """What lets list tests run on the hashing encoder: aggregate never reads a vector."""
    monkeypatch.setattr(index, "vectors", None)
    assert ask(index, "朱志杰去过哪些镇")[0] == ["古山镇"]


@pytest.mark.parametrize(("body", "expected"), [
    # the article names exactly the three towns behind 等3镇: all of them
    ("副市长胡勇春带队调研古山镇等3镇土地整治项目。项目以古山镇、方岩镇和舟山镇为主体。", ["古山镇", "方岩镇", "舟山镇"]),
    ("副市长胡勇春带队调研古山镇等三镇土地整治项目。项目以古山镇、方岩镇和舟山镇为主体。", ["古山镇", "方岩镇", "舟山镇"]),
    # four towns named for a count of three: which three is a guess, so only the one named
    ("副市长胡勇春带队调研古山镇等3镇土地整治项目。古山镇、方岩镇、舟山镇和西溪镇参加。", ["古山镇"]),
    # a count of another kind (村, not 镇) does not expand towns
    ("副市长胡勇春带队调研古山镇等3村土地整治项目。古山镇、方岩镇和舟山镇参加。", ["古山镇"]),
])
def test_a_and_n_others_expands_when_the_article_names_exactly_n(
        tmp_path: Path, body: str, expected: list[str]) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    row = {"id": "zz", "title": "胡勇春调研土地整治", "date": "2024-03-22", "text": "本报讯 " + body}
    (corpus / "a.jsonl").write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    update_index(corpus, tmp_path / "index", HashingEncoder(), sentence_vectors=False)
    index = load_index(tmp_path / "index", expected_model=FAKE_MODEL)
    labels, _, _ = ask(index, "胡勇春调研了哪些镇")
    assert labels == expected


def test_a_persons_visits_are_listed_not_the_visitors_he_met(tmp_path: Path, fake_service_over) -> None:  # type: ignore[no-untyped-def]
    """"栗战书访问了哪几个国家" lists the countries of his own visits (headline and lead, after a
    visit verb), not Greece, whose president he met at home, nor anything from the title-like
    "副主任国家…" that once made 国家 a mined "person"."""
    rows = [
        {"id": "visit", "title": "栗战书将访问挪威 奥地利和匈牙利", "date": "2019-05-12",
         "text": "央视网消息：委员长栗战书将于5月15日至24日对挪威、奥地利和匈牙利进行正式友好访问。"},
        {"id": "met", "title": "栗战书会见希腊总统", "date": "2019-05-14",
         "text": "央视网消息：委员长栗战书14日在人民大会堂会见希腊总统。"
                 "中央财经委员会办公室副主任国家发展改革委主任何立峰参加会见。国家有关部门负责人陪同。"},
    ]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                    encoding="utf-8")
    service = fake_service_over(tmp_path / "index")
    service.reindex(corpus)
    answer = service.ask("栗战书5月访问了哪几个国家")
    assert answer.kind == "list"
    assert sorted(i.label for i in answer.items) == ["匈牙利", "奥地利", "挪威"]
