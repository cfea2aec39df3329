"""One NewsQA per benchmark corpus and answerer, over one encoder and one reader, with each
corpus written and indexed once under a folder named by its content hash."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from benchmarks.answer_sets import Corpus
from benchmarks.machine import cpu_info, log
from bot.runtime import make_service
from bot.settings import Settings
from retrieval.qa.answer import DEFAULT_MARGINS, ReaderRole
from retrieval.read.reader import Reader, load_reader
from retrieval.service import NewsQA


class Services:
    """One NewsQA per corpus and answerer (``rules`` or ``model``), all over the first service's
    encoder and one reader (loaded once, on the first question read)."""

    def __init__(self, work: Path, model_cache: Path, rebuild: bool, reader_weights: Path | None = None,
                 reader_margin: float | None = None) -> None:
        self.work, self.model_cache, self.rebuild = work, model_cache, rebuild
        self.reader_weights = reader_weights
        self.reader_margin = reader_margin  # None: each reader role's calibrated default
        self.first: NewsQA | None = None
        self._by_key: dict[str, NewsQA] = {}
        self._reader: Reader | None = None

    def over(self, corpus: Corpus, answerer: str = "rules") -> NewsQA:
        if corpus.key not in self._by_key:
            self._by_key[corpus.key] = self._open(corpus)
        rules = self._by_key[corpus.key]
        if answerer == "rules":
            return rules
        key = f"{corpus.key}:{answerer}"
        if key not in self._by_key:
            # hybrid: the rules decide, the reader picks the short answer
            role: ReaderRole = "spans" if answerer == "hybrid" else "decides"
            margin = DEFAULT_MARGINS[role] if self.reader_margin is None else self.reader_margin
            self._by_key[key] = NewsQA(rules.index_root, lambda: rules.encoder.loaded, model_name=rules.model_name,
                                       reader_factory=self.reader, reader_margin=margin, reader_role=role)
        return self._by_key[key]

    def reader(self) -> Reader:
        if self._reader is None:
            log("loading the reader …")
            self._reader = load_reader(self.model_cache, weights=self.reader_weights)
        return self._reader

    def _open(self, corpus: Corpus) -> NewsQA:
        home = self.work / corpus.key
        corpus_dir, index_dir = home / "corpus", home / "index"
        write_corpus(corpus, corpus_dir)
        if corpus.seed is not None and not index_dir.exists():
            seed_index = self.over(corpus.seed).index_root
            shutil.copytree(seed_index, index_dir, symlinks=True, ignore=shutil.ignore_patterns("*.lock"))
            log(f"index {corpus.key}: starting from a copy of {corpus.seed.key}")
        service = self._service(home, corpus_dir, index_dir)
        log(f"index {corpus.key} ({corpus.size()} items) …")
        report = service.reindex(corpus_dir, rebuild=self.rebuild, progress=ProgressLog())
        state = "cached" if report.noop else f"built in {report.seconds:.0f} s ({report.embedded} embedded)"
        problems = f", {len(report.problems)} input problems" if report.problems else ""
        log(f"index {corpus.key}: {report.articles} articles, {report.chunks} chunks, {state}{problems}")
        service.warm_up()
        return service

    def _service(self, home: Path, corpus_dir: Path, index_dir: Path) -> NewsQA:
        if self.first is None:
            settings = Settings(  # type: ignore[call-arg]
                _env_file=None, corpus_dir=corpus_dir, data_dir=home, index_dir=index_dir,
                model_cache_dir=self.model_cache, answer_reader="rules",  # the baseline; readers in over()
            )
            self.first = make_service(settings)
            return self.first
        first = self.first
        return NewsQA(index_dir, lambda: first.encoder, model_name=first.model_name)


def write_corpus(corpus: Corpus, folder: Path) -> None:
    """Write the corpus files once; a folder named by the content hash never changes."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in corpus.files:
        target = folder / name
        if not target.exists() or target.read_bytes() != data:
            tmp = target.with_name(f".{name}.tmp")
            tmp.write_bytes(data)
            tmp.replace(target)


class ProgressLog:
    """Build progress as a log line at every tenth of a stage (readable under nohup)."""

    def __init__(self) -> None:
        self._last: tuple[str, int] = ("", -1)

    def __call__(self, stage: str, done: int, total: int) -> None:
        tenth = done * 10 // total if total else 10
        if (stage, tenth) != self._last and stage in ("embed", "sentences", "keywords"):
            self._last = (stage, tenth)
            log(f"  {stage} {done}/{total}")


def header(services: Services) -> dict[str, object]:
    info = cpu_info()
    first = services.first
    encoder = first.encoder.loaded if first is not None else None
    info.update({
        "date": date.today().isoformat(),
        "model": first.model_name if first is not None else "",
        "backend": str(getattr(encoder, "backend", "?")),
    })
    return info
