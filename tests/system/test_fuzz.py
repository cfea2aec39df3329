"""Property tests (hypothesis) for what strangers and odd archives can send us.

They extend, not repeat, the properties elsewhere: tests/ingest/test_segment.py fuzzes ``segment`` on
page-like text and tests/bot/test_render.py fuzzes ``render_answer`` / ``passage_message`` with
short random texts. Here: pages as *bytes* through decoding (encodings, BOMs, control and
astral characters, CRLF, odd line breaks), whole files through ``load_corpus``, the question
pipeline and ``NewsQA.ask`` on the seed index (with the hashing encoder, and in the ``slow`` run
with the real model and its tokenizer too), and the rendered texts test_render leaves out (long
astral-heavy answers, many sources, reindex summaries and progress, help texts).
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.telegram import render
from bot.telegram.reindex_job import progress_text, summary_text
from retrieval.index.build import BuildReport
from retrieval.ingest.files import PageDecodeError, decode_page, load_corpus
from retrieval.ingest.segment import segment, segment_page
from retrieval.lexicon.tokenizer import STOPWORDS
from retrieval.models import Answer, AnswerItem, Citation, IngestProblem
from retrieval.qa.question import content_words, focus_noun, parse_question
from retrieval.service import NewsQA
from retrieval.text import make_simplifier, normalize_query
from tests.ingest.test_segment import article_chars, visible
from tests.telegram_html import MAX_MESSAGE_LENGTH, parse_telegram_html, utf16_len, validate_telegram_html


def examples(n: int) -> settings:
    return settings(max_examples=n, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

PAGE_WORDS = ["本报讯", "记者 王小明", "摄", "□", "■", "。", "，", "“", "”", "朱志杰", "古山镇", "舟山镇", "日上午",
              "实施实施", "三服务三服务", "  ", "\u3000", "（", "）"]
ODD = ["\r\n", "\r", "\x0c", "\x0b", "\u2028", "\u2029", "\x85", "\t", "\x00", "\x1b", "\x7f", "\u200b", "\ufeff",
       "😀", "🇨🇳", "𠀀", "é", "é", "<b>", "&amp;", "\ud7ff"]
page_like = st.lists(st.one_of(st.sampled_from(PAGE_WORDS), st.sampled_from(ODD), st.text(max_size=12),
                               st.just("\n")), max_size=80).map("".join)
ENCODINGS = ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"]


# ----------------------------------------------------------------------------- ingestion
@examples(200)
@given(text=page_like, encoding=st.sampled_from(ENCODINGS))
def test_page_bytes_decode_then_segment_never_raise_and_lose_nothing(text: str, encoding: str) -> None:
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        assume(False)
        return
    try:
        decoded = decode_page(data)
    except PageDecodeError:
        return  # reported as a problem and skipped (binary-looking); never an exception upward
    if encoding in ("utf-8", "utf-8-sig", "utf-16"):
        assert decoded == text.removeprefix("\ufeff") or decoded == text
    result = segment(decoded, "fuzz.txt")
    assert article_chars(result.articles, result.dropped) == visible(decoded)
    assert segment_page(decoded, "fuzz.txt") == list(result.articles)


@examples(60)
@given(files=st.lists(st.tuples(st.sampled_from(["a.txt", "b.jsonl", "c.jsonl.gz", "d.txt", "e.jsonl"]),
                                st.one_of(st.binary(max_size=300), page_like.map(lambda t: t.encode("utf-8", "replace")),
                                          st.lists(st.sampled_from([b'{"title": "t", "text": "x"}', b"{", b"[]",
                                                                    b'{"text": 5}', b"\xff\xfe", b"", b"null"]),
                                                   max_size=6).map(b"\n".join))),
                      max_size=5, unique_by=lambda f: f[0]),
       bom=st.booleans())
def test_load_corpus_never_raises_and_accounts_for_every_file(files: list[tuple[str, bytes]], bom: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for name, data in files:
            (root / name).write_bytes((codecs.BOM_UTF8 if bom else b"") + data)
        report = load_corpus(root)
    names = {name for name, _ in files}
    assert report.hashes == {name: hashlib.sha256((codecs.BOM_UTF8 if bom else b"") + data).hexdigest()
                             for name, data in files}, "every file is hashed, from all of its bytes"
    problem_files = {p.path for p in report.problems}
    assert names <= set(report.files) | problem_files, "each file either loads or is reported by name"
    assert all(isinstance(p, IngestProblem) and p.message for p in report.problems)
    assert all(a.source in names for a in report.articles)


# ----------------------------------------------------------------------------- questions
QUESTION_WORDS = ["朱志杰", "去过", "哪些", "镇", "什么", "多少", "舟山鎮", "被比作", "？", "?", "哪里", "几个",
                  "的", "是", "参加了", "活动", "照片", "Zhu", " ", "<b>", "&amp;", "*_", "\x00", "😀", "1-7月", "13.25%"]
question_like = st.one_of(st.text(max_size=40),
                          st.lists(st.sampled_from(QUESTION_WORDS), max_size=10).map("".join))


@pytest.fixture(scope="module")
def simplifier():  # type: ignore[no-untyped-def]
    return make_simplifier()


@examples(300)
@given(text=question_like)
def test_question_parsing_never_raises(fake_service: NewsQA, simplifier, text: str) -> None:  # type: ignore[no-untyped-def]
    index = fake_service.index  # the lexicon and tokenizer: the same whatever the encoder
    normal = normalize_query(text, 500, simplifier)
    parsed = parse_question(normal, index.lexicon)
    assert parsed.text == normal and isinstance(parsed.is_list, bool)
    assert parsed.entity == "" or parsed.entity in normal
    words = index.tokenizer.words(normal)
    content = content_words(words, STOPWORDS)
    assert all(w.strip() and w not in STOPWORDS for w in content)
    focus = focus_noun(words, index.tokenizer.tags)
    assert isinstance(focus, str)


@examples(30)
@given(text=question_like)
def test_ask_on_the_seed_index_never_raises(any_seed_service: NewsQA, text: str,
                                            caplog: pytest.LogCaptureFixture) -> None:
    answer = any_seed_service.ask(text)
    assert isinstance(answer, Answer) and answer.question == text
    assert isinstance(answer.found, bool) and answer.text.strip()
    assert answer.kind in ("invalid", "none", "factoid", "list")
    assert not answer.found or answer.citations
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# ----------------------------------------------------------------------------- rendering
unicode_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)  # anything but surrogates
astral = st.lists(st.sampled_from(["😀", "𠀀", "🇨🇳", "👍🏽", "<", ">", "&", '"', "'", "\x00", "\u2028", "。", "\n",
                                   "a"]), min_size=1, max_size=40).map("".join)


def assert_sendable(parts: list[str]) -> None:
    assert parts
    for part in parts:
        assert validate_telegram_html(part) is None, (validate_telegram_html(part), part[:200])
        assert utf16_len(part) <= MAX_MESSAGE_LENGTH
        assert parse_telegram_html(part)[0].strip()


@examples(60)
@given(text=astral, repeat=st.integers(100, 400), note=unicode_text, kind=st.sampled_from(["factoid", "list", "none"]),
       n_sources=st.integers(0, 70), title=unicode_text, source=unicode_text)
def test_long_astral_answers_with_many_sources_split_validly(text: str, repeat: int, note: str, kind: str,
                                                             n_sources: int, title: str, source: str) -> None:
    """Emoji count two UTF-16 units; answers far over one message; more sources than shown."""
    citations = tuple(Citation(f"a{n}", title + str(n), "2019-07-31", source, text, 0.5) for n in range(n_sources))
    items = tuple(AnswerItem(f"{text}{n}", text, citations[n:n + 1]) for n in range(min(n_sources, 30)))
    answer = Answer(text, bool(n_sources), (text * repeat), kind=kind, citations=citations,  # type: ignore[arg-type]
                    related=citations[:3], items=items, note=note)
    parts = render.render_answer(answer)
    assert_sendable(parts)
    joined = "".join(parse_telegram_html(p)[0] for p in parts)
    if answer.found and len({(c.article_id, c.source) for c in citations}) > render.MAX_SOURCES:
        assert "另有" in joined
    assert_sendable([render.inline_answer_message(answer)])
    assert 0 < len(render.inline_answer_title(answer)) <= 70
    assert len(render.inline_answer_description(answer)) <= 100


@examples(100)
@given(names=st.lists(unicode_text, max_size=12), messages=st.lists(st.tuples(unicode_text, unicode_text,
                                                                              st.none() | st.integers(1, 10**6)),
                                                                    max_size=8),
       noop=st.booleans(), stage=st.sampled_from(["start", "chunk", "embed", "keywords", "done", "???"]),
       done=st.integers(0, 10**6), total=st.integers(0, 10**6), elapsed=st.floats(0, 10**6))
def test_reindex_summary_and_progress_are_valid_html(names: list[str], messages: list[tuple[str, str, int | None]],
                                                     noop: bool, stage: str, done: int, total: int,
                                                     elapsed: float) -> None:
    """File names and problem messages come from the corpus folder: anything at all."""
    report = BuildReport(added=names, changed=names[:3], removed=names[1:], noop=noop, articles=len(names),
                         problems=[IngestProblem(path, message, line) for path, message, line in messages])
    assert_sendable([summary_text(report)])
    assert_sendable([progress_text(stage, done, total, elapsed)])


@examples(100)
@given(username=st.none() | unicode_text)
def test_help_and_usage_are_valid_for_any_bot_username(username: str | None) -> None:
    assert_sendable([render.help_text(username)])
    assert_sendable([render.ask_usage(username)])


def test_reindex_summary_with_the_longest_real_names_fits_one_message() -> None:
    """Linux file names reach 255 bytes; problem messages quote exceptions."""
    longest = ["档" * 85, "a" * 255, "<&>" * 85]
    report = BuildReport(added=longest * 4, changed=longest * 4, removed=longest * 4, articles=1,
                         problems=[IngestProblem(name, "坏" * 300, 7) for name in longest * 3])
    assert_sendable([summary_text(report)])
