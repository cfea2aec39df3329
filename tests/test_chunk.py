from __future__ import annotations

from retrieval.chunk import MAX_CHARS, chunk_article, chunk_articles, split_sentences
from retrieval.models import Article


def _article(paragraphs: list[str], title: str = "标题") -> Article:
    return Article(id="p#1", source="p.txt", title=title, dateline="7月31日", paragraphs=tuple(paragraphs))


def test_split_sentences_keeps_punctuation_and_closing_quotes() -> None:
    text = "他说：“工业不强，一切都是空谈。”古山镇最大的优势在工业！要紧抓工业不放？好"
    assert split_sentences(text) == ["他说：“工业不强，一切都是空谈。”", "古山镇最大的优势在工业！", "要紧抓工业不放？", "好"]


def test_chunks_never_cut_sentences_and_stay_in_bounds() -> None:
    sentences = [f"第{i}句话讲的是永康市第{i}个镇的发展情况和今年的工作成效。" for i in range(40)]
    chunks = chunk_article(_article(["".join(sentences[:20]), "".join(sentences[20:])]))
    assert len(chunks) > 3
    for chunk in chunks:
        assert 0 < len(chunk.text) <= MAX_CHARS
        assert chunk.text.endswith("。")
        # every sentence in a chunk is a whole original sentence
        for s in split_sentences(chunk.text):
            assert s in sentences
    covered = "".join(c.text for c in chunks)
    assert all(s in covered for s in sentences)


def test_chunks_carry_article_metadata_but_not_headline_in_text() -> None:
    chunks = chunk_article(_article(["正文第一句。正文第二句。"], title="朱志杰赴古山镇"))
    assert len(chunks) == 1
    c = chunks[0]
    assert (c.title, c.date, c.source, c.article_id) == ("朱志杰赴古山镇", "7月31日", "p.txt", "p#1")
    assert "朱志杰赴古山镇" not in c.text
    assert c.index_text.startswith("朱志杰赴古山镇")


def test_overlap_repeats_a_short_sentence() -> None:
    long = "这是一段比较长的句子，用来把段落撑到足够的长度，以便触发切分逻辑，并检验重叠句是否被重复。" * 1
    para = "".join([long] * 12)
    chunks = chunk_article(_article([para]))
    assert len(chunks) >= 2
    first_last = split_sentences(chunks[0].text)[-1]
    assert split_sentences(chunks[1].text)[0] == first_last


def test_overlong_sentence_is_cut_at_clauses() -> None:
    sentence = "，".join(["这是一个没有句号的很长的分句"] * 60) + "。"
    chunks = chunk_article(_article([sentence]))
    assert all(len(c.text) <= MAX_CHARS for c in chunks)
    assert "".join(c.text for c in chunks).replace("，", "") .count("这是一个没有句号的很长的分句") >= 60


def test_headline_only_article_still_yields_a_chunk_and_ids_are_global() -> None:
    banner = Article(id="b#1", source="b.txt", title="农行视角", kind="other")
    body = _article(["一句话。"])
    chunks = list(chunk_articles([banner, body], start_id=10))
    assert [c.id for c in chunks] == [10, 11]
    assert chunks[0].text == "农行视角"
