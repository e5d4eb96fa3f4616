"""Picking one row among a province's many: a unit among 37,000, a staff member's role among
thousands.

A select of every row was what the administrators' forms had (the parent of a new unit, the unit
of a role granted or of a notice channel, the role an API token acts as): at a province's size
each page wrote 37,000 options, 0.5–0.7 s a page and a list nobody can scroll. ``Pick`` shows
the rows when they are few (``PICK_LIMIT``: a township's own site is unchanged) and otherwise a
search box above a select of the matches: typing asks ``web:pick`` for the matching options
(htmx), and without script the form still works: the typed text is searched when the form is
sent, one match is taken, several are shown to choose from. The choice is checked against the
field's whole queryset, as a model select's is.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.db.models import Model, Q, QuerySet
from django.forms.boundfield import BoundField
from django.forms.models import ModelChoiceField
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from xinfang.cases.selectors import OFFICE_READERS
from xinfang.org.choices import ADMIN_ROLES, Level, Role
from xinfang.org.models import Membership, Unit

from .common import ModelChoice

PICK_LIMIT = 50  # rows a select shows; more, and the search box is shown above it
SEARCH_SUFFIX = "__q"  # the search box's name: the field's name and this
BLANK = "_pick_blank"  # the field hands its widget the blank option's words under this


def unit_label(unit: Unit) -> str:
    """A unit and the unit above it: a province holds hundreds of villages of the same name."""
    parent = unit.parent
    return f"{unit.name}（{parent.name}）" if parent is not None else unit.name


def membership_label(m: Membership) -> str:
    return f"{m.unit} · {m.get_role_display()} · {m.user}（{m.user.username}）"


@dataclass(frozen=True)
class Source:
    """What a picker picks from: its rows, how a row reads, which columns a search looks in,
    and who may search them (``web:pick``)."""

    rows: Callable[[Unit | None], QuerySet]  # of the reader's jurisdiction, where ``scoped``
    label: Callable[[Model], str]
    search: tuple[str, ...]
    exact: str  # the column whose whole text, typed, picks one of several matches
    roles: frozenset[str]
    scoped: bool = False  # its rows are those of the reader's jurisdiction

    def matching(self, qs: QuerySet, text: str) -> QuerySet:
        q = Q()
        for column in self.search:
            q |= Q(**{f"{column}__icontains": text})
        return qs.filter(q)


def _places_under(home: Unit | None, which: Q) -> QuerySet:
    """The units under the jurisdiction ``home`` (not itself) that ``which`` selects, those
    switched off too: the ledger's filters find past cases by the places they were filed
    under (a township merged away)."""
    if home is None:
        return Unit.objects.none()
    return (Unit.objects.filter(which, path__under=home.path)
            .exclude(pk=home.pk).select_related("parent").order_by("path"))


def place_label(unit: Unit) -> str:
    label = unit_label(unit)
    return label if unit.is_active else _t("%(name)s（已停用）") % {"name": label}


def _places(which: Q) -> Source:
    return Source(rows=lambda home: _places_under(home, which), label=place_label,
                  search=("name",), exact="name", roles=frozenset(OFFICE_READERS), scoped=True)


SOURCES: dict[str, Source] = {
    "units": Source(
        rows=lambda home: Unit.objects.filter(is_active=True).select_related("parent")
        .order_by("path"),
        label=unit_label,
        search=("name", "short_name"),
        exact="name",
        roles=frozenset({Role.SYSADMIN, Role.SECADMIN}),
    ),
    # The roles an API token may act as (integrations): not an administrator's.
    "memberships": Source(
        rows=lambda home: Membership.objects.filter(is_active=True, user__is_active=True)
        .exclude(role__in=ADMIN_ROLES).select_related("user", "unit")
        .order_by("unit__path", "role", "user__username"),
        label=membership_label,
        search=("unit__name", "user__full_name", "user__username"),
        exact="user__username",
        roles=frozenset({Role.SYSADMIN}),
    ),
    # The ledger's place and handling-unit filters of a jurisdiction too big to list them
    # (a city's or the province's: forms.ledger.PLACES_LISTED).
    "townships": _places(Q(level=Level.TOWNSHIP)),
    "villages": _places(Q(level=Level.VILLAGE)),
    "handlers": _places(~Q(level=Level.VILLAGE)),
}


class Searched(str):
    """What a picker sends when nothing was chosen but a search was typed (no script)."""


def options_html(source: Source, qs: QuerySet, *, selected: str = "", text: str = "",
                 blank: str = "") -> tuple[SafeString, bool]:
    """The ``<option>``s of a picker: the blank, the chosen row, then the first
    ``PICK_LIMIT`` rows (matching ``text`` when given), and a last disabled line saying that
    more match; and whether more do."""
    rows = list((source.matching(qs, text) if text else qs)[: PICK_LIMIT + 1])
    more = len(rows) > PICK_LIMIT
    rows = rows[:PICK_LIMIT]
    chosen = None
    if selected and selected.isdigit() and not any(str(r.pk) == selected for r in rows):
        chosen = qs.filter(pk=int(selected)).first()
    if not blank or blank == "---------":
        blank = _t("—请选择—")
    parts = [format_html('<option value="">{}</option>', blank)]
    if chosen is not None:
        rows.insert(0, chosen)
    parts.append(format_html_join(
        "", '<option value="{}"{}>{}</option>',
        ((r.pk, mark_safe(" selected") if str(r.pk) == selected else "", source.label(r))
         for r in rows)))
    if more:
        parts.append(format_html('<option value="" disabled>{}</option>',
                                 _t("……仅列出前 %(n)s 项，请输入更多字查找") % {"n": PICK_LIMIT}))
    elif text and not rows:
        parts.append(format_html('<option value="" disabled>{}</option>',
                                 _t("没有含“%(text)s”的项") % {"text": text}))
    return mark_safe("".join(parts)), more


class PickWidget(forms.Widget):
    """A select of at most ``PICK_LIMIT`` rows, with a search box above it when there are
    more. Written here, not by a template: its options come from ``options_html``, which
    ``web:pick`` also answers with."""

    source_key = ""
    queryset: QuerySet | None = None

    def value_from_datadict(self, data, files, name):
        value = data.get(name) or ""
        text = (data.get(name + SEARCH_SUFFIX) or "").strip()[:50]
        return Searched(text) if not value and text else value

    def value_omitted_from_data(self, data, files, name):
        return name not in data and name + SEARCH_SUFFIX not in data

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        source = SOURCES[self.source_key]
        qs = self.queryset if self.queryset is not None else source.rows(None)
        text = str(value) if isinstance(value, Searched) else ""
        selected = "" if text or value is None else str(getattr(value, "pk", value))
        attrs = self.build_attrs(self.attrs, attrs)
        blank = attrs.pop(BLANK, "")
        select_id = attrs.get("id") or f"id_{name}"
        options, more = options_html(source, qs, selected=selected, text=text, blank=blank)
        extra = format_html_join("", ' {}="{}"', ((k, v) for k, v in attrs.items()
                                                  if k not in ("id", "required") and v
                                                  is not True and v is not False))
        flags = "".join(f" {k}" for k in ("required", "disabled") if attrs.get(k) is True)
        select = format_html('<select name="{}" id="{}"{}{}>{}</select>', name, select_id,
                             extra, mark_safe(flags), options)
        if not text and not more:
            return select  # few rows: all of them, as a plain select
        search = format_html(
            '<input type="search" name="{}" value="{}" class="pick-search" autocomplete="off"'
            ' placeholder="{}" aria-label="{}" aria-controls="{}" hx-get="{}"'
            ' hx-trigger="input changed delay:300ms, search" hx-target="#{}"'
            ' hx-swap="innerHTML" hx-include="#{}" hx-vals="{}"{}>',
            name + SEARCH_SUFFIX, text, _t("输入名称查找"), _t("查找选项"), select_id,
            reverse("web:pick", args=[self.source_key]), select_id, select_id,
            json.dumps({BLANK: blank}, ensure_ascii=False),
            mark_safe(" disabled") if attrs.get("disabled") else "")
        return format_html('<span class="pick">{}{}</span>', search, select)


class _PickBound(BoundField):
    def build_widget_attrs(self, attrs, widget=None):
        # The blank option's words, as the form leaves them (``PlainForm`` rewrites Django's
        # "---------"); taken out of the attributes again by the widget.
        return {**super().build_widget_attrs(attrs, widget),
                BLANK: str(self.field.empty_label or "")}


class Pick(ModelChoice):
    """A model choice among ``SOURCES[source]``'s rows (or the narrower ``queryset``), drawn as
    a ``PickWidget``. A typed search sent without a choice picks its one match, or asks to
    choose among several."""

    widget = PickWidget

    def __init__(self, *, source: str, queryset: QuerySet | None = None, **kw):
        self.source = SOURCES[source]
        super().__init__(queryset=queryset if queryset is not None else self.source.rows(None),
                         **kw)
        self.widget.source_key = source

    def get_bound_field(self, form, field_name):
        return _PickBound(form, self, field_name)

    def _set_queryset(self, queryset):
        ModelChoiceField._set_queryset(self, queryset)
        self.widget.queryset = self._queryset

    queryset = property(ModelChoiceField._get_queryset, _set_queryset)

    def label_from_instance(self, obj) -> str:
        return self.source.label(obj)

    def to_python(self, value):
        if not isinstance(value, Searched):
            return super().to_python(value)
        found = list(self.source.matching(self.queryset, value)[:2])
        if len(found) == 2:  # several contain it: the one named exactly so, if one is
            found = list(self.queryset.filter(**{self.source.exact: value})[:2]) or found
        if len(found) == 1:
            return found[0]
        if not found:
            raise forms.ValidationError(_("没有含“%(text)s”的项，请换个写法查找。"),
                                        code="invalid_choice", params={"text": value})
        raise forms.ValidationError(_("含“%(text)s”的不止一项，请在列表中选定一项。"),
                                    code="invalid_choice", params={"text": value})

    def has_changed(self, initial, data):
        return False if isinstance(data, Searched) else super().has_changed(initial, data)
