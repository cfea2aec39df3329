"""Calls to any OpenAI-compatible chat endpoint (DeepSeek, Qwen via DashScope, Ollama, vLLM)
through the maintained ``openai`` client: one reply at once (:func:`complete`) or as it is
written (:func:`stream`). Every endpoint failure comes out as :class:`GenerationUnavailable`."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import openai

MAX_TOKENS = 600  # three or four sentences of Chinese with markers need far less
TEMPERATURE = 0.2  # a rewrite, not a composition: stay close to the passages
STREAM_BUDGET = 3.0  # a stream may take this many times the timeout in all (each read: the timeout)
NO_KEY = "EMPTY"  # local servers (vLLM, llama.cpp) ignore the key but the client requires one


@dataclass(frozen=True)
class LLMConfig:
    """Where and how to generate. ``timeout`` (seconds) bounds connecting and every read."""

    base_url: str
    model: str
    api_key: str | None = None
    timeout: float = 20.0

    def __repr__(self) -> str:  # never show the key, even in a traceback
        return f"LLMConfig(base_url={self.base_url!r}, model={self.model!r}, timeout={self.timeout})"


class GenerationUnavailable(Exception):
    """The endpoint failed (timeout, connection, HTTP error, malformed reply): fall back."""


def _client_args(config: LLMConfig) -> dict[str, Any]:
    # No retries: a retry doubles the wait of a user who already has the extractive answer.
    # The timeout is a plain number (connect and every read): openai 1.x took an httpx.Timeout,
    # openai 3.x runs on httpx2 and rejects one; both take seconds as a float.
    return {"base_url": config.base_url, "api_key": config.api_key or NO_KEY,
            "timeout": float(config.timeout), "max_retries": 0}


def _request(config: LLMConfig, messages: list[dict[str, str]]) -> dict[str, Any]:
    return {"model": config.model, "messages": messages, "max_tokens": MAX_TOKENS, "temperature": TEMPERATURE}


def complete(config: LLMConfig, messages: list[dict[str, str]]) -> str:
    """The whole reply at once (for the CLI and scripts)."""
    try:
        with openai.OpenAI(**_client_args(config)) as client:
            reply = client.chat.completions.create(**_request(config, messages))
            return reply.choices[0].message.content or ""
    except (openai.OpenAIError, IndexError) as exc:  # transport errors arrive as APIConnectionError
        raise GenerationUnavailable(_describe(exc)) from exc


async def stream(config: LLMConfig, messages: list[dict[str, str]]) -> AsyncIterator[str]:
    """The reply in pieces as the endpoint sends them (server-sent events)."""
    deadline = time.monotonic() + config.timeout * STREAM_BUDGET
    try:
        async with openai.AsyncOpenAI(**_client_args(config)) as client:
            chunks = await client.chat.completions.create(**_request(config, messages), stream=True)
            async for chunk in chunks:
                if time.monotonic() > deadline:
                    raise GenerationUnavailable(f"stream took longer than {config.timeout * STREAM_BUDGET:.0f} s")
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
    except openai.OpenAIError as exc:
        raise GenerationUnavailable(_describe(exc)) from exc


def _describe(exc: BaseException) -> str:
    """A short reason for the log: the error class and HTTP status, never the request."""
    status = getattr(exc, "status_code", None)
    return f"{type(exc).__name__}" + (f" (HTTP {status})" if status else "")
