"""Filling a DOCX template with docxtpl, and checking a template holds what its instrument needs."""

from __future__ import annotations

import hashlib
import io
from functools import cache
from pathlib import Path

from docxtpl import DocxTemplate, Listing
from jinja2 import TemplateError

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


def render(template: bytes, context: dict) -> bytes:
    doc = DocxTemplate(io.BytesIO(template))
    doc.render({k: _value(v) for k, v in context.items()}, autoescape=True)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


class TemplateRefused(Exception):
    def __init__(self, message: str, *, field: str = "template"):
        super().__init__(message)
        self.field = field


def template_fields(template: bytes) -> set[str]:
    """The fields (Jinja variables) a DOCX template uses; refuses what is not a DOCX template."""
    try:
        doc = DocxTemplate(io.BytesIO(template))
        return set(doc.get_undeclared_template_variables())
    except TemplateError as exc:
        raise TemplateRefused(f"模板中的填写标记有误：{exc}") from None
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
