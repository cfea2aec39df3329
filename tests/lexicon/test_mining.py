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
