"""How well the fact guard (retrieval/generate/guard.py) tells faithful rewrites from fabricated
ones, on real answers: no LLM is called, the "generations" are made here from each answer.

    python -m benchmarks.guard [--model-cache data/models] [--work data/bench/guard] [--json OUT]

The real service (default model) indexes the seed pages (corpus/) and answers every question of
eval/seeds_extra.jsonl, eval/seeds_v2.jsonl and ../shared/eval/dev.jsonl. For each found answer:

- perturbed texts, one change each: a changed number, a changed date, a changed person name
  (a person the corpus names, replaced), an added person, an added place. A changed value is
  one the passages do not contain (the guard checks presence, not who did what).
- faithful rewrites: clauses reordered, connectives added (据报道，/此外，), Arabic numerals
  written in Chinese (and back), [1] citations.

Every text ends with a valid [n] marker, so the citation rule alone never decides. Prints the
share of perturbed texts caught (and caught by an item naming the change) and the share of
faithful ones wrongly rejected, with the failing items of each rejection.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import cn2an

from bot.runtime import make_service
from bot.settings import Settings
from retrieval.generate import wants_generation
from retrieval.generate.guard import GuardFailure, Sources, check_against
from retrieval.generate.numerals import normalise, source_values
from retrieval.generate.prompt import passages, sources
from retrieval.lexicon.mining import mine_people
from retrieval.models import Answer

REPO = Path(__file__).resolve().parent.parent
QUESTION_FILES = (REPO / "eval/seeds_extra.jsonl", REPO / "eval/seeds_v2.jsonl", REPO.parent / "shared/eval/dev.jsonl")
SEED = 20240501
# Invented people and places; each is used only where the answer's passages do not contain it.
NAMES = ("王建国", "李红梅", "陈晓东", "赵丽娟", "孙志强", "周海燕", "吴国平", "郑晓明", "黄伟", "刘洋",
         "张敏", "杨帆", "何静", "高峰", "马骏", "罗琳", "梁栋", "宋佳", "许亮", "韩雪")
TITLES = ("副市长", "局长", "记者", "董事长", "村党支部书记", "")
PLACES = ("杭州", "宁波市", "金华", "义乌", "上海", "北京", "江苏省", "温州", "嘉兴", "绍兴", "东阳市", "武义县",
          "横店镇", "日本", "德国", "深圳", "成都", "西湖区", "黄山", "兰溪")
PERSON_TEMPLATES = ("{title}{name}表示，", "据{title}{name}介绍，", "{title}{name}也参加了。", "，{name}等人参与其中")
PLACE_TEMPLATES = ("此外，{place}也有类似做法。", "（在{place}）", "，还延伸到了{place}", "{place}方面，")
CONNECTIVES = ("据报道，", "报道称，", "根据报道，", "从报道看，")
_ARABIC = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?![\d.])")
_DAY_OR_MONTH = re.compile(r"(?<!\d)(\d{1,2})([月日])")
_YEAR = re.compile(r"(?<!\d)(\d{4})年")
_CLAUSE = re.compile(r"[^，。；！？]+[，。；！？]?")


@dataclass(frozen=True)
class Case:
    kind: str  # "faithful" or the perturbation
    question: str
    text: str
    change: str  # the changed or added value ("" for faithful)
    failures: tuple[str, ...] = ()


def cite(text: str, marker: str = "[1]") -> str:
    """The text with ``marker`` at the end of its first sentence, or at its end."""
    text = text.strip()
    m = re.search(r"[。！？]", text)
    return text[: m.start()] + marker + text[m.start() :] if m else text + marker


def fresh(candidates: list[int], known: set[object]) -> int | None:
    return next((c for c in candidates if c > 0 and c not in known), None)


def change_number(text: str, known: set[object], rng: random.Random) -> tuple[str, str] | None:
    """One Arabic number outside dates, list indexes and years replaced by a value the sources lack."""
    spots = [m for m in _ARABIC.finditer(text)
             if text[m.end() : m.end() + 1] not in ("年", "月", "日", ".", "号") and "." not in m.group(0)]
    if not spots:
        return None
    m = rng.choice(spots)
    value = int(m.group(0))
    new = fresh([value + d for d in (1, 2, 3, 7, 10, 11)] + [value * 2], known)
    if new is None:
        return None
    return text[: m.start()] + str(new) + text[m.end() :], str(new)


def change_date(text: str, known: set[object], rng: random.Random) -> tuple[str, str] | None:
    """The day, month or year of one date changed to one the sources do not state."""
    spots = [("y", m) for m in _YEAR.finditer(text)] + [("md", m) for m in _DAY_OR_MONTH.finditer(text)]
    rng.shuffle(spots)
    for part, m in spots:
        value = int(m.group(1))
        limit = 9999 if part == "y" else (12 if m.group(2) == "月" else 28)
        new = fresh([v for v in (value - 1, value + 1, value + 2, value - 2, value + 5) if v <= limit], known)
        if new is not None:
            changed = f"{new}年" if part == "y" else f"{new}{m.group(2)}"
            return text[: m.start()] + changed + text[m.end() :], changed
    return None


def pick(pool: tuple[str, ...], source_text: str, rng: random.Random) -> str:
    return rng.choice([p for p in pool if p not in source_text])


def change_person(text: str, people: list[str], source_text: str, rng: random.Random) -> tuple[str, str] | None:
    named = [p for p in people if p in text]
    if not named:
        return None
    old, new = rng.choice(named), pick(NAMES, source_text, rng)
    return text.replace(old, new), new


def add(text: str, templates: tuple[str, ...], rng: random.Random, **values: str) -> str:
    """Insert one filled template at a clause boundary of ``text``."""
    clauses = _CLAUSE.findall(text) or [text]
    at = rng.randrange(len(clauses) + 1)
    insert = rng.choice(templates).format(**values)
    return "".join(clauses[:at]) + insert + "".join(clauses[at:])


def to_chinese_numerals(text: str) -> str:
    """Arabic numerals in Chinese: years digit by digit (二〇一九年), percentages (百分之五), others
    as counts (二百九十)."""
    text = _YEAR.sub(lambda m: "".join("〇一二三四五六七八九"[int(c)] for c in m.group(1)) + "年", text)
    text = re.sub(r"(\d+(?:\.\d+)?)[%％]", lambda m: "百分之" + cn2an.an2cn(m.group(1)), text)
    return _ARABIC.sub(lambda m: cn2an.an2cn(m.group(0)), text)


def reorder(text: str, rng: random.Random) -> str:
    """Move the first clause of the first sentence to the end of that sentence."""
    first, sep, rest = text.partition("。")
    clauses = [c for c in first.split("，") if c]
    if len(clauses) < 2:
        return text
    clauses = clauses[1:] + clauses[:1]
    return "，".join(clauses) + sep + rest


def faithful(text: str, rng: random.Random, passages_given: int) -> list[str]:
    """Two rewrites of one answer, each with a different mix of the faithful transformations."""
    plain = " ".join(line.strip() for line in text.splitlines() if line.strip())
    out = []
    for variant in range(2):
        t = reorder(plain, rng) if variant == 0 else plain
        t = rng.choice(CONNECTIVES) + t
        if variant == 1 or rng.random() < 0.5:
            t = to_chinese_numerals(t)
        if "。" in t.rstrip("。"):
            head, _, tail = t.partition("。")
            t = f"{head}。此外，{tail}"
        marker = "[1]" if passages_given == 1 else f"[1][{passages_given}]"
        out.append(cite(t, marker))
    return out


def names_change(failures: list[GuardFailure], change: str) -> bool:
    target = normalise(change)
    return any(f.text and (normalise(f.text) in target or target in normalise(f.text)) for f in failures)


def build_cases(answers: list[Answer], people: list[str]) -> tuple[list[Case], list[Case]]:
    rng = random.Random(SEED)
    perturbed, rewrites = [], []
    for answer in answers:
        given = passages(answer.citations)
        texts = sources(answer.question, answer.text, given)
        src = Sources.of(texts)
        known = set(source_values(src.normalised))
        base = " ".join(line.strip() for line in answer.text.splitlines() if line.strip())
        made: list[tuple[str, tuple[str, str] | None]] = [
            ("number", change_number(base, known, rng)),
            ("date", change_date(base, known, rng)),
            ("person_changed", change_person(base, people, src.text, rng)),
        ]
        name = pick(NAMES, src.text, rng)
        made.append(("person_added", (add(base, PERSON_TEMPLATES, rng, name=name, title=rng.choice(TITLES)), name)))
        place = pick(PLACES, src.text, rng)
        made.append(("place_added", (add(base, PLACE_TEMPLATES, rng, place=place), place)))
        for kind, result in made:
            if result is None:
                continue
            text = cite(result[0])
            failures = check_against(text, src, len(given))
            caught = names_change(failures, result[1])
            perturbed.append(Case(kind, answer.question, text, result[1],
                                  tuple(str(f) for f in failures) + (("named",) if caught else ())))
        for text in faithful(answer.text, rng, len(given)):
            failures = check_against(text, src, len(given))
            rewrites.append(Case("faithful", answer.question, text, "", tuple(str(f) for f in failures)))
    return perturbed, rewrites


def load_answers(model_cache: Path, work: Path) -> list[Answer]:
    settings = Settings(_env_file=None, corpus_dir=REPO / "corpus", data_dir=work,  # type: ignore[call-arg]
                        index_dir=work / "index", model_cache_dir=model_cache)
    service = make_service(settings)
    service.reindex(REPO / "corpus")
    questions = [json.loads(line)["q"] for path in QUESTION_FILES if path.exists()
                 for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    print(f"{len(questions)} questions", file=sys.stderr)
    return [a for a in (service.ask(q) for q in questions) if wants_generation(a)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-cache", type=Path, default=REPO / "data/models")
    parser.add_argument("--work", type=Path, default=REPO / "data/bench/guard")
    parser.add_argument("--json", type=Path, help="write every case and its failing items here")
    args = parser.parse_args(argv)
    answers = load_answers(args.model_cache, args.work)
    people = mine_people(c.text for a in answers for c in a.citations)
    started = time.perf_counter()
    perturbed, rewrites = build_cases(answers, people)
    took = time.perf_counter() - started
    caught = [c for c in perturbed if any(f != "named" for f in c.failures)]
    named = [c for c in perturbed if "named" in c.failures]
    rejected = [c for c in rewrites if c.failures]
    print(f"found answers: {len(answers)}; guard ran {len(perturbed) + len(rewrites)} checks in {took:.1f} s")
    print(f"perturbed: {len(perturbed)} {dict(Counter(c.kind for c in perturbed))}")
    print(f"  caught: {len(caught)} ({100 * len(caught) / max(1, len(perturbed)):.1f}%), by an item naming the "
          f"change: {len(named)} ({100 * len(named) / max(1, len(perturbed)):.1f}%)")
    for kind in sorted({c.kind for c in perturbed}):
        cases = [c for c in perturbed if c.kind == kind]
        print(f"  {kind}: {sum(c in caught for c in cases)}/{len(cases)} caught")
    for c in perturbed:
        if c not in caught:
            print(f"  MISSED {c.kind} {c.change!r}: {c.text}")
    print(f"faithful: {len(rewrites)}; wrongly rejected: {len(rejected)} "
          f"({100 * len(rejected) / max(1, len(rewrites)):.1f}%)")
    for c in rejected:
        print(f"  REJECTED {list(c.failures)}: {c.text}")
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    if args.json:
        args.json.write_text(json.dumps([asdict(c) for c in perturbed + rewrites], ensure_ascii=False, indent=1),
                             encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
