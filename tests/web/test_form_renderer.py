"""The form renderer writes the plain widgets in Python (``xinfang.web.forms.renderer``): the
markup must be what Django's widget templates write, for every field of every form of the
product and for the values and attributes that bend the templates' rules."""

import re
from datetime import date, datetime

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.test import override_settings
from django.urls import reverse
from django.utils.safestring import mark_safe

from tests.conftest import register_in
from xinfang.web.forms.renderer import QuickRenderer

from .conftest import signed_in
from .test_model_selects import all_forms

pytestmark = pytest.mark.django_db

QUICK, DJANGO = QuickRenderer(), DjangoTemplates()
VALUES = [None, "", "普通文字", 'a<b>"c"&\'d', mark_safe("<i>已安全</i>"), 0, 7, 3.5, True,
          False, date(2026, 12, 3), datetime(2026, 12, 3, 9, 30), ["a", "b"], ("x", 1)]
ATTRS = [None, {"required": True, "disabled": False, "maxlength": 5, "data-x": '<"&>',
                "placeholder": mark_safe("<b>")}, {"rows": 3, "class": "wide"}]


def both(widget: forms.Widget, name: str, value, attrs) -> tuple[str, str]:
    return (widget.render(name, value, attrs, renderer=QUICK),
            widget.render(name, value, attrs, renderer=DJANGO))


def test_every_field_of_every_form_renders_as_djangos_templates_do(jianan):
    checked = 0
    for form in all_forms():
        for name, field in form.base_fields.items():
            for value in (None, "", 'x<"&', field.initial):
                quick, django = both(field.widget, name, value, {"id": f"f_{name}"})
                assert quick == django, (form, name, value, quick, django)
                checked += 1
    assert checked > 400


@pytest.mark.parametrize("widget", [
    forms.TextInput(), forms.NumberInput(), forms.EmailInput(), forms.URLInput(),
    forms.PasswordInput(render_value=True), forms.HiddenInput(), forms.DateInput(),
    forms.DateTimeInput(attrs={"type": "datetime-local"}), forms.TimeInput(),
    forms.CheckboxInput(), forms.CheckboxInput(attrs={"value": "true"}), forms.Textarea(),
    forms.FileInput(), forms.FileInput(attrs={"accept": ".xlsx,.csv"}),
    forms.Select(choices=[("", "—请选择—"), ("a", "甲<"), (1, "一"), (None, "空")]),
    forms.Select(choices=[("组一", [("a", "甲"), ("b", "乙")]), ("c", "丙"),
                          ("组<二>", [(2, mark_safe("<em>二</em>"))])]),
    forms.SelectMultiple(choices=[("a", "甲"), ("b", "乙")]),
    forms.RadioSelect(choices=[("a", "甲"), ("b", "乙")]),
    forms.RadioSelect(choices=[("组一", [("a", "甲<")]), ("b", mark_safe("<em>乙</em>"))]),
    forms.CheckboxSelectMultiple(choices=[("a", "甲"), (1, "一&"), ("b", "乙")]),
    forms.CheckboxSelectMultiple(choices=[("组<一>", [("a", "甲"), ("b", "乙")]), ("c", "丙")]),
    forms.CheckboxSelectMultiple(choices=[]),
])
def test_the_plain_widgets_render_as_djangos_templates_do(widget):
    for value in VALUES:
        for attrs in ATTRS:
            quick, django = both(widget, "f", value, attrs)
            assert quick == django, (widget, value, attrs, quick, django)


@pytest.mark.parametrize("stage", ["registered", "assigned"])
def test_the_case_page_is_the_same_page_with_djangos_renderer(jianan, stage):
    # given a case the clerk proposes on (a page of action forms: selects, texts, dates), or
    # one a unit handles (the reassign form: a checkbox for every assisting unit)
    from tests.cases.test_engine_edges import assigned_case

    case = register_in(jianan) if stage == "registered" else assigned_case(jianan)
    client = signed_in(jianan.member("clerk"))
    url = reverse("web:case", args=[case.pk])
    # (the page writes minutes — its clocks, the date inputs' bounds — so both reads must
    # fall in the same minute: read again if a minute turned between them)
    for _attempt in range(3):
        minute = _minute()
        pages = []
        for renderer in ("xinfang.web.forms.renderer.QuickRenderer",
                         "django.forms.renderers.DjangoTemplates"):
            with override_settings(FORM_RENDERER=renderer):
                html = client.get(url).content.decode()
            main = html.split("<main", 1)[1].split("</main>", 1)[0]
            pages.append(re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", main))
        if _minute() == minute:
            break
    assert pages[0].count("<select") >= 1 and pages[0].count("<textarea") >= 1
    if stage == "assigned":
        assert "action-reassign" in pages[0]
        assert pages[0].count('type="checkbox" name="reassign-assisting"') >= 5
    assert pages[0] == pages[1]


def _minute():
    from django.utils import timezone

    return timezone.now().replace(second=0, microsecond=0)
