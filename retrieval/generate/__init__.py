"""Optional generated answers: an LLM rewrites a found extractive answer from exactly its cited
passages, and a fact guard rejects any rewrite stating what those passages do not.

Plain arguments in, plain dataclasses out: nothing here knows Telegram or settings. The bot
streams with :func:`retrieval.generate.client.stream` and checks the final text with
:func:`retrieval.generate.guard.check`; :func:`rewrite` does both in one blocking call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from retrieval.generate.client import GenerationUnavailable, LLMConfig, complete
from retrieval.generate.guard import GuardFailure, check
from retrieval.generate.prompt import for_answer
from retrieval.models import Answer

__all__ = ["Generation", "GenerationUnavailable", "GuardFailure", "LLMConfig", "rewrite", "wants_generation"]


@dataclass(frozen=True)
class Generation:
    """The outcome of one rewrite. ``generated`` is True only when ``text`` is the model's and
    passed the guard; otherwise ``text`` is the extractive answer and ``failures`` (guard items)
    or ``error`` (endpoint) say why."""

    text: str
    generated: bool
    failures: tuple[GuardFailure, ...] = ()
    error: str = ""
    model_text: str = field(default="", repr=False)


def wants_generation(answer: Answer) -> bool:
    """Generation never decides whether the archive answers: it rewrites found answers only."""
    return answer.found and answer.kind != "invalid" and bool(answer.citations)


def judge(answer: Answer, model_text: str, sources: list[str], passages: int) -> Generation:
    """The guard's verdict on a finished reply as a :class:`Generation`."""
    text = model_text.strip()
    failures = tuple(check(text, sources, passages))
    if failures:
        return Generation(answer.text, False, failures=failures, model_text=text)
    return Generation(text, True, model_text=text)


def rewrite(config: LLMConfig, answer: Answer) -> Generation:
    """Generate (blocking) and guard; the extractive answer whenever either fails."""
    if not wants_generation(answer):
        return Generation(answer.text, False)
    messages, sources, passages = for_answer(answer)
    try:
        model_text = complete(config, messages)
    except GenerationUnavailable as exc:
        return Generation(answer.text, False, error=str(exc))
    return judge(answer, model_text, sources, passages)
