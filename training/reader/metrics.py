"""CMRC 2018's official scoring, re-implemented: EM on punctuation-stripped strings, F1 on the
longest common substring of "mixed segmentation" (each CJK character a token, runs of other
characters split into words), both the maximum over the gold answers. ``nltk.word_tokenize``
of the official script is approximated by a word/punctuation split of the non-CJK runs."""

from __future__ import annotations

import re
from collections.abc import Sequence

_PUNCT = set("-:_*^/\\~`+=，。：？！“”；’《》·、「」（）－～『』") | {"……"}
_CJK = re.compile(r"[\u4e00-\u9fa5]")
_WORD = re.compile(r"\w+|[^\w\s]")


def mixed_segmentation(text: str, drop_punct: bool = True) -> list[str]:
    out: list[str] = []
    run = ""
    for ch in text.lower().strip():
        if drop_punct and ch in _PUNCT:
            continue
        if _CJK.match(ch) or ch in _PUNCT:
            out.extend(_WORD.findall(run))
            run = ""
            out.append(ch)
        else:
            run += ch
    out.extend(_WORD.findall(run))
    return out


def _strip_punct(text: str) -> str:
    return "".join(ch for ch in text.lower().strip() if ch not in _PUNCT)


def _lcs_len(a: Sequence[str], b: Sequence[str]) -> int:
    best = 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b, 1):
            if x == y:
                cur[j] = prev[j - 1] + 1
                best = max(best, cur[j])
        prev = cur
    return best


def f1_score(answers: Sequence[str], prediction: str) -> float:
    pred = mixed_segmentation(prediction)
    best = 0.0
    for ans in answers:
        gold = mixed_segmentation(ans)
        common = _lcs_len(gold, pred)
        if common:
            p, r = common / len(pred), common / len(gold)
            best = max(best, 2 * p * r / (p + r))
    return best


def exact_match(answers: Sequence[str], prediction: str) -> float:
    pred = _strip_punct(prediction)
    return float(any(_strip_punct(a) == pred for a in answers))
