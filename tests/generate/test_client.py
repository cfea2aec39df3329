"""The generation client against a real local OpenAI-compatible server (tests/fake_llm.py):
both modes, and every endpoint failure turned into a fallback."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from retrieval.generate import Generation, LLMConfig, rewrite
from retrieval.generate.client import GenerationUnavailable, complete, stream
from retrieval.generate.prompt import SYSTEM_PROMPT, for_answer, passages
from retrieval.models import Answer, Citation
from tests.fake_llm import FakeLLM, Reply

FESTIVAL = Citation(article_id="a1", title="永康举办首届星空音乐节", date="2024-05-01", source="005.txt",
                    text="本报讯 5月1日晚，首届星空音乐节在方岩景区开幕，副市长林海峰出席开幕式。三天里，"
                         "星空音乐节共吸引游客约3.6万人次。")
ANSWER = Answer(question="星空音乐节吸引了多少游客", found=True, text="三天里，星空音乐节共吸引游客约3.6万人次。",
                citations=(FESTIVAL,))
FAITHFUL = "据报道，星空音乐节三天里共吸引游客约三万六千人次[1]。"
REPLIES = {
    "faithful": Reply(FAITHFUL, pieces=5),
    "number": Reply("星空音乐节共吸引游客约5.2万人次[1]。"),
    "person": Reply("副市长林海峰和市长王建国出席，共吸引游客约3.6万人次[1]。"),
    "timeout": Reply(FAITHFUL, delay=3.0),
    "error": Reply(status=500),
}


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        for model, reply in REPLIES.items():
            server.script(model, reply)
        yield server


def config(llm: FakeLLM, model: str) -> LLMConfig:
    return LLMConfig(base_url=llm.base_url, model=model, api_key="sk-test", timeout=0.5)


def test_prompt_numbers_passages_per_article_and_forbids_new_facts() -> None:
    twice = (FESTIVAL, FESTIVAL.__class__(**{**FESTIVAL.__dict__, "text": "音乐节由市文化局主办。"}))
    (given,) = passages(twice)
    assert "3.6万人次" in given.text and "市文化局" in given.text
    messages, sources, count = for_answer(ANSWER)
    assert count == 1 and messages[0]["content"] == SYSTEM_PROMPT and "不得添加" in SYSTEM_PROMPT
    assert "[1] 《永康举办首届星空音乐节》 2024-05-01" in messages[1]["content"]
    assert ANSWER.text in messages[1]["content"] and ANSWER.question in sources


def test_complete_returns_the_whole_reply(llm: FakeLLM) -> None:
    assert complete(config(llm, "faithful"), [{"role": "user", "content": "问"}]) == FAITHFUL
    assert llm.requests[-1]["model"] == "faithful" and not llm.requests[-1].get("stream")


async def test_stream_yields_pieces(llm: FakeLLM) -> None:
    pieces = [p async for p in stream(config(llm, "faithful"), [{"role": "user", "content": "问"}])]
    assert len(pieces) == 5 and "".join(pieces) == FAITHFUL
    assert llm.requests[-1]["stream"] is True


@pytest.mark.parametrize("model", ["timeout", "error"])
def test_complete_failures_are_unavailable(llm: FakeLLM, model: str) -> None:
    started = time.monotonic()
    with pytest.raises(GenerationUnavailable):
        complete(config(llm, model), [{"role": "user", "content": "问"}])
    assert time.monotonic() - started < 2.5  # no retries, the timeout holds


@pytest.mark.parametrize("model", ["timeout", "error"])
async def test_stream_failures_are_unavailable(llm: FakeLLM, model: str) -> None:
    with pytest.raises(GenerationUnavailable) as caught:
        async for _ in stream(config(llm, model), [{"role": "user", "content": "问"}]):
            pass
    assert "sk-test" not in str(caught.value)


def test_unreachable_endpoint_is_unavailable() -> None:
    with pytest.raises(GenerationUnavailable):
        complete(LLMConfig(base_url="http://127.0.0.1:9/v1", model="m", timeout=0.5), [{"role": "user", "content": "问"}])


def test_rewrite_outcomes(llm: FakeLLM) -> None:
    good = rewrite(config(llm, "faithful"), ANSWER)
    assert good == Generation(FAITHFUL, True, model_text=FAITHFUL)
    number = rewrite(config(llm, "number"), ANSWER)
    assert not number.generated and number.text == ANSWER.text
    assert [str(f) for f in number.failures] == ["number:5.2万"]
    person = rewrite(config(llm, "person"), ANSWER)
    assert not person.generated and {f.kind for f in person.failures} == {"person"}
    for model in ("timeout", "error"):
        failed = rewrite(config(llm, model), ANSWER)
        assert not failed.generated and failed.text == ANSWER.text and failed.error


def test_rewrite_leaves_not_found_alone(llm: FakeLLM) -> None:
    before = len(llm.requests)
    none = Answer(question="火星上有报社吗", found=False, text="没有找到相关报道。", kind="none")
    assert rewrite(config(llm, "faithful"), none) == Generation(none.text, False)
    assert len(llm.requests) == before


def test_config_repr_hides_the_key() -> None:
    assert "sk-secret" not in repr(LLMConfig(base_url="http://x/v1", model="m", api_key="sk-secret"))
