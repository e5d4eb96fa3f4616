"""Category suggestion (问题类别建议): the front door the registration form and the API call.

The suggestion only proposes: the clerk confirms or changes the category, and the category stored
is the one submitted (``Demand.category``); nothing here writes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .model import model
from .topics import category_of

MAX_TEXT = 2000  # a matter text longer than this is cut (the model reads words, not essays)
# Naive Bayes is over-confident (it multiplies every gram's evidence as if independent): the
# scores are divided by this before they become shares, so a close second choice shows as one.
# The order of the topics is unchanged.
TEMPERATURE = 4.0
MIN_SHARE = 0.05  # a further suggestion below this is not shown


@dataclass(frozen=True)
class Suggestion:
    category: str
    share: float  # the model's confidence, 0–1, over the profile's categories
    evidence: tuple[str, ...]  # the words in the text that point to it


def category_suggest(*, text: str, categories: tuple[str, ...], limit: int = 3
                     ) -> list[Suggestion]:
    """The profile's categories most likely for ``text``, best first (at most ``limit``).

    The topics' scores become shares (softmax); a category's share is the sum over the topics it
    takes. An empty or wordless text gets no suggestion."""
    scored = model().score(text[:MAX_TEXT])
    if not text.strip() or not any(s.evidence for s in scored):
        return []
    top = scored[0].score
    weights = [math.exp((s.score - top) / TEMPERATURE) for s in scored]
    total = sum(weights)
    shares: dict[str, float] = {}
    evidence: dict[str, tuple[str, ...]] = {}
    for s, w in zip(scored, weights, strict=True):
        name = category_of(s.topic, categories)
        if name is None:
            continue
        shares[name] = shares.get(name, 0.0) + w / total
        if name not in evidence and s.evidence:
            evidence[name] = s.evidence
    ranked = sorted(shares, key=lambda name: (-shares[name], categories.index(name)))
    return [Suggestion(name, round(shares[name], 3), evidence.get(name, ()))
            for pos, name in enumerate(ranked[:limit]) if pos == 0 or shares[name] >= MIN_SHARE]
