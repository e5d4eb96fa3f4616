"""A rule's source reference in words: ``national §19`` → ``《信访工作条例》§19``, ``001 二(五)`` on
jianan's own rules → ``本方案 二(五)``. Used by the rules pages and by refusals that name the rule
that applied."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

_WORDS = (
    (re.compile(r"\bnational\b"), "《信访工作条例》"),
    (re.compile(r"\bSPEC\b"), "系统规格"),
    (re.compile(r"\bamount:\s*"), "期限依"),
    (re.compile(r"复核:\s*"), "复核依"),
    (re.compile(r";\s*"), "；"),
)


def seed_words(seed: str, own_seed: str = "") -> str:
    text = (seed or "").strip()
    if not text:
        return "—"
    if own_seed and own_seed != "national" and re.match(rf"{re.escape(own_seed)}\b", text):
        text = _("本方案") + text[len(own_seed) :]
    for pattern, words in _WORDS:
        text = pattern.sub(words, text)
    return re.sub(r"》\s+", "》", text)
