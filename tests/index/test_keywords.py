"""Keyword tokens kept with the index (retrieval.index.keywords): an update re-tokenises only the
chunks it must, and ends with exactly the tokens a rebuild from scratch would produce.
Tokens do not depend on the vectors, so the index is built with the hashing encoder."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retrieval.index.article_index import load_index
from retrieval.index.build import update_index
from retrieval.index.embedding import text_digest
from retrieval.index.keywords import (
    TOKENS_FILE,
    contains_any,
    load_token_cache,
    save_token_ids,
    token_ids,
    tokenize_chunks,
)
from retrieval.index.store import current_version
from retrieval.lexicon.mining import SURNAMES, Lexicon
from retrieval.lexicon.tokenizer import WordTokenizer
from retrieval.lexicon.words import load_word_tags
from retrieval.service import NewsQA
from tests.fakes import FAKE_MODEL, HashingEncoder
from tests.paths import CORPUS_DIR


def _stored_tokens(root: Path) -> dict[str, list[str]]:
    """index_text → tokens, as saved in the current version's tokens.npz."""
    index = load_index(root, expected_model=FAKE_MODEL)
    digests = [text_digest(c.index_text) for c in index.chunks]
    cache = load_token_cache(current_version(root), digests, index.lexicon)
    assert cache is not None, "the build did not save its tokens"
    return {c.index_text: cache.get(d) or [] for c, d in zip(index.chunks, digests, strict=True)}


def _new_name_in_old_text(tokenizer: WordTokenizer) -> str:
    """A surname-initial two-character string that occurs in the seed pages but is not a
    lexicon word yet, so mining it from a new file changes how old chunks tokenise; not a word
    the dictionary knows as another class (项目), which mining never takes for a name."""
    text = "".join(p.read_text(encoding="utf-8") for p in sorted(CORPUS_DIR.glob("*.txt")))
    words = set(tokenizer.lexicon.words)
    tags = load_word_tags()
    counts: dict[str, int] = {}
    for m in re.finditer(r"(?=([\u4e00-\u9fff]{2}))", text):
        w = m.group(1)
        if not tags.get(w, "nr").startswith(("nr", "nz")):
            continue
        if w[0] in SURNAMES and w not in words and w[1] not in "主带在赴对指要说参表出到与和等同作代会一是为就了也又向前深来":
            counts[w] = counts.get(w, 0) + 1
    return max(sorted(counts), key=lambda w: counts[w])


def test_update_reuses_tokens_and_equals_a_rebuild(copy_fake_index: Callable[[], Path], tmp_path: Path,
                                                   fake_service: NewsQA) -> None:
    encoder = HashingEncoder()
    root = copy_fake_index()
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, corpus)
    name = _new_name_in_old_text(fake_service.index.tokenizer)
    row = {"title": "市领导调研", "date": "2024-05-02", "text": f"本报讯 副市长{name}带队调研小微企业园建设。"}
    (corpus / "new.jsonl").write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")

    report = update_index(corpus, root, encoder)
    index = load_index(root, expected_model=FAKE_MODEL)
    assert name in index.lexicon.people, "the new name should enter the lexicon"
    touched = sum(1 for c in index.chunks if name in c.index_text)
    assert touched >= 2  # the new chunk and at least one old one
    assert touched <= report.tokenized < len(index.chunks) // 2

    rebuilt = tmp_path / "rebuilt"
    full = update_index(corpus, rebuilt, encoder, rebuild=True)
    assert full.tokenized == full.chunks
    assert _stored_tokens(root) == _stored_tokens(rebuilt)
    assert any(name in tokens for tokens in _stored_tokens(root).values())

    # and back: the file goes, the name leaves the lexicon, old chunks tokenise as before
    (corpus / "new.jsonl").unlink()
    report = update_index(corpus, root, encoder)
    assert name not in load_index(root, expected_model=FAKE_MODEL).lexicon.people
    assert report.tokenized == touched - 1
    assert _stored_tokens(root) == _stored_tokens(fake_service.index_root)


def test_index_without_token_file_is_tokenised_in_full(copy_fake_index: Callable[[], Path],
                                                        tmp_path: Path) -> None:
    """An index from before the token file existed still updates correctly (all re-tokenised)."""
    root = copy_fake_index()
    folder = current_version(root)
    # an older version would not list it in its checksums either
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    del manifest["checksums"][TOKENS_FILE]
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (folder / TOKENS_FILE).unlink()
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, corpus)
    (corpus / "new.jsonl").write_text(json.dumps({"title": "短讯", "date": "", "text": "本报讯 一条短讯。"},
                                                 ensure_ascii=False) + "\n", encoding="utf-8")
    report = update_index(corpus, root, HashingEncoder())
    assert report.tokenized == report.chunks
    assert (current_version(root) / TOKENS_FILE).is_file()


def test_round_trip_and_mismatch(tmp_path: Path) -> None:
    lists = [["永康", "五金"], [], ["五金", "城", "永康"]]
    ids, vocab = token_ids(lists)
    assert ids == [[0, 1], [], [1, 2, 0]]
    assert save_token_ids(tmp_path / TOKENS_FILE, ids, vocab)
    digests = ["a", "b", "c"]
    cache = load_token_cache(tmp_path, digests, Lexicon())
    assert cache is not None and [cache.get(d) for d in digests] == lists and cache.get("x") is None
    assert load_token_cache(tmp_path, digests[:2], Lexicon()) is None  # another index's file
    (tmp_path / TOKENS_FILE).write_bytes(b"not an npz")
    assert load_token_cache(tmp_path, digests, Lexicon()) is None
    assert not save_token_ids(tmp_path / "nl.npz", *token_ids([["a\nb"]]))


def test_contains_any() -> None:
    test = contains_any(["古山镇", "朱志杰"])
    assert test("副市长朱志杰来到古山") and test("古山镇") and not test("古山") and not test("")
    assert not contains_any([])("任何文字")


def test_reused_tokens_are_kept_only_where_exact(tmp_path: Path) -> None:
    old = WordTokenizer(Lexicon(people=("朱志杰",)))
    new = WordTokenizer(Lexicon(people=("朱志杰", "黄天明")))
    texts = ["副市长朱志杰调研", "黄天明来到古山镇", "无关的一句话"]
    digests = [text_digest(t) for t in texts]
    old_tokens = [old.tokens(t) for t in texts]
    assert save_token_ids(tmp_path / TOKENS_FILE, *token_ids(old_tokens))
    cache = load_token_cache(tmp_path, digests, old.lexicon)
    got, fresh = tokenize_chunks(texts, digests, new, cache)
    assert got == [new.tokens(t) for t in texts]
    assert fresh == 1  # only the text with the new name
    assert got[0] == old_tokens[0]


def test_batch_tokenizer_gets_only_the_fresh_texts(tmp_path: Path) -> None:
    """A Ray build tokenises elsewhere: the batch tokenizer is handed the lexicon and exactly
    the texts the cache cannot answer, and its tokens land in their rows."""
    old = WordTokenizer(Lexicon(people=("朱志杰",)))
    new = WordTokenizer(Lexicon(people=("朱志杰", "黄天明")))
    texts = ["副市长朱志杰调研", "黄天明来到古山镇", "无关的一句话", "黄天明再次来到古山镇"]
    digests = [text_digest(t) for t in texts]
    assert save_token_ids(tmp_path / TOKENS_FILE, *token_ids([old.tokens(t) for t in texts[:3]]))
    cache = load_token_cache(tmp_path, digests[:3], old.lexicon)
    calls: list[tuple[Lexicon, list[str]]] = []

    def elsewhere(lexicon: Lexicon, batch: list[str]) -> list[list[str]]:
        calls.append((lexicon, batch))
        assert lexicon == new.lexicon
        return [new.tokens(t) for t in batch]  # what another process's tokenizer makes

    got, fresh = tokenize_chunks(texts, digests, new, cache, batch_tokenizer=elsewhere)
    assert calls == [(new.lexicon, [texts[1], texts[3]])] and fresh == 2
    assert got == [new.tokens(t) for t in texts]
    with pytest.raises(RuntimeError, match="token lists"):
        tokenize_chunks(texts, digests, new, cache, batch_tokenizer=lambda lexicon, batch: [])


@pytest.fixture(scope="module")
def tokenizer_pair() -> tuple[WordTokenizer, WordTokenizer]:
    """The same lexicon, and one with 2,000 more names that the generated texts never contain
    (a 10k-article archive mines about that many)."""
    unrelated = tuple(f"{s}{c}" for s in "王李张刘陈赵吴周徐孙马胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
                      for c in "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥春夏秋冬东南西北金木水火土日月星辰风雨雷电山川")
    return (WordTokenizer(Lexicon(people=("朱志杰",), places=("古山镇",))),
            WordTokenizer(Lexicon(people=("朱志杰", *unrelated), places=("古山镇",))))


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet="永康市古山镇朱志杰黄天明调研五金城的了和新区大道", min_size=0, max_size=40))
def test_tokens_depend_only_on_lexicon_words_in_the_text(
        tokenizer_pair: tuple[WordTokenizer, WordTokenizer], text: str) -> None:
    """Adding lexicon words that do not occur in a text never changes its tokens (jieba's
    frequency total is held fixed), which is what makes reusing stored tokens exact."""
    base, more = tokenizer_pair
    assert base.tokens(text) == more.tokens(text)


@pytest.mark.parametrize("text", ["", "永康"])
def test_tokenize_without_cache(text: str) -> None:
    tok = WordTokenizer()
    got, fresh = tokenize_chunks([text], [text_digest(text)], tok)
    assert got == [tok.tokens(text)] and fresh == 1
