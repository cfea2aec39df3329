"""Synthetic news reading questions from the xwlb archive: a sentence's clause with one amount,
person, place or organisation replaced by the matching question word (多少, 谁, 哪里, 哪个单位)
asks for that span in the article's passage. Half of the questions are also paired with the most
similar other passage that lacks the answer ("no answer").

Two styles:
- ``cloze``: the whole clause with the span replaced (the question copies its clause);
- ``terse``: only the clause's content words nearest the span, the way people type questions
  (上半年全市地区生产总值多少), so the reader learns to match on a few words, not a copied clause.

Only articles outside every evaluation window are used: not the first 800 items (xwlb800) and
no item dated 2019 (the 2019 Q2 sets), so no question set's article is ever trained on.

    python -m training.reader.synthetic --out ~/.cache/newsqa/runs/synthetic.jsonl --years 2021-2023
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

from retrieval.lexicon.words import word_list, word_set
from training.reader.data import Example, cut_negatives, hard_negatives, write_jsonl_examples

SKIPPED_FIRST = 800  # xwlb800 is the archive's first 800 items
SKIPPED_YEARS = ("2019",)  # the xwlb2019q2* sets' window
PASSAGE_CHARS = 400  # about a chunk (retrieval.chunk.MAX_CHARS)
_SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?]?")
_CLAUSE = re.compile(r"[^，,；;：:]+")
_AMOUNT = re.compile(r"\d+(?:\.\d+)?(?:万亿|亿|万|千)?(?:%|元|美元|人|名|个|件|家|项|吨|公里|千米|米|次|台|辆|座|所|户|天|年|倍)")
_BOILERPLATE = re.compile(r"^(?:央视网消息|中国网络电视台消息)[（(]新闻联播[)）][:：]")
# jieba tags → question word
_QUESTION_WORD = {"nr": "谁", "ns": "哪里", "nt": "哪个单位"}
# jieba tags a terse question keeps: nouns, names, verbs, times, numbers, abbreviations, set
# phrases (粮食产量 is "l"), places (s)
_CONTENT_TAGS = ("n", "v", "t", "m", "j", "l", "s", "eng")
# verbs that carry no content of their own (实现 in 全市实现地区生产总值276亿元)
_LIGHT_VERBS = frozenset({"是", "有", "进行", "实现", "达到", "完成", "开展", "表示", "指出", "认为", "成为"})
TERSE_WORDS = 5  # content words kept, the nearest to the span
_MEASURE_WORDS = frozenset("个名人家项件次台辆座所户天倍吨")
_SURNAMES = frozenset(word_list("surnames")[:120])  # the common ones: 祝贺, 施策 are no names
_KNOWN_PLACES = word_set("countries") | word_set("provinces")
_PLACE_ENDINGS = frozenset("省市县区镇乡村州岛湾港山江河湖")
_ORG_ENDINGS = tuple(word_set("org_suffixes") | set("会院委署社所队军党团台网处"))


def terse_question(before: str, after: str, wh: str, rng: random.Random) -> str:
    """The content words of ``before`` + span + ``after`` nearest the span, with ``wh`` in the
    span's place; a preposition just before the span stays (与谁签约), so does 我国 as 中国."""
    import jieba.posseg

    left = [(w, t) for w, t in jieba.posseg.lcut(before)]
    right = [(w, t) for w, t in jieba.posseg.lcut(after)]

    def content(words: list[tuple[str, str]]) -> list[tuple[int, str]]:
        return [(i, w) for i, (w, t) in enumerate(words)
                if (t.startswith(_CONTENT_TAGS) or w == "我国") and w not in _LIGHT_VERBS and w.strip()]

    kept_left = content(left)
    kept_right = content(right)
    if left and left[-1][1] == "p":  # the preposition that governs the span
        kept_left.append((len(left) - 1, left[-1][0]))
    # distance from the span: words to its left count from the end
    ranked = sorted([(len(left) - i, "l", i, w) for i, w in kept_left] + [(i + 1, "r", i, w) for i, w in kept_right])
    keep = ranked[: TERSE_WORDS + rng.choice((-1, 0, 0, 1))]
    words_left = [w for _, w in sorted((i, w) for _, side, i, w in keep if side == "l")]
    words_right = [w for _, w in sorted((i, w) for _, side, i, w in keep if side == "r")]
    if not words_left and words_right and rng.random() < 0.5:
        # the span was the subject: 起草一份文件的是哪个单位, as often as 哪个单位起草一份文件
        question = "".join(words_right) + "的是" + wh
    else:
        question = "".join(words_left) + wh + "".join(words_right)
    return question.replace("我国", "中国") + rng.choice(("？", "？", ""))


def plausible_name(word: str, tag: str) -> bool:
    """Whether jieba's person or organisation tag is believable: a person's name starts with a
    common surname (or is a transliteration with ·), an organisation's ends like one. jieba tags
    严格执行 and 祝贺 as names, and 新生事物 as an organisation."""
    if tag == "nr":
        return "·" in word or (len(word) <= 3 and word[0] in _SURNAMES)
    if tag == "nt":
        return any(word.endswith(suffix) for suffix in _ORG_ENDINGS)
    if tag == "ns":  # 依法治国, 深度 are tagged as places
        return word in _KNOWN_PLACES or word[-1] in _PLACE_ENDINGS
    return True


def asked_amount(answer: str) -> str:
    """The question word for an amount, with its measure word: 10人 → 多少人, 31个 → 多少个."""
    return "多少" + answer[-1] if answer[-1] in _MEASURE_WORDS else "多少"


def synthetic_examples(archive: Path, years: tuple[str, str], limit: int, seed: int = 5,
                       skip_first: int = SKIPPED_FIRST, style: str = "cloze") -> Iterator[Example]:
    """At most one question per article (a random candidate span), ``limit`` in all, from the
    items dated within ``years`` (inclusive, "2021"–"2023"), never 2019 nor the first ``skip_first``.
    ``style`` is ``cloze`` or ``terse`` (module docstring)."""
    import jieba.posseg

    rng = random.Random(seed)
    made = 0
    with gzip.open(archive, "rt", encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            if made >= limit:
                return
            item = json.loads(line)
            year = str(item.get("date", ""))[:4]
            if n < skip_first or year in SKIPPED_YEARS or not years[0] <= year <= years[1]:
                continue
            text = _BOILERPLATE.sub("", str(item.get("text", "")).split("\n(视频编辑")[0]).strip()
            if len(text) < 80:
                continue
            candidates = []
            for m in _SENTENCE.finditer(text):
                for c in _CLAUSE.finditer(m.group()):
                    clause, at = c.group().strip("。！？!? "), m.start() + c.start()
                    if not 8 <= len(clause) <= 60:
                        continue
                    for a in _AMOUNT.finditer(clause):
                        candidates.append((clause, at, a.group(), a.start(), "多少"))
                    for word, tag in jieba.posseg.lcut(clause):
                        if tag in _QUESTION_WORD and 2 <= len(word) <= 12 and clause.count(word) == 1 \
                                and plausible_name(word, tag):
                            candidates.append((clause, at, word, clause.index(word), _QUESTION_WORD[tag]))
            if not candidates:
                continue
            by_word: dict[str, list[tuple[str, int, str, int, str]]] = {}
            for cand in candidates:
                by_word.setdefault(cand[4], []).append(cand)
            # one question word first, then one of its spans: amounts would otherwise dominate
            clause, at, answer, offset, wh = rng.choice(by_word[rng.choice(sorted(by_word))])
            if "、" in clause[max(0, offset - 1) : offset + len(answer) + 1]:
                continue  # one item of an enumeration (北京、河北、辽宁): any item would answer
            if style == "terse":
                wh = asked_amount(answer) if wh == "多少" else wh
                question = terse_question(clause[:offset], clause[offset + len(answer):], wh, rng)
            else:
                question = clause[:offset] + wh + clause[offset + len(answer):] + "？"
            if len(question.strip("？").replace("的是", "")) < len(wh) + 4:  # too little left to ask about
                continue
            start = at + text[at:].index(clause) + offset
            lo = max(0, min(start - PASSAGE_CHARS // 2, len(text) - PASSAGE_CHARS))
            title = str(item.get("title", "")).strip()
            passage = f"{title}\n{text[lo : lo + PASSAGE_CHARS]}"
            answer_at = len(title) + 1 + start - lo
            # a span the passage holds twice makes the question ambiguous (中国 in 中国特色…)
            if passage[answer_at : answer_at + len(answer)] != answer or passage.count(answer) != 1:
                continue
            made += 1
            qid = f"syn:{item['id']}" if style == "cloze" else f"syn-{style}:{item['id']}"
            yield Example(qid, question, passage, ((answer, answer_at),), qid, source="synthetic")


def main() -> None:
    repo = Path(__file__).resolve().parents[2]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--archive", type=Path, default=repo.parent / "shared/data/xwlb_articles.jsonl.gz")
    ap.add_argument("--years", default="2021-2023", help="FROM-TO, never including 2019")
    ap.add_argument("--limit", type=int, default=4000)
    ap.add_argument("--negatives", type=float, default=0.5)
    ap.add_argument("--cut-negatives", type=float, default=0.0,
                    help="share of questions also asked of their passage with the answer's sentence cut out")
    ap.add_argument("--cut-fill", action="store_true",
                    help="fill each cut with other articles' sentences, so a cut passage keeps its length")
    ap.add_argument("--style", choices=("cloze", "terse"), default="cloze")
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    first, _, last = args.years.partition("-")
    examples = list(synthetic_examples(args.archive, (first, last or first), args.limit, args.seed,
                                       style=args.style))
    negatives = hard_negatives(examples, args.negatives)
    cut = cut_negatives(examples, args.cut_negatives, fill=args.cut_fill) if args.cut_negatives > 0 else []
    write_jsonl_examples(args.out, examples + negatives + cut)
    print(f"{len(examples)} questions + {len(negatives)} no-answer pairs + {len(cut)} cut passages → {args.out}")


if __name__ == "__main__":
    main()
