"""Question answering: question analysis, factoid answers, complete lists, and the decision
whether the archive supports an answer at all."""

from retrieval.qa.answer import NOT_FOUND, Answerer

__all__ = ["NOT_FOUND", "Answerer"]
