"""Reading-comprehension examples: SQuAD-format files → :class:`Example`, and made "no answer"
examples: a question against the most similar other passage that lacks its answer
(:func:`hard_negatives`), or against its own passage with the answer's sentence cut out
(:func:`cut_negatives`), and short cuts of answerable passages (:func:`crop_positives`).

Sources and licences (``../shared/data/mrc/README.md``): CMRC 2018 trial and dev (CC BY-SA 4.0),
DRCD dev and test (CC BY-SA 3.0, traditional script, converted with OpenCC ``t2s``; an answer is
kept only if the converted text still holds it at its offset). CMRC 2018 dev is the reported test:
:func:`training_examples` never reads it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from retrieval.text import sentence_spans, split_sentences

TRAIN_FILES = ("cmrc2018_trial.json", "DRCD_dev.json", "DRCD_test.json")
TEST_FILE = "cmrc2018_dev.json"
TRADITIONAL = ("DRCD_",)


@dataclass(frozen=True)
class Example:
    """One question over one passage. ``answers``: ``(text, char start)`` pairs; empty = no answer."""

    qid: str
    question: str
    context: str
    answers: tuple[tuple[str, int], ...]
    article: str  # groups passages of one article (held-out splits are by article)
    source: str = ""
    meta: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def load_squad(path: Path, simplify: bool | None = None) -> list[Example]:
    """Every question of a SQuAD-format file. Traditional-script files (DRCD) are converted to
    simplified; an answer whose converted text is no longer at its offset is dropped, and a
    question left with no answer is dropped too."""
    path = Path(path)
    if simplify is None:
        simplify = path.name.startswith(TRADITIONAL)
    convert = _simplifier() if simplify else (lambda s: s)
    out = []
    for a, article in enumerate(json.loads(path.read_text(encoding="utf-8"))["data"]):
        article_id = f"{path.stem}:{article.get('id', a)}"
        for paragraph in article["paragraphs"]:
            context = convert(paragraph["context"])
            for qa in paragraph["qas"]:
                answers = []
                for ans in qa.get("answers", []):
                    text, start = convert(ans["text"]).strip(), int(ans["answer_start"])
                    if text and context[start : start + len(text)] == text and (text, start) not in answers:
                        answers.append((text, start))
                if answers:
                    out.append(Example(str(qa["id"]), convert(qa["question"]).strip(), context,
                                       tuple(answers), article_id, path.stem))
    return out


def _simplifier():  # OpenCC t2s, the converter retrieval.text uses for queries
    from retrieval.text import make_simplifier

    return make_simplifier().convert


def training_examples(mrc_dir: Path) -> list[Example]:
    """CMRC 2018 trial + DRCD dev + DRCD test (never the CMRC 2018 dev test set)."""
    return [ex for name in TRAIN_FILES for ex in load_squad(Path(mrc_dir) / name)]


def split_by_article(examples: Sequence[Example], held_out: int, seed: int = 13) -> tuple[list[Example], list[Example]]:
    """(train, validation): whole articles go to validation until it holds ``held_out`` questions."""
    articles = sorted({ex.article for ex in examples})
    random.Random(seed).shuffle(articles)
    chosen: set[str] = set()
    count = 0
    by_article: dict[str, int] = {}
    for ex in examples:
        by_article[ex.article] = by_article.get(ex.article, 0) + 1
    for art in articles:
        if count >= held_out:
            break
        chosen.add(art)
        count += by_article[art]
    return [ex for ex in examples if ex.article not in chosen], [ex for ex in examples if ex.article in chosen]


def hard_negatives(examples: Sequence[Example], fraction: float = 1.0, seed: int = 7) -> list[Example]:
    """For a ``fraction`` of the questions, the question against the most similar *other* passage
    (BM25 over jieba words, among the examples' passages) that contains none of its answers.
    Returns no-answer :class:`Example` objects (``answers == ()``), ``qid`` suffixed ``#neg``."""
    import bm25s

    passages = sorted({ex.context for ex in examples})
    index = {text: i for i, text in enumerate(passages)}
    retriever = bm25s.BM25()
    retriever.index(_words(passages), show_progress=False)
    rng = random.Random(seed)
    chosen = [ex for ex in examples if rng.random() < fraction]
    found, _ = retriever.retrieve(_words([ex.question for ex in chosen]), k=min(8, len(passages)),
                                  show_progress=False, n_threads=1)
    out = []
    for ex, row in zip(chosen, found, strict=True):
        own = index[ex.context]
        for candidate in row:
            text = passages[int(candidate)]
            if int(candidate) != own and not any(a in text for a, _ in ex.answers):
                out.append(replace(ex, qid=ex.qid + "#neg", context=text, answers=(),
                                   meta={"answers_elsewhere": [a for a, _ in ex.answers]}))
                break
    return out


_SENTENCE_END = "。！？!?\n"


def sentence_bounds(context: str, start: int, end: int) -> tuple[int, int]:
    """``[lo, hi)`` of the sentence(s) holding characters ``start:end``: from after the previous
    sentence end to the next sentence end, inclusive."""
    lo = max((context.rfind(c, 0, start) for c in _SENTENCE_END), default=-1) + 1
    ends = [i for c in _SENTENCE_END if (i := context.find(c, end)) >= 0]
    return lo, (min(ends) + 1 if ends else len(context))


def cut_negatives(examples: Sequence[Example], fraction: float = 1.0, seed: int = 11,
                  min_chars: int = 40, fill: bool = False) -> list[Example]:
    """For a ``fraction`` of the answerable questions, the question against its *own* passage with
    every sentence that holds an answer cut out: the same topic and wording around it, without the
    fact (how the project's answer-absent questions look, SQuAD 2.0's adversarial kind). Skipped
    when an answer's text is still elsewhere in the passage, or under ``min_chars`` remain.

    ``fill``: the cut is filled with sentences of another article's passage (about as many
    characters, none holding an answer), so a negative is as long as its positive and length is
    no cue for "no answer". Returns no-answer :class:`Example` objects, ``qid`` suffixed ``#cut``."""
    rng = random.Random(seed)
    pool = _filler_pool(examples) if fill else []
    out = []
    for ex in examples:
        if not ex.answers or rng.random() >= fraction:
            continue
        keep = [True] * len(ex.context)
        for text, start in ex.answers:
            lo, hi = sentence_bounds(ex.context, start, start + len(text))
            keep[lo:hi] = [False] * (hi - lo)
        pieces, cut_chars = [], 0
        for ch, kept in zip(ex.context, keep, strict=True):
            if kept:
                if cut_chars and pool:
                    pieces.append(_filler(pool, rng, ex, cut_chars))
                pieces.append(ch)
                cut_chars = 0
            else:
                cut_chars += 1
        if cut_chars and pool:
            pieces.append(_filler(pool, rng, ex, cut_chars))
        context = "".join(pieces)
        if len(context) < min_chars or any(text in context for text, _ in ex.answers):
            continue
        out.append(replace(ex, qid=ex.qid + "#cut", context=context, answers=(),
                           meta={"answers_elsewhere": [a for a, _ in ex.answers]}))
    return out


def _filler_pool(examples: Sequence[Example]) -> list[tuple[str, str]]:
    """(article, sentence) of every passage, sentences of 8 characters or more."""
    seen, pool = set(), []
    for ex in examples:
        if ex.context not in seen:
            seen.add(ex.context)
            pool += [(ex.article, s) for s in split_sentences(ex.context, at_semicolons=False) if len(s) >= 8]
    return pool


def _filler(pool: Sequence[tuple[str, str]], rng: random.Random, ex: Example, chars: int) -> str:
    """Sentences of other articles, drawn until about ``chars`` characters, none holding an answer."""
    out, total = [], 0
    for _ in range(50):
        if total >= chars * 0.8:
            break
        article, sentence = pool[rng.randrange(len(pool))]
        if article != ex.article and not any(a in sentence for a, _ in ex.answers):
            out.append(sentence)
            total += len(out[-1])
    return "".join(out)


def crop_positives(examples: Sequence[Example], fraction: float = 1.0, seed: int = 17,
                   around: int = 1) -> list[Example]:
    """For a ``fraction`` of the questions with one answer, the question against a short cut of its
    passage: the answer's sentence and up to ``around`` sentences either side (drawn at random, so
    zero too). Teaches that a short passage can hold the answer, the way a cut negative is short.
    The answer's offset is moved with the cut; ``qid`` suffixed ``#crop``."""
    rng = random.Random(seed)
    out = []
    for ex in examples:
        if len(ex.answers) != 1 or rng.random() >= fraction:
            continue
        (text, start), = ex.answers
        lo, hi = sentence_bounds(ex.context, start, start + len(text))
        before = [ex.context[a:b] for a, b in sentence_spans(ex.context[:lo], at_semicolons=False)]
        after = [ex.context[hi + a : hi + b] for a, b in sentence_spans(ex.context[hi:], at_semicolons=False)]
        take_before, take_after = rng.randint(0, around), rng.randint(0, around)
        head = "".join(before[len(before) - take_before:]) if take_before else ""
        context = head + ex.context[lo:hi] + "".join(after[:take_after])
        offset = start - lo + len(head)
        if context == ex.context or context[offset : offset + len(text)] != text:
            continue
        out.append(replace(ex, qid=ex.qid + "#crop", context=context, answers=((text, offset),)))
    return out


def _words(texts: Iterable[str]) -> list[list[str]]:
    import jieba

    jieba.setLogLevel(60)
    return [[w for w in jieba.lcut(t) if w.strip()] for t in texts]


def read_jsonl_examples(path: Path) -> list[Example]:
    """Examples saved by :func:`write_jsonl_examples` (e.g. the news-domain tune set)."""
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            out.append(Example(d["qid"], d["question"], d["context"],
                               tuple((a, int(s)) for a, s in d["answers"]), d["article"], d.get("source", "")))
    return out


def write_jsonl_examples(path: Path, examples: Iterable[Example]) -> None:
    with Path(path).open("w", encoding="utf-8") as fh:
        for ex in examples:
            fh.write(json.dumps({"qid": ex.qid, "question": ex.question, "context": ex.context,
                                 "answers": [list(a) for a in ex.answers], "article": ex.article,
                                 "source": ex.source}, ensure_ascii=False) + "\n")
