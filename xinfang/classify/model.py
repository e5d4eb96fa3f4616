"""A transparent category model: naive Bayes over the characters of the matter text.

The model is derived, at first use, from the labelled corpus the project ships
(``data/train.tsv``; nothing is downloaded). Each line is a *topic* and a short matter text written
for the project. A text is cut into character pairs and triples (Chinese has no spaces: "危房",
"房改", "危房改" carry the meaning); each topic's weight for a gram is the smoothed log share of
that gram among the topic's grams. A suggestion adds up the weights of the grams a text contains,
so every suggestion can name the grams that decided it (``Suggestion.evidence``) — the clerk sees
why, and a wrong one can be corrected by adding a line to the corpus.

Topics are finer than any profile's categories (``topics.py`` maps them onto each profile's own
list), so one model serves every profile.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data"
# Punctuation, digits and Latin letters carry no topic; they only cut the text into runs.
_SPLIT = re.compile(r"[^\u4e00-\u9fff]+")
ALPHA = 0.1  # additive smoothing: small, so a gram seen in one topic only speaks loudly
SIZES = (2, 3)


def grams(text: str) -> list[str]:
    out: list[str] = []
    for run in _SPLIT.split(text):
        for n in SIZES:
            out += [run[i:i + n] for i in range(len(run) - n + 1)]
    return out


def read_corpus(path: Path) -> list[tuple[str, str]]:
    """``(topic, text)`` per line; ``#`` lines are comments. A malformed line names its number."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        topic, sep, text = line.partition("\t")
        if not sep or not topic.strip() or not text.strip():
            raise ValueError(f"{path.name}:{number}: expected 主题<TAB>信访事项")
        rows.append((topic.strip(), text.strip()))
    return rows


@dataclass(frozen=True)
class Scored:
    topic: str
    score: float  # log-likelihood up to a constant shared by all topics
    evidence: tuple[str, ...]  # the grams that speak most for this topic, strongest first


class Model:
    def __init__(self, rows: list[tuple[str, str]]):
        counts: dict[str, Counter] = {}
        docs: Counter = Counter()
        for topic, text in rows:
            counts.setdefault(topic, Counter()).update(set(grams(text)))
            docs[topic] += 1
        self.topics = tuple(sorted(counts))
        vocab = set().union(*counts.values()) if counts else set()
        self.size = len(vocab)
        total_docs = sum(docs.values())
        self.prior = {t: math.log(docs[t] / total_docs) for t in self.topics}
        self.weights: dict[str, dict[str, float]] = {}
        self.unseen: dict[str, float] = {}
        for t in self.topics:
            total = sum(counts[t].values()) + ALPHA * self.size
            self.weights[t] = {g: math.log((k + ALPHA) / total) for g, k in counts[t].items()}
            self.unseen[t] = math.log(ALPHA / total)
        # How much more a gram says for a topic than the average topic does: the "keyword" weight
        # shown as evidence (grams every topic uses, like 反映 or 要求, weigh nothing).
        self.lift: dict[str, dict[str, float]] = {}
        for g in vocab:
            per = {t: self.weights[t].get(g, self.unseen[t]) for t in self.topics}
            mean = sum(per.values()) / len(per)
            self.lift[g] = {t: w - mean for t, w in per.items()}

    def score(self, text: str) -> list[Scored]:
        """Every topic's score for ``text``, best first (ties by topic name)."""
        seen = [g for g in dict.fromkeys(grams(text)) if g in self.lift]
        out = []
        for t in self.topics:
            total = self.prior[t] + sum(self.weights[t].get(g, self.unseen[t]) for g in seen)
            strong = sorted((g for g in seen if self.lift[g][t] > 1.0),
                            key=lambda g: -self.lift[g][t])
            out.append(Scored(t, total, tuple(_longest_first(strong)[:4])))
        return sorted(out, key=lambda s: (-s.score, s.topic))

    def keywords(self, topic: str, n: int = 20) -> list[tuple[str, float]]:
        """The grams that speak most for ``topic``: the model, readable."""
        ranked = sorted(((g, lift[topic]) for g, lift in self.lift.items()),
                        key=lambda item: -item[1])
        return [(g, round(w, 2)) for g, w in ranked[:n]]


def _longest_first(strong: list[str]) -> list[str]:
    """Drop a pair already inside a stronger triple, so evidence reads as words, not fragments."""
    kept: list[str] = []
    for g in strong:
        if not any(g in k or k in g for k in kept):
            kept.append(g)
    return kept


@cache
def model() -> Model:
    return Model(read_corpus(DATA / "train.tsv"))
