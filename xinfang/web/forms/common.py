"""Field builders shared by the web forms: HTML date and datetime inputs, Chinese labels, no
label suffix."""

from __future__ import annotations

from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils.choices import BaseChoiceIterator
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from xinfang.api.membership import parse_id
from xinfang.org.models import Unit

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class ReadOnce(ModelChoiceIterator):
    """A select's choices read with one plain statement. Django's own iterator reads them with
    ``QuerySet.iterator()``, which on PostgreSQL opens a server-side cursor (``DECLARE … WITH
    HOLD``, ``FETCH``, ``CLOSE``): 5.6 ms for the case page's discipline-office select at 1M
    cases, where the same rows read plainly take 1 ms. The page holds every option of a select
    anyway, so fetching its rows in chunks saves no memory worth a cursor."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        # the rows the form read already and kept as the queryset's (a form that sets itself
        # up from them: ``TransferToDisciplineForm``), else one statement
        rows = self.queryset if self.queryset._result_cache is not None else self.queryset.all()
        for obj in rows:
            yield self.choice(obj)


class Listed(BaseChoiceIterator):
    """Choices built by our code as ``(value, label)`` pairs and ``(group, pairs)`` already:
    Django takes them as they are. A list set as a field's choices is normalised again pair by
    pair, for the field and once more for its widget: for a county's 230 units in the ledger's
    three place filters, a third of building its filter bar (lead41)."""

    def __init__(self, pairs: list):
        self.pairs = pairs

    def __iter__(self):
        return iter(self.pairs)


class ModelChoice(forms.ModelChoiceField):
    """``forms.ModelChoiceField`` whose choices are read plainly (``ReadOnce``): every model
    select of the product is one of these (tested)."""

    iterator = ReadOnce

    def to_python(self, value):
        try:
            return super().to_python(value)
        except forms.ValidationError as e:
            # A page read before its unit was switched off (a township merged away) and sent
            # after: say so, not "not one of the available choices".
            if e.code != "invalid_choice" or self.queryset.model is not Unit:
                raise
            off = Unit.objects.filter(pk=parse_id(str(value)) or 0, is_active=False).first()
            if off is None:
                raise
            raise forms.ValidationError(
                _("“%(unit)s”已停用，请重新选择。") % {"unit": off.name}, code="invalid_choice"
            ) from e


class PlainForm(forms.Form):
    """A form whose labels carry no trailing colon (Chinese labels read better without one)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            # Django's "---------" for an unchosen select reads as a glitch on a Chinese page.
            if getattr(field, "empty_label", None) == "---------":
                field.empty_label = _("—请选择—")
            if isinstance(field, forms.ChoiceField) and not isinstance(
                field, forms.ModelChoiceField
            ):
                choices = list(field.choices)
                if any(label == "---------" for _value, label in choices):
                    field.choices = [
                        (value, _("—请选择—") if label == "---------" else label)
                        for value, label in choices
                    ]


def text(
    label,
    *,
    required: bool = True,
    rows: int | None = None,
    max_length: int | None = None,
    help_text: str = "",
    initial=None,
) -> forms.CharField:
    widget = forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput()
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        widget=widget,
        help_text=help_text,
        initial=initial,
    )


def datetime_field(label, *, required: bool = True, help_text: str = "") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        help_text=help_text,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )


def date_field(label, *, required: bool = True, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        help_text=help_text,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


PLEASE_CHOOSE = _("请选择")


def choice(
    label,
    choices,
    *,
    required: bool = True,
    blank=PLEASE_CHOOSE,
    initial=None,
    radio: bool = False,
) -> forms.ChoiceField:
    options = list(choices)
    if blank is not None and not radio:
        options = [("", format_lazy("—{}—", blank)), *[(v, lbl) for v, lbl in options if v != ""]]
    widget = forms.RadioSelect if radio else forms.Select
    return forms.ChoiceField(
        label=label, choices=options, required=required, initial=initial, widget=widget
    )


def flag(label, *, initial: bool = False, help_text: str = "") -> forms.BooleanField:
    return forms.BooleanField(label=label, required=False, initial=initial, help_text=help_text)
