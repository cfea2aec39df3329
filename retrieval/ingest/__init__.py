"""Ingestion: corpus files → clean lines → page layout → headlines → Article records.

``files`` is the I/O edge (page text files and article-level JSONL archives); ``clean``,
``layout``, ``headline`` and ``segment`` are pure functions that recover the articles of one
PDF-extracted page.
"""

from retrieval.ingest.files import IngestReport, load_corpus, scan_corpus
from retrieval.models import IngestProblem

__all__ = ["IngestProblem", "IngestReport", "load_corpus", "scan_corpus"]
