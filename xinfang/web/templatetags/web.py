"""Template helpers: masking, role labels, deadlines."""

from datetime import timedelta

from django import template
from django.utils import timezone

from xinfang.security import masking

from ..present import role_label

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
    """A deadline as offices say it: midnight is 24:00 of the day before ("12-02 24:00"),
    which is the last day the petitioner or the unit still has."""
    if not value:
        return ""
    local = timezone.localtime(value)
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        return f"{(local - timedelta(days=1)):%Y-%m-%d} 24:00"
    return f"{local:%Y-%m-%d %H:%M}"


@register.filter
def get_field(form, name):
    """A bound field by name: ``{% with f=form|get_field:name %}``."""
    return form[name]


@register.filter
def percent(rate):
    """0.925 → "92.5%"; None (nothing to measure) → "—"."""
    if rate is None:
        return "—"
    value = rate * 100
    return f"{value:.0f}%" if float(value).is_integer() else f"{value:.1f}%"


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None
