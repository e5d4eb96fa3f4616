"""Rules pages in words: a rule's source reference (``national 登记转送``, ``001 二(五)``) with
the document's name instead of the code a profile file uses for it."""

import re

from django import template
from django.utils.translation import gettext as _

from xinfang.rules.diff import limit_text

register = template.Library()

_WORDS = (
    (re.compile(r"\bnational\b"), "《信访工作条例》"),
    (re.compile(r"\bSPEC\b"), "系统规格"),
    (re.compile(r"\bamount:\s*"), "期限依"),
    (re.compile(r"复核:\s*"), "复核依"),
    (re.compile(r";\s*"), "；"),
)


@register.filter
def seed_words(seed: str, own_seed: str = "") -> str:
    """``001 二(五)`` on jianan's page → ``本方案 二(五)``;
    ``national §19`` → ``《信访工作条例》§19``."""
    text = (seed or "").strip()
    if not text:
        return "—"
    if own_seed and own_seed != "national" and re.match(rf"{re.escape(own_seed)}\b", text):
        text = _("本方案") + text[len(own_seed) :]
    for pattern, words in _WORDS:
        text = pattern.sub(words, text)
    return re.sub(r"》\s+", "》", text)


@register.simple_tag
def limit(amount, unit) -> str:
    return limit_text(amount, unit)
