"""Build or update the index from a corpus folder: ingest → chunk → embed → FAISS + BM25 → swap.

Only chunks whose text is new are embedded: vectors of unchanged text are reused from
the current index, and from checkpoint shards written while a killed build was running,
so an interrupted build resumes without redoing finished work.

A build may be killed at any moment (``scripts/crash_test.py`` does, ≥ 20 times): the lock is
an flock the kernel releases, the new version becomes visible only through
``store.commit_version``'s atomic swap, and the next build removes whatever the killed one
left (``tmp-*`` folders, half-written checkpoint shards). The manifest lists each corpus file
with the hash of the bytes that were actually ingested, so a file that changes or vanishes
while the build runs is never recorded as indexed when it is not.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from retrieval.chunk import chunk_articles
from retrieval.fs import file_sha256
from retrieval.index.article_index import ArticleIndex, load_index
from retrieval.index.embedding import (
    Checkpoint,
    PassageEncoder,
    clear_checkpoints,
    embed_missing,
    text_digest,
)
from retrieval.index.embedding import sentence_vectors as build_sentence_vectors
from retrieval.index.keywords import (
    TOKENS_FILE,
    BatchTokenizer,
    keyword_index_from_ids,
    load_token_cache,
    save_token_ids,
    token_ids,
    tokenize_chunks,
)
from retrieval.index.store import (
    IndexStoreError,
    Manifest,
    build_lock,
    collect_garbage,
    commit_version,
    new_version_dir,
    trace,
)
from retrieval.index.vectors import make_vector_index
from retrieval.ingest.files import load_corpus, scan_corpus
from retrieval.lexicon.mining import MINING_VERSION, mine_lexicon
from retrieval.lexicon.tokenizer import WordTokenizer
from retrieval.models import IngestProblem, ProgressFn

log = logging.getLogger(__name__)

@dataclass
class BuildReport:
    """What a build did. File lists hold corpus-relative names."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[IngestProblem] = field(default_factory=list)
    articles: int = 0
    chunks: int = 0
    articles_before: int = 0
    chunks_before: int = 0
    embedded: int = 0
    reused: int = 0
    sentences_embedded: int = 0  # sentence vectors computed afresh (the rest reused)
    tokenized: int = 0  # chunks tokenised afresh for keyword search (the rest reused)
    seconds: float = 0.0
    noop: bool = False
    version: str = ""


def corpus_hashes(corpus: Path) -> tuple[dict[str, str], list[IngestProblem]]:
    """sha256 of every corpus file, keyed by the same name ingestion uses as ``source``.

    Only decides whether anything changed; the manifest records the hashes ingestion computes
    from the bytes it actually read (``IngestReport.hashes``).
    """
    hashes: dict[str, str] = {}
    problems: list[IngestProblem] = []
    base = corpus if corpus.is_dir() else corpus.parent
    files, _ = scan_corpus(corpus)  # files it skips are reported by load_corpus
    for path in files:
        name = path.relative_to(base).as_posix()
        try:
            hashes[name] = file_sha256(path)
        except OSError as exc:  # deleted or unreadable while we look
            problems.append(IngestProblem(name, f"无法读取文件：{exc.strerror or exc}"))
    return hashes, problems


def _previous_index(root: Path, model: str) -> ArticleIndex | None:
    try:
        return load_index(root, expected_model=model)
    except IndexStoreError as exc:
        log.info("no reusable previous index: %s", exc)
        return None


def update_index(
    corpus: Path,
    root: Path,
    encoder: PassageEncoder,
    *,
    rebuild: bool = False,
    progress: ProgressFn | None = None,
    sentence_vectors: bool = True,
    batch_tokenizer: BatchTokenizer | None = None,
) -> BuildReport:
    """Bring the index under ``root`` up to date with ``corpus``; a no-op if nothing changed.
    ``sentence_vectors`` stores a vector per chunk sentence (``retrieval.index.sentences``);
    an index without them is upgraded by the next build that asks for them.
    ``batch_tokenizer`` tokenises the chunks for keyword search elsewhere (a Ray build's workers).

    Raises IndexBusyError if another build holds the lock.
    """
    started = time.perf_counter()
    if not corpus.exists():  # unmounted or mistyped: never replace the index with an empty one
        raise IndexStoreError(f"语料目录 {corpus} 不存在，索引没有改动。")
    trace("start")
    with build_lock(root):
        trace("locked")
        collect_garbage(root)
        trace("hash")
        hashes, problems = corpus_hashes(corpus)
        trace("load-old")
        old = None if rebuild else _previous_index(root, encoder.name)
        old_files = old.manifest.files if old else {}
        # An index from before sentence vectors, or mined by another version of the lexicon
        # miner, is brought up to date even if no file changed.
        current = old is not None and old.manifest.mining_version == MINING_VERSION
        if old is not None and old_files == hashes and current and (old.sentences is not None or not sentence_vectors):
            report = _compare(hashes, old_files, old)
            report.noop, report.articles, report.chunks = True, len(old.articles), len(old.chunks)
            report.problems = problems
            report.seconds = time.perf_counter() - started
            report.version = old.path.name if old.path else ""
            clear_checkpoints(root)
            trace("noop")
            return report

        trace("ingest")
        ingested = load_corpus(corpus)
        # What the new version holds: the bytes ingestion read, not the earlier look.
        hashes = ingested.hashes
        report = _compare(hashes, old_files, old)
        vanished = {p.path for p in ingested.problems}
        report.problems = [p for p in problems if p.path not in vanished and p.path not in hashes] + ingested.problems
        articles = ingested.articles
        trace("chunk")
        chunks = list(chunk_articles(articles))
        if progress:
            progress("chunk", len(chunks), len(chunks))

        trace("embed")
        checkpoint = Checkpoint(root, encoder.name)
        cache = checkpoint.load()
        old_digests = [text_digest(c.index_text) for c in old.chunks] if old is not None else []
        if old is not None:
            cache.update(zip(old_digests, old.stored_vectors(), strict=True))
        texts = [c.index_text for c in chunks]
        digests = [text_digest(t) for t in texts]
        report.embedded = embed_missing(texts, digests, cache, encoder, checkpoint, progress)
        report.reused = len(chunks) - report.embedded
        vectors = (
            np.stack([cache[d] for d in digests]).astype(np.float32)
            if texts else np.zeros((0, encoder.dim), dtype=np.float32)
        )
        trace("sentences")
        sentences = None
        if sentence_vectors:
            sentences, report.sentences_embedded = build_sentence_vectors(chunks, old, cache, encoder, checkpoint,
                                                                          progress)
        del cache

        trace("keywords")
        lexicon = mine_lexicon(f"{a.headline}\n{a.byline}\n{a.text}" for a in articles)
        previous_tokens = (load_token_cache(old.path, old_digests, old.lexicon)
                           if old is not None and old.path is not None else None)
        token_lists, report.tokenized = tokenize_chunks(texts, digests, WordTokenizer(lexicon),
                                                        previous_tokens, progress, batch_tokenizer)
        del previous_tokens
        id_lists, vocab = token_ids(token_lists)
        del token_lists
        trace("vectors")
        vector_index, kind = make_vector_index(vectors)
        manifest = Manifest(
            model=encoder.name, dim=encoder.dim, files=hashes, articles=len(articles),
            chunks=len(chunks), vector_index=kind, build_seconds=time.perf_counter() - started,
            mining_version=MINING_VERSION,
        )
        trace("bm25")
        index = ArticleIndex(manifest, articles, chunks, vector_index, keyword_index_from_ids(id_lists, vocab), lexicon,
                             sentences=sentences)
        trace("save")
        tmp = new_version_dir(root)
        index.save(tmp)
        save_token_ids(tmp / TOKENS_FILE, id_lists, vocab)
        final = commit_version(root, tmp, manifest)
        trace("checkpoint-clear")
        checkpoint.clear()
        collect_garbage(root)
        report.articles, report.chunks = len(articles), len(chunks)
        report.version = final.name
        report.seconds = time.perf_counter() - started
        trace("done")
        if progress:
            progress("done", len(chunks), len(chunks))
        return report


def _compare(hashes: dict[str, str], old_files: dict[str, str], old: ArticleIndex | None) -> BuildReport:
    return BuildReport(
        added=sorted(set(hashes) - set(old_files)),
        removed=sorted(set(old_files) - set(hashes)),
        changed=sorted(n for n in hashes if n in old_files and old_files[n] != hashes[n]),
        unchanged=sorted(n for n in hashes if old_files.get(n) == hashes[n]),
        articles_before=len(old.articles) if old else 0,
        chunks_before=len(old.chunks) if old else 0,
    )
