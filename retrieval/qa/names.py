"""The people, places and organisations a question names: what an answer's article must hold.

Two readings, kept apart on purpose: a factoid question trusts dictionary names and names
that read as a person's (surname first); a list question about a person also takes 镇/村
names and any word jieba tags as a person or place, because there the names only narrow the
articles searched, while for a factoid a missing name declines the answer.
"""

from __future__ import annotations

from retrieval.lexicon.mining import Lexicon, find_places
from retrieval.qa.analysis import Analysis
from retrieval.qa.evidence import reads_as_name


def factoid_names(question: str, analysis: Analysis, tagged: list[tuple[str, str]], lexicon: Lexicon,
                  tags: dict[str, str]) -> set[str]:
    """Corpus names in the question, and words jieba's tagger reads as names: a dictionary name,
    or a guessed one that reads as a person's name, surname first (章旭升) — not any unknown
    word (小微园), and not a word the dictionary knows as something else (国家 is a noun, 来自 a
    verb, though 国 and 来 are surnames). The noun asked for is no constraint on the answer's
    article: "建在哪个国家" asks for a country, and the article names it without the word 国家."""
    known = {n for n in analysis.constraints.names if tags.get(n, "")[:2] in ("nr", "ns", "nt", "nz")}
    known |= {w for w, tag in tagged
              if tag.startswith("nr") and reads_as_name(w) and tags.get(w, "nr").startswith("nr")}
    named = {n for n in lexicon.people + lexicon.places if n in question} | known
    return named - {analysis.focus}


def list_question_names(question: str, words: list[str], lexicon: Lexicon, tags: dict[str, str]) -> set[str]:
    """Corpus names, 镇/村 names, words jieba tags as names, and unknown 2–3 character words that
    start with a common surname (王小明)."""
    names = {n for n in lexicon.people + lexicon.places if n in question}
    names.update(name for _, name in find_places(question, tags))
    for word in words:
        tag = tags.get(word)
        if (tag in ("nr", "nrt", "nrfg", "ns") and len(word) >= 2) or (tag is None and reads_as_name(word)):
            names.add(word)
    return names
