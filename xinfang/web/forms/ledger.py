"""The ledger's filter bar. The form only renders and reports what cannot be read; the rows are
filtered from the raw query string by ``web.ledger.filter_ledger`` (the same reading the API
export gives it)."""

from __future__ import annotations

from functools import lru_cache

from django import forms
from django.forms.utils import flatatt
from django.http import QueryDict
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from xinfang.cases import choices as c
from xinfang.cases.paging import KEPT_TEXT_MOST
from xinfang.db.fixed import TreeRead
from xinfang.db.remembered import OverTheBound
from xinfang.ledgers.filters import TRUE
from xinfang.org.choices import Level
from xinfang.org.models import Unit

from ..ledger import DEFAULT_SORT, active_filters, keeps
from ..present import esc
from .common import Listed, PlainForm, choice, date_field
from .pick import SOURCES, Pick

ALL = _("全部")
# A jurisdiction with more units than this (a county has ~230) has its place and handling-unit
# filters searched (``forms.pick``), not listed.
PLACES_LISTED = 2000
PICKED_PLACES = (("township", "townships"), ("village", "villages"), ("unit", "handlers"))
# The jurisdictions found with more units than ``PLACES_LISTED`` (with the bound), by path: their
# later filter bars go to the searched pickers at once, without reading the bound's 2,001 units
# again to find there are more (a city's: ~4 ms of each of its ledger pages at 1M, lead41).
_PLACES_OVER = OverTheBound()
SORT_CHOICES = [
    ("-received", _("信访时间（新→旧）")),
    ("received", _("信访时间（旧→新）")),
    ("number", _("编号（小→大）")),
    ("-number", _("编号（大→小）")),
    ("due", _("最近到期在前")),
]
OVERDUE_CHOICES = [("true", _("已超期")), ("false", _("未超期"))]
FLAG_LABELS = {
    "key_case": _("重点信访件"),
    "repeat": _("重复访"),
    "level_skipping": _("越级访"),
    "collective": _("集体访"),
    "household": _("脱贫户（监测对象）"),
    "confidential": _("要求保密"),
}


def _checked(value) -> bool:
    return value is True or str(value).lower() in TRUE


def _flag(label) -> forms.BooleanField:
    """A flag sent as ``name=true``, the API's spelling, so the export reads it the same way."""
    return forms.BooleanField(
        label=label,
        required=False,
        widget=forms.CheckboxInput(attrs={"value": "true"}, check_test=_checked),
    )


class QuickSelect(forms.Select):
    """A select written in Python: a county's few hundred villages through Django's per-option
    widget templates cost more than the ledger's rows, and even Django's option dictionaries
    (``optgroups``: attributes built and merged per option) a tenth of the page's CPU. Same
    markup as ``forms.Select``: the first option equal to the value is selected, each label
    and value escaped."""

    def render(self, name, value, attrs=None, renderer=None):
        # Each value and label escaped as ``format_html`` would write them (``present.esc``),
        # and joined as text: its argument handling per option was half of the ledger's select
        # rendering (nine selects, a county's ~230 units among them).
        choices = tuple(
            (value_, tuple((v, str(label)) for v, label in label_) if isinstance(
                label_, list | tuple) else str(label_))
            for value_, label_ in self.choices)
        chosen = tuple(self.format_value(value))
        # what a request sends is untrusted: a long value is not made part of a kept key
        write = _options if sum(map(len, chosen)) <= CHOSEN_TEXT_MOST else _options.__wrapped__
        return format_html('<select name="{}"{}>{}</select>', name,
                           flatatt(self.build_attrs(self.attrs, attrs)), write(choices, chosen))


CHOSEN_TEXT_MOST = 64


@lru_cache(maxsize=256)
def _options(choices: tuple, chosen: tuple[str, ...]) -> SafeString:
    """The ``<option>``s of ``choices`` (labels as text in the request's language) with the
    first equal to one of ``chosen`` selected: the same for every page of one office's filter
    bar, written once (a county's villages and units: about 1 ms of each ledger page, lead41)."""
    chosen = set(chosen)
    has_selected = False
    parts = []
    for option_value, option_label in choices:
        if option_value is None:
            option_value = ""
        grouped = isinstance(option_label, tuple)
        if grouped:
            parts.append(f'<optgroup label="{esc(option_value)}">')
        for sub_value, sub_label in option_label if grouped else [(option_value, option_label)]:
            selected = not has_selected and str(sub_value) in chosen
            has_selected |= selected
            parts.append(f'<option value="{esc(sub_value)}"'
                         f'{" selected" if selected else ""}>{esc(sub_label)}</option>')
        if grouped:
            parts.append("</optgroup>")
    return mark_safe("".join(parts))


# The first units inside a jurisdiction, by name: compiled once per jurisdiction and number
# (``db.fixed.TreeRead``).
_PLACES = TreeRead(Unit, lambda path, pk, most: Unit.objects.filter(
    path__under=path).exclude(pk=pk).order_by("name").values_list(
    "pk", "name", "level", "kind", "parent_id", "is_active")[:most])


def places_inside(jurisdiction: Unit) -> tuple | None:
    """The units inside ``jurisdiction`` as rows ``(pk, name, level, kind, parent_id,
    is_active)`` by name — switched-off ones too: a township merged away (乡镇撤并) is still
    the place of the cases filed under it, which the ledger finds by it — read in one
    statement (a county's ~230 units as model instances were a third of the filter form's
    CPU); None for a jurisdiction of more than ``PLACES_LISTED``, whose places are searched
    (``forms.pick``)."""
    known = (jurisdiction.path, PLACES_LISTED)
    if known in _PLACES_OVER:
        return None
    inside = tuple(_PLACES(jurisdiction.path, jurisdiction.pk, PLACES_LISTED + 1))
    if len(inside) > PLACES_LISTED:
        _PLACES_OVER.add(known)
        return None
    return inside


class LedgerFilterForm(PlainForm):
    search = forms.CharField(
        label=_("关键词"),
        required=False,
        max_length=100,
        help_text=_("在编号、信访事项和诉求中查找"),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    petitioner = forms.CharField(
        label=_("信访人姓名"),
        required=False,
        max_length=50,
        help_text=_("须输入完整姓名（姓名加密保存，不能按部分字查找）"),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    state = choice(_("状态"), c.State.choices, required=False, blank=ALL)
    kind = choice(_("类型"), c.Kind.choices, required=False, blank=ALL)
    channel = choice(_("信访形式"), c.Channel.choices, required=False, blank=ALL)
    category = choice(_("问题类别"), [], required=False, blank=ALL)
    township = choice(_("乡镇（街道）"), [], required=False, blank=ALL)
    village = choice(_("村（社区）"), [], required=False, blank=ALL)
    unit = choice(_("承办单位"), [], required=False, blank=ALL)
    received_from = date_field(_("信访时间自"), required=False)
    received_to = date_field(_("至"), required=False)
    overdue = choice(_("是否超期"), OVERDUE_CHOICES, required=False, blank=ALL)
    sort = choice(_("排序"), SORT_CHOICES, required=False, blank=None, initial=DEFAULT_SORT)
    key_case = _flag(FLAG_LABELS["key_case"])
    repeat = _flag(FLAG_LABELS["repeat"])
    level_skipping = _flag(FLAG_LABELS["level_skipping"])
    collective = _flag(FLAG_LABELS["collective"])
    household = _flag(FLAG_LABELS["household"])
    confidential = _flag(FLAG_LABELS["confidential"])

    FLAGS = tuple(FLAG_LABELS)
    MAIN = ("search", "state", "township", "village", "overdue", "sort")
    MORE = ("petitioner", "kind", "channel", "category", "unit", "received_from", "received_to")

    def __init__(self, data, *, jurisdiction: Unit | None, categories: list[str],
                 inside: tuple | None | bool = False):
        """``inside``: the jurisdiction's units as ``places_inside`` reads them (None: too many
        to list, searched instead); not given (False), read here, and none without a
        jurisdiction."""
        super().__init__(data, auto_id="f_%s")
        for field in self.fields.values():
            if type(field.widget) is forms.Select:
                field.widget = QuickSelect(attrs=field.widget.attrs, choices=field.choices)
        blank = ("", f"—{ALL}—")
        self.fields["category"].choices = Listed([blank, *((x, x) for x in categories)])
        if inside is False:  # not read by the caller
            if jurisdiction is None:
                return
            inside = places_inside(jurisdiction)
        if inside is None:
            # A city's or the province's: its 2,400 townships, 33,000 villages and 3,000
            # handling units as three selects were 0.2 s of a province ledger page's CPU.
            # Searched instead (forms.pick), the value still the unit's id in the query string.
            for name, source in PICKED_PLACES:
                label = self.fields[name].label
                self.fields[name] = Pick(source=source, label=label, required=False,
                                         queryset=SOURCES[source].rows(jurisdiction),
                                         empty_label=f"—{ALL}—")
            return
        # A unit switched off is offered as such (its old cases are still found by it).
        inside = [(pk, name if active else _("%(name)s（已停用）") % {"name": name}, *rest)
                  for pk, name, *rest, active in inside]
        places = [u for u in inside if u[2] in (Level.TOWNSHIP, Level.VILLAGE)]
        townships = {pk: name for pk, name, level, _kind, _parent in places
                     if level == Level.TOWNSHIP}
        self.fields["township"].choices = Listed([blank, *((str(k), n)
                                                       for k, n in townships.items())])
        groups: dict[str, list] = {}
        for pk, name, level, _kind, parent_id in places:
            if level == Level.VILLAGE and parent_id in townships:
                groups.setdefault(townships[parent_id], []).append((str(pk), name))
        self.fields["village"].choices = Listed([blank, *groups.items()])
        # the handling units by level, kind, then name (a stable sort keeps the read's order)
        handlers = sorted((u for u in inside if u[2] != Level.VILLAGE), key=lambda u: (u[2], u[3]))
        self.fields["unit"].choices = Listed([blank, *((str(pk), name)
                                                   for pk, name, *_ in handlers)])

    @property
    def more_open(self) -> bool:
        """Keep the extra filters unfolded while one of them is in use."""
        return any(self.data.get(name) for name in (*self.MORE, *self.FLAGS))


def filter_bar(params, *, jurisdiction: Unit | None, categories: list[str]) -> SafeString:
    """The ledger's filter bar (``partials/ledger_filters.html``) for the query ``params``.

    The bar is a function of the query's filters (and whether there is a query at all: a bound
    form shows no initial values), the language, the jurisdiction's units and its profile's
    categories, all part of the key it is kept under (``_kept_bar``): an office's clerks open
    the same bar page after page, and its thirteen fields, their county's ~230 places among
    them, were built and written on every request (a fifth of the ledger page's CPU). The
    units are read each time (one statement), so a renamed village or a new township makes
    another key, never a stale bar. Other parameters (the page) are not the bar's.

    Kept only as the ledger's statements are (``web.ledger.keeps``): the filters of
    ``KEPT_FILTERS``, never a petitioner's name or a searched text (which would stay in the
    worker's memory), and no more than ``KEPT_TEXT_MOST`` characters of the form's values in
    all (the order's included: what a request sends is untrusted). A city's bar (searched
    places), or one without a jurisdiction, is written each time."""
    filtered, bound = bool(active_filters(params)), bool(params)
    inside = places_inside(jurisdiction) if jurisdiction is not None else False
    fields = LedgerFilterForm.base_fields
    data = tuple(sorted((name, tuple(params.getlist(name))) for name in params
                        if name in fields))
    if (not isinstance(inside, tuple) or not keeps(params)
            or sum(len(v) for _name, values in data for v in values) > KEPT_TEXT_MOST):
        return _write_bar(params, jurisdiction, categories, filtered, bound, inside)
    return _kept_bar(get_language(), bound, data, inside, tuple(categories), filtered)


@lru_cache(maxsize=128)
def _kept_bar(language: str, bound: bool, data: tuple, inside: tuple, categories: tuple,
              filtered: bool) -> SafeString:
    """The bar of ``filter_bar``'s key (the language is the one the bar is written in)."""
    params = QueryDict(mutable=True)
    for name, values in data:
        params.setlist(name, list(values))
    return _write_bar(params, None, list(categories), filtered, bound, inside)


def _write_bar(params, jurisdiction, categories, filtered: bool, bound: bool, inside
               ) -> SafeString:
    form = LedgerFilterForm(params if bound else None, jurisdiction=jurisdiction,
                            categories=categories, inside=inside)
    if bound:
        form.is_valid()  # marks what cannot be read; the rows come from the raw parameters
    return mark_safe(render_to_string("web/partials/ledger_filters.html",
                                      {"form": form, "filtered": filtered}))
