"""Rules pages in words: a rule's source reference (``national 登记转送``, ``001 二(五)``) with
the document's name instead of the code a profile file uses for it."""

import re

from django import template

from xinfang.rules.diff import limit_text
from xinfang.rules.words import seed_words

register = template.Library()

register.filter("seed_words", seed_words)


@register.simple_tag
def limit(amount, unit) -> str:
    return limit_text(amount, unit)


_SECTIONS = {
    "code": "配置代码", "version": "版本号", "name": "名称", "seed": "依据文件",
    "description": "说明", "extends": "继承", "case_number_pattern": "编号格式",
    "categories": "问题类别", "scope": "受理范围", "collective": "集体访", "clocks": "时限",
    "routing": "分流", "constraints": "交办限制", "warnings": "预警", "receptions": "接访",
    "closing": "销号条件", "reply_modes": "答复方式", "report_back": "反馈", "targets": "考核指标",
    "signatures": "签批", "extension": "延期", "analysis": "原因分析", "review_windows": "复查复核",
    "periodic_reports": "定期报告", "registers": "台账", "principles": "工作原则",
    "disclosure": "保密", "against_office": "反映本机关的信访",
}  # fmt: skip


@register.filter
def section_words(path: str) -> str:
    """``extension.amount`` → 延期: the section of a changed key in words."""
    section = re.split(r"[.\[]", path or "", maxsplit=1)[0]
    return _SECTIONS.get(section, section)


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


@register.filter
def issue_words(message: str) -> str:
    """A profile loader's message in Chinese where it is one of the common kinds (an unknown
    name, a missing key, a value outside its list, a wrong type, YAML syntax); the names quoted
    are the file's own, so the administrator can find them."""
    for pattern, words in _ISSUES:
        match = pattern.match(message or "")
        if match:
            return words(match)
    return message
