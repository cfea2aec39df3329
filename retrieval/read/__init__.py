"""The trained reader: question + passages → the best answer span of each, scored against "no
answer". Windows (``windows``) → model (``reader.BACKENDS``) → best spans (``postprocess``)."""

from retrieval.read.reader import Reader, ReadSpan, SpanReader, load_reader

__all__ = ["ReadSpan", "Reader", "SpanReader", "load_reader"]
