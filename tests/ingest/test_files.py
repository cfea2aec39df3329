"""Loading corpora from disk: encodings, bad files, JSONL archives, folder walking."""

from __future__ import annotations

import gzip
import itertools
import json
import os
import shutil
from pathlib import Path

import pytest

from retrieval.ingest.archives import archive_stem, iso_date
from retrieval.ingest.files import PageDecodeError, iter_corpus_files, load_corpus, read_page
from retrieval.ingest.segment import segment_page
from retrieval.models import IngestProblem
from tests.paths import CORPUS_DIR

CORPUS = CORPUS_DIR
PAGE = CORPUS / "000_903294924633f08b.txt"
XWLB = Path("/work/shared/data/xwlb_articles.jsonl.gz")


def headlines(path: Path) -> list[str]:
    return [a.headline for a in load_corpus(path).articles]


def test_seed_corpus_loads_cleanly() -> None:
    report = load_corpus(CORPUS)
    assert report.problems == []
    assert report.files == sorted(p.name for p in CORPUS.glob("*.txt"))
    assert len(report.articles) == 21
    assert report.articles[0].id == "000_903294924633f08b#1"
    assert report.articles[0].source == "000_903294924633f08b.txt"


def test_gb18030_page_decodes_like_utf8(tmp_path: Path) -> None:
    text = PAGE.read_text(encoding="utf-8")
    (tmp_path / "gbk_page.txt").write_bytes(text.encode("gb18030"))
    assert read_page(tmp_path / "gbk_page.txt") == text
    report = load_corpus(tmp_path)
    assert report.problems == []
    assert [a.headline for a in report.articles] == [a.headline for a in segment_page(text, "x.txt")]
    assert report.articles[0].title == "朱志杰赴古山镇开展“三服务”活动"


def test_gbk_page_decodes(tmp_path: Path) -> None:
    text = "本报讯 21日上午，市长朱志杰带队前往古山镇。\n\n朱志杰赴古山镇开展“三服务”活动\n"
    (tmp_path / "gbk.txt").write_bytes(text.encode("gbk"))
    assert read_page(tmp_path / "gbk.txt") == text


def test_utf8_bom_page(tmp_path: Path) -> None:
    text = PAGE.read_text(encoding="utf-8")
    (tmp_path / "bom.txt").write_bytes(text.encode("utf-8-sig"))
    assert read_page(tmp_path / "bom.txt") == text
    report = load_corpus(tmp_path / "bom.txt")
    assert report.problems == []
    assert report.files == ["bom.txt"]
    assert report.articles[0].byline == "首席记者 张赤奎"
    assert report.articles[0].id == "bom#1"


def test_utf16_bom_page(tmp_path: Path) -> None:
    text = PAGE.read_text(encoding="utf-8")
    (tmp_path / "u16.txt").write_bytes(text.encode("utf-16"))
    assert read_page(tmp_path / "u16.txt") == text


def test_empty_and_binary_files_are_skipped_and_others_load(tmp_path: Path) -> None:
    shutil.copy(PAGE, tmp_path / "b_good.txt")
    (tmp_path / "a_empty.txt").write_bytes(b"")
    (tmp_path / "c_blank.txt").write_text(" \n\n  \n", encoding="utf-8")
    (tmp_path / "d_binary.txt").write_bytes(bytes(range(256)) * 4)
    # Decodes as GB18030 ("啊" + control characters) but is clearly not a page.
    (tmp_path / "e_noise.txt").write_bytes(bytes([0xB0, 0xA1, 0x01, 0x02, 0x03, 0x04]) * 50)
    (tmp_path / "f_undecodable.txt").write_bytes(bytes([0x81, 0x20, 0xFF]) * 50)
    report = load_corpus(tmp_path)
    assert report.files == ["b_good.txt"]
    assert len(report.articles) == 4
    by_path = {p.path: p for p in report.problems}
    assert set(by_path) == {"a_empty.txt", "c_blank.txt", "d_binary.txt", "e_noise.txt", "f_undecodable.txt"}
    assert by_path["a_empty.txt"].message == "空文件，已跳过"
    assert by_path["c_blank.txt"].message == "空文件，已跳过"
    assert "二进制" in by_path["d_binary.txt"].message
    assert "二进制" in by_path["e_noise.txt"].message
    assert "无法识别" in by_path["f_undecodable.txt"].message
    assert all(p.line is None for p in report.problems)


def test_read_page_rejects_binary(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(PageDecodeError):
        read_page(tmp_path / "x.txt")


def test_jsonl_malformed_lines_reported_with_line_numbers(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a1", "title": "标题一", "date": "20190731", "text": "第一段。\n第二段。"}),
        '{"title": "坏行", "text": ',
        "",
        json.dumps(["不是对象"]),
        json.dumps({"title": "无正文", "date": "20190731"}),
        json.dumps({"title": "标题二", "date": "2019-08-01", "text": "正文。"}),
        json.dumps({"title": "标题三", "date": "昨天", "text": "正文三。"}),
    ]
    path = tmp_path / "news.jsonl"
    path.write_bytes("\n".join(lines).encode("utf-8") + b"\n\xff\xfe\n")
    report = load_corpus(path)
    assert [(p.path, p.line) for p in report.problems] == [
        ("news.jsonl", 2),
        ("news.jsonl", 4),
        ("news.jsonl", 5),
        ("news.jsonl", 8),
    ]
    assert "JSON" in report.problems[0].message
    first, second, third = report.articles
    assert (first.id, first.title, first.date, first.dateline) == ("a1", "标题一", "2019-07-31", "2019-07-31")
    assert first.paragraphs == ("第一段。", "第二段。")
    assert (first.kind, first.source) == ("news", "news.jsonl")
    assert (second.id, second.date) == ("news#6", "2019-08-01")
    assert (third.id, third.date, third.dateline) == ("news#7", "", "昨天")
    assert report.files == ["news.jsonl"]


def test_real_xwlb_sample_as_jsonl_gz(tmp_path: Path) -> None:
    if not XWLB.exists():
        pytest.skip("shared xwlb data not available")
    with gzip.open(XWLB, "rb") as handle:
        sample = list(itertools.islice(handle, 50))
    path = tmp_path / "xwlb_sample.jsonl.gz"
    with gzip.open(path, "wb") as out:
        out.writelines(sample)
    report = load_corpus(tmp_path)
    assert report.problems == []
    assert len(report.articles) == 50
    first = json.loads(sample[0])
    article = report.articles[0]
    assert article.id == first["id"]
    assert article.title == first["title"]
    raw = first["date"]
    assert article.date == f"{raw[:4]}-{raw[4:6]}-{raw[6:]}" == article.dateline
    assert article.paragraphs == tuple(p.strip() for p in first["text"].splitlines() if p.strip())
    assert all(a.source == "xwlb_sample.jsonl.gz" for a in report.articles)


def test_corrupt_gzip_is_reported(tmp_path: Path) -> None:
    (tmp_path / "bad.jsonl.gz").write_bytes(b"not gzip at all")
    shutil.copy(PAGE, tmp_path / "page.txt")
    report = load_corpus(tmp_path)
    assert [p.path for p in report.problems] == ["bad.jsonl.gz"]
    assert report.files == ["page.txt"]


def test_folder_walk_sorted_hidden_skipped_and_symlink_loops(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "a").mkdir()
    (tmp_path / ".hidden").mkdir()
    shutil.copy(PAGE, tmp_path / "b" / "p2.txt")
    shutil.copy(PAGE, tmp_path / "a" / "p1.txt")
    shutil.copy(PAGE, tmp_path / ".hidden" / "p3.txt")
    shutil.copy(PAGE, tmp_path / "a" / ".p4.txt")
    (tmp_path / "a" / "notes.md").write_text("not a page", encoding="utf-8")
    try:
        os.symlink(tmp_path, tmp_path / "a" / "loop")
    except OSError:
        pytest.skip("symlinks not supported")
    files = iter_corpus_files(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in files] == ["a/p1.txt", "b/p2.txt"]
    report = load_corpus(tmp_path)
    assert report.files == ["a/p1.txt", "b/p2.txt"]
    assert report.articles[0].id == "p1#1"


def test_missing_path_and_unsupported_file(tmp_path: Path) -> None:
    missing = load_corpus(tmp_path / "nope")
    assert missing.problems == [IngestProblem(str(tmp_path / "nope"), "路径不存在")]
    (tmp_path / "x.pdf").write_bytes(b"%PDF-1.4")
    report = load_corpus(tmp_path / "x.pdf")
    assert report.articles == [] and len(report.problems) == 1
    assert report.problems[0].path.endswith("x.pdf")
    assert iter_corpus_files(tmp_path / "x.pdf") == []


def test_helpers() -> None:
    assert archive_stem("xwlb_articles.jsonl.gz") == "xwlb_articles"
    assert archive_stem("a.JSONL") == "a"
    assert iso_date("20190731") == "2019-07-31"
    assert iso_date("2019-07-31") == "2019-07-31"
    assert iso_date("20191340") == ""
    assert iso_date("") == ""
