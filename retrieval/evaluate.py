"""Score a question set exactly as ../shared/eval/README.md defines it.

answer accuracy = answerable questions with found=true whose answer text contains, for every
group, at least one spelling / answerable questions; evidence recall@k = answerable questions
whose top-k source texts together contain every group; decline rate = unanswerable questions
with found=false / unanswerable questions; false declines = answerable questions with found=false.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from retrieval.models import Answer

QUESTION_TYPES = {"factoid", "list", "aggregate", "paraphrase", "unanswerable"}


class AnswersQuestions(Protocol):
    def ask(self, question: str) -> Answer: ...


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    q: str
    type: str
    answers: tuple[tuple[str, ...], ...]


def load_questions(path: Path) -> list[EvalQuestion]:
    """Read a question set; raises ValueError naming the line of a malformed entry."""
    out: list[EvalQuestion] = []
    for n, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            qtype = row["type"]
            if qtype not in QUESTION_TYPES:
                raise ValueError(f"unknown type {qtype!r}")
            answers = tuple(tuple(str(s) for s in group) for group in row.get("answers", []))
            out.append(EvalQuestion(str(row["id"]), str(row["q"]), qtype, answers))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path} 第 {n} 行格式有误：{exc}") from exc
    return out


def is_dialogue_set(path: Path) -> bool:
    """True when the file is a dialogue set (eval/README_dialogues.md): its first non-empty
    line has "turns". Those are scored by retrieval.dialogue.evaluate, per turn."""
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        if line.strip():
            try:
                row = json.loads(line)
            except ValueError:
                return False
            return isinstance(row, dict) and "turns" in row
    return False


def groups_present(groups: Sequence[Sequence[str]], text: str) -> bool:
    """Every group has at least one spelling in ``text``."""
    return all(any(s in text for s in group) for group in groups)


@dataclass
class EvalRow:
    id: str
    type: str
    question: str
    found: bool
    answer: str
    correct: bool
    evidence: bool
    took_ms: float


@dataclass
class EvalResult:
    k: int
    rows: list[EvalRow] = field(default_factory=list)

    def _answerable(self) -> list[EvalRow]:
        return [r for r in self.rows if r.type != "unanswerable"]

    def _unanswerable(self) -> list[EvalRow]:
        return [r for r in self.rows if r.type == "unanswerable"]

    @property
    def metrics(self) -> dict[str, float | int]:
        answerable, unanswerable = self._answerable(), self._unanswerable()
        n_a, n_u = len(answerable), len(unanswerable)
        times = sorted(r.took_ms for r in self.rows) or [0.0]
        return {
            "questions": len(self.rows),
            "answerable": n_a,
            "unanswerable": n_u,
            "answer_accuracy": sum(r.correct for r in answerable) / n_a if n_a else 0.0,
            f"evidence_recall@{self.k}": sum(r.evidence for r in answerable) / n_a if n_a else 0.0,
            "decline_rate": sum(not r.found for r in unanswerable) / n_u if n_u else 0.0,
            "false_declines": sum(not r.found for r in answerable),
            "p50_ms": times[len(times) // 2],
            "max_ms": times[-1],
        }

    def summary(self) -> str:
        m = self.metrics
        return "\n".join([
            f"问题数：{m['questions']}（可回答 {m['answerable']}，不可回答 {m['unanswerable']}）",
            f"回答准确率：{m['answer_accuracy']:.1%}",
            f"证据召回率@{self.k}：{m[f'evidence_recall@{self.k}']:.1%}",
            f"拒答率（不可回答题）：{m['decline_rate']:.1%}",
            f"误拒答：{m['false_declines']}",
            f"耗时：中位数 {m['p50_ms']:.0f} 毫秒，最长 {m['max_ms']:.0f} 毫秒",
        ])

    def to_json(self, details: bool = False) -> dict[str, object]:
        data: dict[str, object] = {"metrics": self.metrics}
        if details:
            data["rows"] = [asdict(r) for r in self.rows]
        return data


def evaluate(service: AnswersQuestions, questions: Sequence[EvalQuestion], k: int = 5) -> EvalResult:
    result = EvalResult(k)
    for q in questions:
        started = time.perf_counter()
        answer = service.ask(q.q)
        took = (time.perf_counter() - started) * 1000
        sources = answer.citations if answer.found else answer.related
        evidence_text = "\n".join(c.text for c in sources[:k])
        answerable = q.type != "unanswerable"
        result.rows.append(EvalRow(
            id=q.id, type=q.type, question=q.q, found=answer.found, answer=answer.text,
            correct=answerable and answer.found and groups_present(q.answers, answer.text),
            evidence=answerable and groups_present(q.answers, evidence_text),
            took_ms=took,
        ))
    return result

