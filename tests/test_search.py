"""Hybrid search (retrieval.search): its mechanics over the seed index, once with the hashing
encoder (tests/fakes.py) and once, in the ``slow`` run, with the real default model (whose
tokenizer must also survive the odd input); ranking quality with the real model only."""

from __future__ import annotations

import json
import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retrieval.evaluate import groups_present
from retrieval.search import HybridSearcher
from retrieval.service import NewsQA
from retrieval.text import make_simplifier, normalize_query
from tests.paths import DEV_SET

ZHANG = "章旭升"


def _dev_questions() -> list[dict]:
    if not DEV_SET.is_file():
        return []
    return [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module", params=["fake_service", pytest.param("seed_service", marks=pytest.mark.slow)],
                ids=["hashing", "real-model"])
def searcher(request: pytest.FixtureRequest) -> HybridSearcher:
    """A searcher over the seed index with either encoder: for tests of the mechanics."""
    service: NewsQA = request.getfixturevalue(request.param)
    return HybridSearcher(service.index, service.encoder)


@pytest.fixture(scope="module")
def real_searcher(seed_service: NewsQA) -> HybridSearcher:
    """The real model's searcher: for tests of what is found (use with ``@pytest.mark.slow``)."""
    return HybridSearcher(seed_service.index, seed_service.encoder)


def _check_ranking(hits, k: int) -> None:
    assert len(hits) <= k
    assert [h.rank for h in hits] == list(range(len(hits)))
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True), "fused scores must descend"
    assert len({h.chunk.id for h in hits}) == len(hits), "a chunk is listed once"
    for hit in hits:
        assert hit.score > 0
        assert -1.0 - 1e-4 <= hit.dense <= 1.0 + 1e-4, hit.dense
        assert hit.keyword >= 0.0


# -- quality on known questions ----------------------------------------------------------------


@pytest.mark.slow
def test_comparison_question_finds_the_passage(real_searcher: HybridSearcher) -> None:
    hits = real_searcher.search("舟山镇被比作什么", k=5)
    _check_ranking(hits, 5)
    assert any("大水缸" in h.chunk.text for h in hits[:3])


@pytest.mark.slow
def test_name_query_ranks_the_persons_articles_first(real_searcher: HybridSearcher) -> None:
    index = real_searcher.index
    his_chunks = [c for c in index.chunks if ZHANG in index.article_by_id[c.article_id].headline]
    assert len(his_chunks) >= 3
    hits = real_searcher.search(ZHANG, k=len(his_chunks))
    _check_ranking(hits, len(his_chunks))
    for hit in hits[:3]:
        assert ZHANG in index.article_by_id[hit.chunk.article_id].headline
    assert all(ZHANG in h.chunk.index_text for h in hits)


def test_traditional_characters_give_the_same_top_hit(searcher: HybridSearcher) -> None:
    simplified = searcher.search("舟山镇被比作什么", k=3)
    traditional = searcher.search("舟山鎮被比作什麼", k=3)
    assert traditional[0].chunk.id == simplified[0].chunk.id
    assert [h.chunk.id for h in traditional] == [h.chunk.id for h in simplified]


def test_same_query_same_results(searcher: HybridSearcher) -> None:
    first = searcher.search("金台铁路铺轨", k=5)
    second = searcher.search("金台铁路铺轨", k=5)
    assert [(h.chunk.id, h.score) for h in first] == [(h.chunk.id, h.score) for h in second]


# -- odd input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", " ", "   \t\n  ", "\u3000\u3000", "\x00\x01", "\u200b\ufeff"])
def test_empty_queries_return_nothing(searcher: HybridSearcher, query: str) -> None:
    assert searcher.search(query) == []


@pytest.mark.parametrize("query", ["😀🎉👍", "🇨🇳", "？？？", "<b>&amp;*_", "朱志杰" * 2000])
def test_odd_queries_do_not_raise(searcher: HybridSearcher, query: str) -> None:
    hits = searcher.search(query, k=4)
    _check_ranking(hits, 4)


@pytest.mark.parametrize("k", [1, 3, 7])
def test_k_is_honoured(searcher: HybridSearcher, k: int) -> None:
    hits = searcher.search("朱志杰", k=k)
    assert len(hits) == k
    _check_ranking(hits, k)


def test_k_larger_than_the_index_and_zero(searcher: HybridSearcher) -> None:
    n = len(searcher.index.chunks)
    hits = searcher.search("永康", k=n + 50)
    assert 0 < len(hits) <= n
    _check_ranking(hits, n)
    assert searcher.search("永康", k=0) == []


def test_dense_is_the_true_cosine_for_every_hit(searcher: HybridSearcher) -> None:
    """Keyword-only hits get their real cosine too (the answer layer calibrates on it)."""
    query = "小微企业园"
    qv = searcher.query_vector(normalize_query(query, simplifier=searcher.simplifier))
    vectors = searcher.index.stored_vectors()
    for hit in searcher.search(query, k=10):
        assert hit.dense == pytest.approx(float(vectors[hit.chunk.id] @ qv), abs=1e-4)


# -- normalize_query ---------------------------------------------------------------------------


def test_normalize_removes_control_characters_and_collapses_space() -> None:
    assert normalize_query("\x00朱志杰\x07去过\x1b哪些镇\x7f\x9f") == "朱志杰 去过 哪些镇"
    assert normalize_query("  朱志杰\t\n\r 去过  ") == "朱志杰 去过"
    assert normalize_query("\ufeff朱志杰") == "朱志杰"
    assert normalize_query("ＡＢＣ　１２３") == "ABC 123"  # NFKC: full-width forms


@pytest.mark.parametrize("invisible", ["\u200b", "\u200c", "\u200d", "\u2060", "\u00ad", "\ufeff"],
                         ids=["zwsp", "zwnj", "zwj", "word-joiner", "soft-hyphen", "bom"])
def test_normalize_deletes_invisible_characters_inside_words(invisible: str) -> None:
    """Copy-pasted names often carry zero-width characters; they must not split the name."""
    assert normalize_query(f"朱{invisible}志杰去过哪些镇") == "朱志杰去过哪些镇"


@pytest.mark.parametrize("mark", ["\u202a", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"])
def test_normalize_removes_bidi_controls(mark: str) -> None:
    assert unicodedata.category(mark) == "Cf"
    assert mark not in normalize_query(f"{mark}朱志杰{mark}去过哪些镇")


def test_normalize_truncates_and_simplifies() -> None:
    assert normalize_query("朱" * 600) == "朱" * 500
    assert normalize_query("朱志杰去过哪些镇", max_chars=3) == "朱志杰"
    assert normalize_query("舟山鎮被比作什麼", simplifier=make_simplifier()) == "舟山镇被比作什么"
    assert normalize_query("Zhu Zhijie", simplifier=make_simplifier()) == "Zhu Zhijie"


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=80), max_chars=st.integers(min_value=1, max_value=60))
def test_normalize_query_properties(text: str, max_chars: int) -> None:
    out = normalize_query(text, max_chars)
    assert len(out) <= max_chars
    assert out == out.lstrip()  # (truncation may leave one trailing space: harmless)
    assert "  " not in out
    assert not re.search(r"[\x00-\x1f\x7f-\x9f]", out), "no C0/C1 control characters"
    assert normalize_query(out, max_chars) == out.rstrip(), "normalising twice changes nothing"


# -- evidence recall on the dev set ------------------------------------------------------------

_ANSWERABLE = [q for q in _dev_questions() if q["type"] not in ("unanswerable", "aggregate")]


@pytest.mark.slow
@pytest.mark.parametrize("item", _ANSWERABLE, ids=[q["id"] for q in _ANSWERABLE])
def test_dev_evidence_in_top5(real_searcher: HybridSearcher, item: dict) -> None:
    """Aggregate questions are answered from the keyword inverted index, not top-k."""
    hits = real_searcher.search(item["q"], k=5)
    text = "\n".join(h.chunk.text for h in hits)
    assert groups_present(item["answers"], text), f"{item['q']}: {item['answers']} not in top-5"


def test_dev_set_is_there() -> None:
    assert len(_ANSWERABLE) >= 10, f"expected the dev questions at {DEV_SET}"
