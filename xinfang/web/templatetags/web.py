"""Template helpers: masking, role labels, deadlines, the case tables' rows."""

from django import template

from xinfang.security import masking, once

from ..header import frame_footer, frame_head, frame_header
from ..present import (
    backlog_lines_html,
    bar_chart_html,
    case_table_html,
    deadline_text,
    field_html,
    ledger_rows_html,
    matter_groups_html,
    notice_rows_html,
    owned_rows_html,
    pending_items_html,
    percent_text,
    role_label,
    unit_rates_html,
)

register = template.Library()


@register.filter
def masked_name(value):
    return masking.mask_name(value)


@register.filter
def role(value):
    return role_label(value or "")


@register.filter
def roles(values):
    return "、".join(role_label(v) for v in values or [])


@register.filter
def deadline(value):
    """A deadline as offices say it (``present.deadline_text``: midnight is 24:00 the day
    before)."""
    return deadline_text(value)


@register.filter
def get_field(form, name):
    """A bound field by name: ``{% with f=form|get_field:name %}``."""
    return form[name]


@register.filter
def percent(rate):
    """0.925 → "92.5%"; None (nothing to measure) → "—"."""
    return percent_text(rate)


@register.filter
def unit_rate_rows(rows):
    """The supervision page's split table, written in Python (``present``)."""
    return unit_rates_html(rows)


@register.filter
def case_table(rows):
    """A work-queue or supervision table of cases, written in Python (``present``)."""
    return case_table_html(rows)


@register.simple_tag
def bar_chart(chart, chart_id, title):
    """A bar chart as inline SVG, written in Python (``present``)."""
    return bar_chart_html(chart, chart_id, title)


@register.filter
def notice_rows(rows):
    """The supervision page's warning notices, written in Python (``present``)."""
    return notice_rows_html(rows)


@register.filter
def owned_rows(cases):
    """The supervision page's leader-owned cases, written in Python (``present``)."""
    return owned_rows_html(cases)


@register.filter
def backlog_lines(lines):
    """The supervision page's open backlog lines, written in Python (``present``)."""
    return backlog_lines_html(lines)


@register.filter
def matter_groups(matters):
    """A person's matters with their cases, written in Python (``present``)."""
    return matter_groups_html(matters)


@register.filter
def pending_items(items):
    """A person's pending 包案 items, written in Python (``present``)."""
    return pending_items_html(items)


@register.simple_tag
def ledger_table_rows(rows, flag_labels):
    """The rows of the ledger's table, written in Python (``present``)."""
    return ledger_rows_html(rows, flag_labels)


@register.simple_tag
def form_field(f, wide=False, live=""):
    """``partials/field.html``'s field, written in Python (``present.field_html``)."""
    return field_html(f, wide, live)


@register.simple_tag(takes_context=True)
def once_field(context, form=""):
    """The form's one-time token (``security.once``): a write it asks for is done once however
    many times it is sent. ``form``: its name, where a page has several."""
    return once.once_input(context["request"], form)


# The page's frame (``web/base.html``), written in Python (``header``).
register.simple_tag(frame_head)
register.simple_tag(frame_footer)
register.simple_tag(takes_context=True)(frame_header)
