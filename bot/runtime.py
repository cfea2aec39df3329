"""Turn settings into a running NewsQA service (the one place that wires the model)."""

from __future__ import annotations

from bot.settings import Settings
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

    return NewsQA(
        settings.resolved_index_dir,
        encoder_factory,
        model_name=settings.embedding_model,
        max_question_chars=settings.max_question_chars,
        sentence_vectors=settings.sentence_vectors,
    )
