"""Score a dialogue set (eval/README_dialogues.md): every turn of every dialogue, in order,
through one :class:`Conversation` with a simulated clock.

A turn is right when: factoid/list — an answer was given and every answer group has one
spelling in it (a "还有呢" turn is scored on the list pages shown since its question);
unanswerable — no answer was given; clarify — the reply is a clarification. Follow-up turns
are turns 2, 3 … of a dialogue. A follow-up resolved to the wrong entity is one whose
resolution substituted a person or place other than the turn's ``entity``, or substituted
anything where a clarification was expected. Two reference columns: the same turns asked as
they are, with no conversation (what a stateless bot does), and the hand-resolved ``resolved``
question asked alone (the base answerer's ceiling).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from retrieval.dialogue.referents import Tagger
from retrieval.dialogue.session import AsksQuestions, Conversation, Turn
from retrieval.evaluate import groups_present
from retrieval.lexicon.mining import Lexicon
from retrieval.models import Answer

TURN_TYPES = {"factoid", "list", "unanswerable", "clarify"}
DEFAULT_GAP = 5.0  # seconds between two turns unless a turn says "after_s"
HELDOUT = "heldout"


@dataclass(frozen=True)
class DialogueTurn:
    q: str
    type: str
    answers: tuple[tuple[str, ...], ...] = ()
    resolved: str = ""
    entity: str = ""
    after_s: float = DEFAULT_GAP


@dataclass(frozen=True)
class Dialogue:
    id: str
    split: str
    turns: tuple[DialogueTurn, ...]


def load_dialogues(path: Path) -> list[Dialogue]:
    """Read a dialogue set; raises ValueError naming the line of a malformed entry."""
    out: list[Dialogue] = []
    for n, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            turns = []
            for t in row["turns"]:
                if t["type"] not in TURN_TYPES:
                    raise ValueError(f"unknown type {t['type']!r}")
                answers = tuple(tuple(str(s) for s in g) for g in t.get("answers", []))
                turns.append(DialogueTurn(str(t["q"]), t["type"], answers, str(t.get("resolved", "")),
                                          str(t.get("entity", "")), float(t.get("after_s", DEFAULT_GAP))))
            if not turns:
                raise ValueError("no turns")
            out.append(Dialogue(str(row["id"]), str(row.get("split", "")), tuple(turns)))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path} 第 {n} 行格式有误：{exc}") from exc
    return out


def turn_correct(turn: DialogueTurn, kind: str, found: bool, text: str) -> bool:
    if turn.type == "clarify":
        return kind == "clarify"
    if turn.type == "unanswerable":
        return kind == "clarify" or not found
    return kind != "clarify" and found and groups_present(turn.answers, text)


def _answer_correct(turn: DialogueTurn, answer: Answer) -> bool:
    return turn_correct(turn, "answer", answer.found, answer.text)


@dataclass
class TurnRow:
    dialogue: str
    split: str
    n: int
    type: str
    message: str
    asked: str
    reply_kind: str
    reply: str
    correct: bool
    wrong_entity: bool
    stateless: bool
    ceiling: bool


@dataclass
class DialogueResult:
    rows: list[TurnRow] = field(default_factory=list)

    def metrics(self, split: str | None = None) -> dict[str, float | int]:
        rows = [r for r in self.rows if split is None or r.split == split]
        follow = [r for r in rows if r.n >= 2]

        def rate(items: Sequence[TurnRow], attr: str) -> float:
            return sum(getattr(r, attr) for r in items) / len(items) if items else 0.0

        return {
            "dialogues": len({r.dialogue for r in rows}), "turns": len(rows), "follow_ups": len(follow),
            "turn_accuracy": rate(rows, "correct"), "follow_up_accuracy": rate(follow, "correct"),
            "wrong_entity": sum(r.wrong_entity for r in follow),
            "stateless_follow_up_accuracy": rate(follow, "stateless"),
            "ceiling_follow_up_accuracy": rate(follow, "ceiling"),
        }

    def splits(self) -> list[str]:
        return sorted({r.split for r in self.rows if r.split})

    def summary(self) -> str:
        columns = [("全部", None)] + [(s, s) for s in self.splits()]
        table = [(name, self.metrics(split)) for name, split in columns]
        lines = ["              " + "".join(f"{name:>12}" for name, _ in table)]
        for label, key, pct in [("对话数", "dialogues", False), ("轮数", "turns", False),
                                ("追问轮数", "follow_ups", False), ("每轮准确率", "turn_accuracy", True),
                                ("追问准确率", "follow_up_accuracy", True), ("追问指错对象", "wrong_entity", False),
                                ("无对话状态时追问准确率", "stateless_follow_up_accuracy", True),
                                ("人工补全追问的准确率", "ceiling_follow_up_accuracy", True)]:
            cells = "".join(f"{m[key]:>12.1%}" if pct else f"{m[key]:>12}" for _, m in table)
            lines.append(f"{label}：{cells}")
        return "\n".join(lines)

    def shown_rows(self, heldout: bool = False) -> list[TurnRow]:
        """The rows to list: without ``heldout``, none of the held-out split, which is kept
        unseen while the resolver is worked on (only its figures are read, once, at the end)."""
        return [r for r in self.rows if heldout or r.split != HELDOUT]

    def to_json(self, details: bool = False, heldout: bool = False) -> dict[str, object]:
        data: dict[str, object] = {"metrics": {"all": self.metrics(), **{s: self.metrics(s) for s in self.splits()}}}
        if details:
            data["rows"] = [asdict(r) for r in self.shown_rows(heldout)]
        return data


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _wrong_entity(turn: DialogueTurn, result: Turn) -> bool:
    resolution = result.resolution
    if turn.type == "clarify":
        return resolution.action == "ask" and resolution.changed
    return bool(turn.entity and resolution.entity and resolution.entity != turn.entity)


def evaluate_dialogues(asker: AsksQuestions, lexicon: Lexicon, dialogues: Sequence[Dialogue], *,
                       ttl: float, page: int, tagged: Tagger | None = None) -> DialogueResult:
    """Every dialogue through its own conversation; ``tagged`` is the index tokenizer's tagging
    (as the bot resolves with it)."""
    result = DialogueResult()
    for dialogue in dialogues:
        clock = _Clock()
        conversation = Conversation(asker, lambda: lexicon, ttl=ttl, page=page, clock=clock,
                                    tagger=(lambda: tagged) if tagged is not None else None)
        shown: list[str] = []
        for n, turn in enumerate(dialogue.turns, 1):
            clock.now += turn.after_s if n > 1 else 0.0
            reply = conversation.reply(turn.q)
            found = reply.answer is not None and reply.answer.found
            if reply.kind == "answer":
                shown = [reply.reply_text]
            elif reply.kind == "more":
                shown.append(reply.reply_text)
            text = "\n".join(shown) if reply.kind == "more" else reply.reply_text
            stateless = _answer_correct(turn, asker.ask(turn.q))
            ceiling = _answer_correct(turn, asker.ask(turn.resolved)) if turn.resolved else (
                stateless if turn.type != "clarify" else True)
            result.rows.append(TurnRow(
                dialogue.id, dialogue.split, n, turn.type, turn.q, reply.resolution.question, reply.kind,
                reply.reply_text, turn_correct(turn, reply.kind, found, text), _wrong_entity(turn, reply),
                stateless, ceiling))
    return result
