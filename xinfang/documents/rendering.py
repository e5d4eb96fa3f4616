"""Filling a DOCX template with docxtpl, and checking a template holds what its instrument needs."""

from __future__ import annotations

import hashlib
import io
from functools import cache
from pathlib import Path

from docxtpl import DocxTemplate, Listing
from jinja2 import TemplateError, TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


@cache
def repository_template(code: str) -> bytes:
    return (TEMPLATE_DIR / f"{code}.docx").read_bytes()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _value(value):
    if value is None:
        return ""
    if isinstance(value, str) and "\n" in value:
        return Listing(value)
    return value


class TemplateRefused(Exception):
    def __init__(self, message: str, *, field: str = "template"):
        super().__init__(message)
        self.field = field

    @classmethod
    def of_tags(cls, exc: TemplateError) -> TemplateRefused:
        """The template's tags refused, on the fields' lookup or the fill alike."""
        return cls(f"模板中的填写标记有误：{exc}")


# What a template may hold: text, and fields written {{ name }}. The repository's templates hold
# nothing else; loops, conditions, operators, calls, filters and attributes are refused, so an
# uploaded template can neither reach behind a value nor keep a worker busy.
_FIELD_NODES = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Const)
_WHAT = {
    nodes.For: "循环", nodes.If: "条件", nodes.CondExpr: "条件", nodes.Getattr: "属性",
    nodes.Getitem: "下标", nodes.Call: "调用", nodes.Filter: "过滤器", nodes.Test: "判断",
    nodes.BinExpr: "运算", nodes.UnaryExpr: "运算", nodes.Assign: "赋值", nodes.Macro: "宏",
}  # fmt: skip


class _FieldsOnly(ImmutableSandboxedEnvironment):
    """A sandbox that parses only text and fields: every part docxtpl fills (body, headers,
    footers, properties, footnotes) is parsed here, on upload and on every fill."""

    def _parse(self, source, name, filename):
        tree = super()._parse(source, name, filename)
        for node in tree.find_all(nodes.Node):
            if not isinstance(node, _FIELD_NODES):
                what = next((w for k, w in _WHAT.items() if isinstance(node, k)), "语句")
                raise TemplateSyntaxError(
                    f"模板只能使用 {{{{ 字段名 }}}} 形式的填写标记，不能使用{what}", node.lineno
                )
        return tree


def _sandbox() -> ImmutableSandboxedEnvironment:
    """Where a template's tags run: they reach the values they are given and nothing behind them
    (no ``__class__``, no globals), for the office's template is uploaded by its system
    administrator, who may not run code on the server. A new one each time: docxtpl sets options
    on the environment it is handed."""
    return _FieldsOnly(autoescape=True)


def render(template: bytes, context: dict) -> bytes:
    doc = DocxTemplate(io.BytesIO(template))
    try:
        doc.render({k: _value(v) for k, v in context.items()}, jinja_env=_sandbox())
    except TemplateError as exc:  # the sandbox's SecurityError among them
        raise TemplateRefused.of_tags(exc) from None
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def template_fields(template: bytes) -> set[str]:
    """The fields (Jinja variables) a DOCX template uses; refuses what is not a DOCX template."""
    try:
        doc = DocxTemplate(io.BytesIO(template))
        return set(doc.get_undeclared_template_variables(jinja_env=_sandbox()))
    except TemplateError as exc:
        raise TemplateRefused.of_tags(exc) from None
    except Exception:  # not a zip, not a Word document
        raise TemplateRefused("上传的文件不是有效的 Word（DOCX）模板。") from None


def check_template(template: bytes, required: set[str]) -> None:
    present = template_fields(template)
    missing = sorted(required - present)
    if missing:
        raise TemplateRefused(
            "模板缺少本文书必需的字段：" + "、".join("{{ " + m + " }}" for m in missing),
            field=missing[0],
        )
    # docxtpl's fields lookup reads the body, headers and footers; a fill parses the document's
    # properties and footnotes too, so one is tried now, not at the first case's issue
    render(template, {name: "样例" for name in present})
