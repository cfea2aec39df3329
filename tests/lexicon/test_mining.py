from __future__ import annotations

from retrieval.lexicon.mining import find_places, mine_lexicon, mine_people
from retrieval.lexicon.tokenizer import WordTokenizer
from retrieval.lexicon.words import load_word_tags
from retrieval.text import char_bigrams

TEXT = (
    "本报讯 21日上午，市长朱志杰带队前往古山镇开展“三服务”活动。"
    "9月30日，市委书记金政主持召开月度工作例会。金政指出，要抓项目。金政强调安全。"
    "服务团走访了溪塘村、上丁村，全镇上下迅速进入角色，打造工业强镇。"
    "□记者 张赤奎 施夏琦"
)


def test_people_after_titles_choose_the_right_length() -> None:
    people = mine_people([TEXT])
    assert "朱志杰" in people
    assert "金政" in people and "金政主" not in people
    assert "张赤奎" in people


def test_places_exclude_generic_words() -> None:
    names = [name for _, name in find_places(TEXT, load_word_tags())]
    assert names[:3] == ["古山镇", "溪塘村", "上丁村"]
    assert "全镇" not in names and "强镇" not in names and "业强镇" not in names


def test_tokenizer_keeps_mined_names_whole() -> None:
    tokenizer = WordTokenizer(mine_lexicon([TEXT]))
    tokens = tokenizer.tokens("朱志杰去过哪些镇，古山镇")
    assert "朱志杰" in tokens and "古山镇" in tokens
    assert "哪些" not in tokens and "，" not in tokens


def test_char_bigrams() -> None:
    assert char_bigrams("古山镇 GDP") == ["古山", "山镇", "gdp"]


def test_words_the_dictionary_knows_as_other_classes_are_not_people() -> None:
    """国 and 强 are surnames, so "主席国家…" and "委员长强调…" look like a title and a name;
    jieba's dictionary knows 国家 as a noun and 强调 as a verb, so neither is mined as a person.
    Names the dictionary knows as names (李克强) or as rare full names (nz: 周铁农) stay."""
    text = ("委员长栗战书强调，要做好工作。委员长强调，要加强合作。国家副主席国家安全委员会……"
            "国务院总理李克强出席。副委员长周铁农会见客人。总理李克强强调，要团结。")
    people = mine_people([text])
    assert {"栗战书", "李克强", "周铁农"} <= set(people)
    assert "强调" not in people and "国家" not in people
