"""Top-1 accuracy of the suggestion on the held-out texts (``data/heldout.tsv``), per profile:
the held-out topic is filed under the profile's category (``topics.category_of``) and compared
with the first suggestion. ``xinfang classify evaluate`` prints it; the test holds it ≥ 0.85."""

from __future__ import annotations

from dataclasses import dataclass

from .model import DATA, read_corpus
from .services import category_suggest
from .topics import category_of


@dataclass(frozen=True)
class Accuracy:
    profile: str
    right: int
    total: int
    misses: tuple[tuple[str, str, str], ...]  # (expected, suggested, text)

    @property
    def top1(self) -> float:
        return self.right / self.total if self.total else 0.0


def accuracy(code: str, categories: tuple[str, ...]) -> Accuracy:
    rows = read_corpus(DATA / "heldout.tsv")
    right, misses = 0, []
    for topic, text in rows:
        expected = category_of(topic, categories)
        got = category_suggest(text=text, categories=categories, limit=1)
        first = got[0].category if got else ""
        if first == expected:
            right += 1
        else:
            misses.append((expected or "", first, text))
    return Accuracy(code, right, len(rows), tuple(misses))
