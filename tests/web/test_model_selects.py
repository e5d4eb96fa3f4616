"""Every select of model rows reads its choices with one plain statement (``ModelChoice``):
Django's own ``ModelChoiceField`` reads them through ``QuerySet.iterator()``, a server-side cursor
on PostgreSQL that cost the case page 5–8 ms for a select of no rows at a million cases."""

import importlib
import pkgutil
from unittest import mock

import pytest
from django import forms
from django.db.models import QuerySet

import xinfang
from xinfang.org.models import Unit
from xinfang.oversight.forms import OrderForm
from xinfang.web.forms.common import ModelChoice, ReadOnce

# Modules that define no form and run something when imported.
NOT_IMPORTED = {"xinfang.wsgi", "xinfang.gunicorn_conf", "xinfang.settings"}


def all_forms() -> list[type[forms.BaseForm]]:
    for info in pkgutil.walk_packages(xinfang.__path__, "xinfang."):
        if info.name.startswith(tuple(NOT_IMPORTED)) or ".migrations" in info.name:
            continue
        importlib.import_module(info.name)
    found, todo = [], [forms.BaseForm]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("xinfang."):
                found.append(sub)
    return found


def test_every_model_select_of_the_product_reads_its_choices_plainly():
    product_forms = all_forms()
    assert len(product_forms) > 40  # the walk found the forms (the case page's alone are 30+)
    django_selects = [
        f"{form.__module__}.{form.__name__}.{name}"
        for form in product_forms
        for name, field in form.base_fields.items()
        if isinstance(field, forms.ModelChoiceField) and not issubclass(field.iterator, ReadOnce)
    ]
    assert not django_selects, "use xinfang.web.forms.common.ModelChoice: " + ", ".join(
        django_selects)


@pytest.mark.django_db
def test_a_select_renders_its_rows_without_a_server_side_cursor(jianan):
    # given a supervision order's select of the county's units
    units = Unit.objects.filter(path__startswith=jianan.county.path)
    form = OrderForm(units=units.order_by("path"))
    assert isinstance(form.fields["unit"], ModelChoice)
    # when it renders, QuerySet.iterator() (the server-side cursor) is never called
    with mock.patch.object(QuerySet, "iterator", side_effect=AssertionError("iterator()")):
        html = str(form["unit"])
    # and every unit is offered, after the empty choice
    assert html.count("<option") == units.count() + 1
    assert jianan.county.name in html
