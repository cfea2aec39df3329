"""`newsqa ask` with generated answers (when LLM_* is set): the rewrite the fact guard passed,
or the extractive answer and why. The --json ``answer`` stays extractive (other tools rely on
it); the rewrite and the guard's verdict are additive keys."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from bot.cli.format import answer_json
from bot.settings import Settings
from retrieval.models import Answer

if TYPE_CHECKING:  # imported only when generation is configured (openai is not loaded otherwise)
    from retrieval.generate import Generation

log = logging.getLogger("newsqa")

Rewriter = Callable[[Answer], "Generation"]


def rewriter(settings: Settings) -> Rewriter:
    """The configured LLM rewrite (``retrieval.generate.rewrite``)."""
    from bot.telegram.generation import llm_config
    from retrieval.generate import rewrite

    config = llm_config(settings)
    return lambda answer: rewrite(config, answer)


def generated(answer: Answer, rewrite: Rewriter | None) -> tuple[Answer, dict[str, object]]:
    """The answer to show and the additive JSON keys: the checked rewrite when one passed the
    fact guard, else the extractive answer with why (guard items or the endpoint error)."""
    if rewrite is None:
        return answer, {}
    from bot.telegram.generation import GENERATED_NOTE, UNAVAILABLE_NOTE
    from retrieval.generate import wants_generation

    if not wants_generation(answer):
        return answer, {"generated": False}
    result = rewrite(answer)
    extra: dict[str, object] = {"generated": result.generated}
    if result.failures:
        extra["guard_failures"] = [f"{f.kind}:{f.text}" for f in result.failures]
        log.info("generated answer rejected by the fact guard: %s", extra["guard_failures"])
    if result.error:
        extra["generation_error"] = result.error
        return replace(answer, note=UNAVAILABLE_NOTE), extra
    if result.generated:
        extra["generated_answer"] = result.text
        return replace(answer, text=result.text, note=GENERATED_NOTE), extra
    return answer, extra


def answer_out(answer: Answer, rewrite: Rewriter | None) -> dict[str, object]:
    """The --json object for ``answer``, with the generation keys when generation is on."""
    _, extra = generated(answer, rewrite)
    return {**answer_json(answer), **extra}


def shown(answer: Answer, rewrite: Rewriter | None) -> Answer:
    """What the human-readable output prints."""
    return generated(answer, rewrite)[0]
