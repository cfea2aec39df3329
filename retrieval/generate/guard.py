"""The fact guard: a generated answer may only state what its cited passages state.

Every number, amount, percentage and date, every person, place, organisation and other proper
noun in the generated text must occur in the sources (the passages the model was given, the
extractive answer, the question), after normalising numerals (三百 = 300, 二〇一九年 = 2019年,
百分之五 = 5%) and full-width forms. Every [n] must name a passage that was given. The checks are
deliberately literal: a rewrite that needs a fact the sources do not spell out is not trusted,
and the caller sends the extractive answer instead.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from retrieval.generate import numerals
from retrieval.generate.entities import entities

FailureKind = Literal["number", "date", "person", "place", "organisation", "name", "citation", "empty"]


@dataclass(frozen=True)
class GuardFailure:
    """One item of the generated text that the sources do not support."""

    kind: FailureKind
    text: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.text}"


@dataclass(frozen=True)
class Sources:
    """The sources normalised once: raw NFKC text (for names), numeral-normalised text, the
    numbers and the dates they state."""

    text: str
    normalised: str
    values: frozenset[Decimal]
    dates: tuple[numerals.DateFact, ...]

    @classmethod
    def of(cls, texts: Sequence[str]) -> Sources:
        raw = "\n".join(unicodedata.normalize("NFKC", t) for t in texts)
        normalised = numerals.normalise(raw)
        values = numerals.source_values(normalised)
        return cls(raw, normalised, frozenset(values), numerals.facts(normalised).dates)

    def has_name(self, name: str) -> bool:
        return name in self.text or numerals.normalise(name) in self.normalised

    def has_date(self, date: numerals.DateFact) -> bool:
        """A source date that agrees on every part both state; the parts it leaves out (a year)
        must still occur in the sources as numbers."""
        for known in self.dates:
            parts = [(date.year, known.year), (date.month, known.month), (date.day, known.day)]
            if all(g is None or k is None or g == k for g, k in parts) and all(
                    g is None or k is not None or Decimal(g) in self.values for g, k in parts):
                return True
        return False


def check(text: str, sources: Sequence[str], passages: int, *, require_citation: bool = True) -> list[GuardFailure]:
    """The items of ``text`` not supported by ``sources`` (empty: the text may be sent).

    ``sources`` are the passages given to the model plus the extractive answer and the question;
    ``passages`` is how many passages were numbered [1]…[n]. With ``require_citation`` a text
    that cites nothing fails too: the prompt asks for a marker on every statement."""
    if not text.strip():
        return [GuardFailure("empty", "")]
    return check_against(text, Sources.of(sources), passages, require_citation=require_citation)


def check_against(text: str, sources: Sources, passages: int, *,
                  require_citation: bool = True) -> list[GuardFailure]:
    """:func:`check` with the sources already prepared (to check many texts against one set)."""
    failures: list[GuardFailure] = []
    cited = numerals.citation_numbers(text)
    failures += [GuardFailure("citation", f"[{n}]") for n in dict.fromkeys(cited) if not 1 <= n <= passages]
    if require_citation and not cited:
        failures.append(GuardFailure("citation", "none"))
    plain = unicodedata.normalize("NFKC", numerals.strip_citations(text))
    stated = numerals.facts(numerals.normalise(plain))
    failures += [GuardFailure("date", d.text) for d in stated.dates if not sources.has_date(d)]
    failures += [GuardFailure("number", n.text) for n in stated.numbers if n.value not in sources.values]
    failures += [GuardFailure(e.kind, e.text) for e in entities(plain) if not sources.has_name(e.text)]
    return list(dict.fromkeys(failures))
