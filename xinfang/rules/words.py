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


_WHAT = {
    "role": "角色", "event": "事件", "key": "键", "unit kind": "单位类型",
    "closing item": "销号要件", "document": "文书", "count": "统计项", "matter type": "事项类型",
    "field": "条件字段",
    "operator": "条件运算", "category": "问题类别", "value": "取值",
}  # fmt: skip
_NAME = r"^unknown (?P<what>[a-z ]+?) (?P<value>'[^']*'|\S+) "
_ISSUES = (
    (re.compile(_NAME + r"\(did you mean (?P<hint>.+)\?\)$"),
     lambda m: f"未知的{_WHAT.get(m['what'], m['what'])} {m['value']}（是否应为 {m['hint']}？）"),
    (re.compile(_NAME + r"\(known: (?P<known>.+)\)$"),
     lambda m: f"未知的{_WHAT.get(m['what'], m['what'])} {m['value']}（可用：{m['known']}）"),
    (re.compile(r"^(?P<key>'[^']+') is a required property$"),
     lambda m: f"缺少必填的键 {m['key']}"),
    (re.compile(r"^(?P<value>.+) is not one of (?P<known>\[.+\])$"),
     lambda m: f"{m['value']} 不是可用的取值之一：{m['known']}"),
    (re.compile(r"^(?P<value>.+) is not of type (?P<type>.+)$"),
     lambda m: f"{m['value']} 的类型不对，应为 {m['type']}"),
    (re.compile(r"^duplicate key$"), lambda m: "键重复"),
    (re.compile(r"^YAML syntax error: (?P<problem>.+)$"),
     lambda m: f"YAML 格式错误：{m['problem']}"),
    (re.compile(r"^no profile (?P<code>'[^']*') to extend$"),
     lambda m: f"找不到所继承的配置 {m['code']}"),
)  # fmt: skip


def issue_words(message: str) -> str:
    """A profile loader's message in Chinese where it is one of the common kinds (an unknown
    name, a missing key, a value outside its list, a wrong type, YAML syntax); the names quoted
    are the file's own, so the administrator can find them."""
    for pattern, words in _ISSUES:
        match = pattern.match(message or "")
        if match:
            return words(match)
    return message
