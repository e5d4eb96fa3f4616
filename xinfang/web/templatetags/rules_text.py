"""Rules pages in words: a rule's source reference (``national 登记转送``, ``001 二(五)``) with
the document's name instead of the code a profile file uses for it."""

import re

from django import template

from xinfang.rules.diff import limit_text
from xinfang.rules.words import issue_words, seed_words

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


register.filter("issue_words", issue_words)
