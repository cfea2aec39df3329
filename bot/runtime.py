"""Turn settings into a running NewsQA service (the one place that wires the model)."""

from __future__ import annotations

from bot.settings import Settings
from retrieval.qa.answer import DEFAULT_MARGINS, ReaderRole
from retrieval.service import NewsQA


def make_service(settings: Settings) -> NewsQA:
    """A NewsQA service for ``settings``; the embedding model loads on first use."""

    def encoder_factory():
        from retrieval.embed.encoder import Embedder

        return Embedder(
            settings.embedding_model,
            cache_dir=settings.resolved_model_cache_dir,
            batch_size=settings.embedding_batch_size or None,
            backend=None if settings.embedding_backend == "auto" else settings.embedding_backend,
            threads=settings.embedding_threads or None,
            device=settings.embedding_device,
        )

    def reader_factory():
        from retrieval.read.reader import load_reader

        return load_reader(settings.resolved_model_cache_dir, settings.reader_backend,
                           threads=settings.reader_threads or None)

    role: ReaderRole = "spans" if settings.answer_reader == "hybrid" else "decides"
    return NewsQA(
        settings.resolved_index_dir,
        encoder_factory,
        model_name=settings.embedding_model,
        max_question_chars=settings.max_question_chars,
        sentence_vectors=settings.sentence_vectors,
        reader_factory=reader_factory if settings.answer_reader in ("model", "hybrid") else None,
        reader_margin=DEFAULT_MARGINS[role] if settings.reader_margin is None else settings.reader_margin,
        reader_role=role,
    )
