"""The form renderer (``settings.FORM_RENDERER``): Django's own, with the plain widgets'
templates — the inputs, the text area, the select and its options, the groups of checkboxes
and radio buttons — written in Python.

Django renders every widget through its template engine: an input is three templates (the
type's, ``input.html``, ``attrs.html``), a select one more per option. The case page's action
forms render some eighteen widgets, a sixth of the page's CPU under cProfile. Here they are
written as the templates would write them, value by value with the template language's own
output rule (``render_value_in_context``: localised, then escaped unless already safe); any
other template, or an option with a template of its own, goes to Django's renderer. A test
renders every field of every form of the product both ways and compares the markup.
"""

from __future__ import annotations

import html

from django.forms.renderers import DjangoTemplates
from django.template import Context
from django.template.base import render_value_in_context
from django.utils.safestring import SafeData, SafeString, mark_safe

WIDGETS = "django/forms/widgets/"
INPUTS = frozenset(
    f"{WIDGETS}{name}.html"
    for name in ("input", "text", "number", "email", "url", "password", "hidden", "date",
                 "datetime", "time", "search", "tel", "checkbox", "color", "file")
)
TEXTAREA = f"{WIDGETS}textarea.html"
SELECT = f"{WIDGETS}select.html"
OPTION = f"{WIDGETS}select_option.html"
# A group of checkboxes or radio buttons (``multiple_input.html``) and their options
# (``input_option.html`` through their own one-line templates): the assign and reassign forms'
# assisting units are one checkbox per unit of the jurisdiction, 10 ms of a case page at 1M.
MULTIPLE = frozenset({f"{WIDGETS}checkbox_select.html", f"{WIDGETS}radio.html"})
INPUT_OPTIONS = frozenset({f"{WIDGETS}checkbox_option.html", f"{WIDGETS}radio_option.html"})

# What a template's ``{{ value }}`` sees: autoescape on, the project's time zone and formats.
_CONTEXT = Context(autoescape=True)


def _out(value) -> str:
    """``{{ value }}``. Text is only escaped by it (what is safe stays as it is): a page's
    forms write some 150 values, most of them text, and the template language's rule asks of
    each whether it is a time or a number to localise first."""
    kind = type(value)
    if kind is str:  # what ``escape`` writes, without its lazy-text wrapper (a select's 200
        return html.escape(value)  # options ask it 400 times)
    if kind is SafeString:
        return value
    return render_value_in_context(value, _CONTEXT)


def _fmt(value) -> str:
    """``{{ value|stringformat:'s' }}``: the filter keeps a safe value safe (``is_safe``)."""
    try:
        text = "%s" % (str(value) if isinstance(value, tuple) else value)
    except (ValueError, TypeError):
        text = ""
    return _out(mark_safe(text) if isinstance(value, SafeData) else text)


def _attrs(attrs: dict) -> str:
    """``attrs.html``."""
    return "".join(
        f" {_out(name)}" + ("" if value is True else f'="{_fmt(value)}"')
        for name, value in attrs.items()
        if value is not False
    )


def _input(w: dict) -> str:
    value = f' value="{_fmt(w["value"])}"' if w["value"] is not None else ""
    return f'<input type="{_out(w["type"])}" name="{_out(w["name"])}"{value}{_attrs(w["attrs"])}>'


def _textarea(w: dict) -> str:
    body = _out(w["value"]) if w["value"] else ""
    return f'<textarea name="{_out(w["name"])}"{_attrs(w["attrs"])}>\n{body}</textarea>'


def _option(o: dict) -> str:
    return (f'<option value="{_fmt(o["value"])}"{_attrs(o["attrs"])}>{_out(o["label"])}'
            f"</option>\n")


def _select(w: dict) -> str | None:
    parts = [f'<select name="{_out(w["name"])}"{_attrs(w["attrs"])}>']
    for group_name, group_choices, _index in w["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_out(group_name)}">')
        for option in group_choices:
            if option["template_name"] != OPTION:
                return None
            parts.append(f"\n  {_option(option)}")
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _input_option(o: dict) -> str:
    """``checkbox_option.html`` / ``radio_option.html``: ``input_option.html`` and the two files'
    closing newlines."""
    if not o["wrap_label"]:
        return f"{_input(o)}\n\n\n"
    label_id = o["attrs"].get("id")
    label_for = f' for="{_out(label_id)}"' if label_id else ""
    return f'<label{label_for}>{_input(o)}\n {_out(o["label"])}</label>\n\n'


def _multiple(w: dict) -> str | None:
    """``multiple_input.html``."""
    widget_id, widget_class = w["attrs"].get("id"), w["attrs"].get("class")
    parts = ["<div", f' id="{_out(widget_id)}"' if widget_id else "",
             f' class="{_out(widget_class)}"' if widget_class else "", ">"]
    for group_name, group_choices, _index in w["optgroups"]:
        if group_name:
            parts.append(f"\n  <div><label>{_out(group_name)}</label>")
        for option in group_choices:
            if option["template_name"] not in INPUT_OPTIONS:
                return None
            parts.append(f"<div>\n    {_input_option(option)}</div>")
        if group_name:
            parts.append("\n  </div>")
    parts.append("\n</div>")
    return "".join(parts)


class QuickRenderer(DjangoTemplates):
    def render(self, template_name, context, request=None) -> SafeString | str:
        widget = context.get("widget") if isinstance(context, dict) else None
        written = None
        if widget is not None:
            if template_name in INPUTS:
                written = _input(widget)
            elif template_name == TEXTAREA:
                written = _textarea(widget)
            elif template_name == SELECT:
                written = _select(widget)
            elif template_name in MULTIPLE:
                written = _multiple(widget)
        if written is None:
            return super().render(template_name, context, request=request)
        return written.strip()
