"""`newsqa ask` with LLM_* set, against the local OpenAI-compatible fake (tests/fake_llm.py): the
guard-checked rewrite is an additive JSON key, ``answer`` stays extractive, and a fabricated
rewrite, an endpoint error or ``--no-generate`` leave the extractive answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bot.test_cli import env, run, shared_index  # noqa: F401  (fixtures)
from tests.fake_llm import FakeLLM, Reply

QUESTION = "朱志杰去过哪些镇"


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        server.script("faithful", Reply("据报道，朱志杰去过古山镇[1]和舟山镇[2]。"))
        server.script("fabricated", Reply("据报道，朱志杰去过古山镇[1]、舟山镇[2]等5个镇。"))
        server.script("broken", Reply(status=500))
        yield server


def _ask(env: dict[str, str | None], index: Path, llm: FakeLLM, model: str, *extra: str) -> dict:  # noqa: F811
    env = {**env, "LLM_BASE_URL": llm.base_url, "LLM_MODEL": model, "LLM_TIMEOUT": "5"}
    result = run(env, "--index-dir", str(index), "ask", QUESTION, "--json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_rewrite_that_passes_the_guard_is_additive(env, shared_index: Path, llm: FakeLLM) -> None:  # noqa: F811
    data = _ask(env, shared_index, llm, "faithful")
    assert data["generated"] is True
    assert data["generated_answer"] == "据报道，朱志杰去过古山镇[1]和舟山镇[2]。"
    assert data["answer"].startswith("据报道，朱志杰去过的镇共 2 个")  # the extractive answer, unchanged


def test_a_fabricated_number_is_refused(env, shared_index: Path, llm: FakeLLM) -> None:  # noqa: F811
    data = _ask(env, shared_index, llm, "fabricated")
    assert data["generated"] is False and "generated_answer" not in data
    assert any(item.startswith("number:") for item in data["guard_failures"])


def test_an_endpoint_error_falls_back(env, shared_index: Path, llm: FakeLLM) -> None:  # noqa: F811
    data = _ask(env, shared_index, llm, "broken")
    assert data["generated"] is False and data["generation_error"]


def test_no_generate_asks_nothing(env, shared_index: Path, llm: FakeLLM) -> None:  # noqa: F811
    before = len(llm.requests)
    data = _ask(env, shared_index, llm, "faithful", "--no-generate")
    assert "generated" not in data and len(llm.requests) == before
