"""What the model is given: a Chinese system prompt, the question, the extractive answer and the
cited passages numbered [1]…[n] in the order the bot lists its sources."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from retrieval.models import Answer, Citation

MAX_PASSAGES = 8
MAX_PASSAGE_CHARS = 1500  # a long article is cut: the prompt stays small and the reply fast

SYSTEM_PROMPT = """你是一份地方报纸资料库的问答助手。用户会给出一个问题、从报道中摘录的答案，以及编号的资料原文。
请用简洁、自然的中文重新组织这个答案，并严格遵守：
1. 只能使用资料原文中明确写出的事实。不得添加资料中没有的任何内容，包括数字、金额、百分比、日期、人名、地名、机构名，也不要推测、换算或补充背景知识。
2. 数字、日期、人名、地名、机构名要与资料原文的写法保持一致。
3. 每句话末尾用 [1]、[2] 这样的编号注明依据的资料，编号只能是下面列出的资料编号。
4. 如果资料不足以回答问题，就只复述摘录答案，不要编造。
5. 回答最多三四句话，不要使用 Markdown、标题或列表符号。"""


@dataclass(frozen=True)
class Passage:
    """One numbered source as the model sees it: an article's headline, date and cited text."""

    title: str
    date: str
    text: str


def _key(c: Citation) -> tuple[str, str]:
    # The same grouping as the bot's source list (bot.telegram.render.unique_citations), so that [n] in
    # the generated text is the n-th source shown under it.
    return (c.article_id, c.source) if c.article_id else (c.title, c.source)


def passages(citations: Sequence[Citation], limit: int = MAX_PASSAGES) -> list[Passage]:
    """One passage per cited article (its cited texts joined), at most ``limit``, best first."""
    grouped: dict[tuple[str, str], list[Citation]] = {}
    for c in citations:
        grouped.setdefault(_key(c), []).append(c)
    out = []
    for group in list(grouped.values())[:limit]:
        texts = list(dict.fromkeys(c.text.strip() for c in group if c.text.strip()))
        text = "\n".join(texts)[:MAX_PASSAGE_CHARS]
        out.append(Passage(group[0].title.strip(), group[0].date.strip(), text))
    return out


def messages(question: str, extractive: str, given: Sequence[Passage]) -> list[dict[str, str]]:
    """The chat messages for an OpenAI-compatible endpoint."""
    blocks = []
    for n, p in enumerate(given, 1):
        heading = f"[{n}] 《{p.title or '无标题'}》" + (f" {p.date}" if p.date else "")
        blocks.append(f"{heading}\n{p.text}")
    user = (f"问题：{question.strip()}\n\n摘录答案：\n{extractive.strip()}\n\n资料：\n" + "\n\n".join(blocks)
            + "\n\n请只根据以上资料回答，并用 [编号] 注明出处。")
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def sources(question: str, extractive: str, given: Sequence[Passage]) -> list[str]:
    """Everything the guard accepts facts from: the passages (headline, date, text), the
    extractive answer and the question."""
    return [question, extractive, *(f"{p.title}\n{p.date}\n{p.text}" for p in given)]


def for_answer(answer: Answer) -> tuple[list[dict[str, str]], list[str], int]:
    """(messages, guard sources, number of passages) for a found answer."""
    given = passages(answer.citations)
    return (messages(answer.question, answer.text, given), sources(answer.question, answer.text, given),
            len(given))
