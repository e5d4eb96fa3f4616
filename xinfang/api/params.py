"""The body of ``POST /api/cases/{id}/transitions/{name}/``: the keyword arguments of the
transition's effect function (``xinfang/cases/services/effects.py``) plus ``expected_version``.

One serializer per transition is built from the effect's signature, so a new transition or a new
argument reaches the API without a second list to keep in step. How a Python type travels as JSON:

- ``str`` → string; ``bool`` → boolean; ``datetime`` → ISO 8601 (a time without an offset is read
  as Asia/Shanghai); ``date`` → ``YYYY-MM-DD``;
- ``Unit`` → a unit id; ``list[Unit]`` → a list of unit ids;
- ``Case`` (``merge``'s ``into``) → the id of a case the acting membership can see;
- ``leader`` (``set_leader_owner``) → the id of a user holding an active role inside the case's
  jurisdiction;
- ``findings`` → ``{"1": ["partly", "solved", "note"]}`` or ``{"1": {"finding": …,
  "resolution_class": …, "note": …}}``, keyed by the demand's number.

Two arguments are not taken from the body. ``open_review``'s ``clerk`` is always the acting
membership (a caller cannot register a review in someone else's name). ``at`` is never passed:
``perform`` has an ``at`` of its own — the instant the transition is recorded at — which would
swallow it and backdate the case history. What happened earlier on paper is told by the effect's
own time argument instead (``contacted_at``, ``delivered_at``, ``signed_for_at``: REPORTED_TIMES),
bounded by the effect and audited by the view.
"""

from __future__ import annotations

import inspect
import types
import typing
from datetime import date, datetime
from functools import cache

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from xinfang.cases import choices as c
from xinfang.cases.models import Case
from xinfang.cases.selectors import cases_for
from xinfang.cases.services import effects
from xinfang.cases.workflow import TRANSITIONS
from xinfang.org.choices import ADMIN_ROLES
from xinfang.org.models import Membership, Unit, User

# Arguments stored in a bounded column; the rest are free text.
MAX_LENGTH = {"receiver_name": 50, "responsible_person": 50, "deliverer": 50, "recipient": 50,
              "witness": 50, "rule": 60, "offices": 500}
FREE_TEXT = 20000
CHOICES = {
    ("log_contact", "kind"): c.ContactKind.choices,
    ("submit_report", "kind"): c.ReportKind.choices,
    ("deliver_acceptance_notice", "mode"): c.DeliveryMode.choices,
    ("record_delivery", "mode"): c.DeliveryMode.choices,
    ("record_rating", "rating"): c.Rating.choices,
}
NOT_FROM_BODY = {"clerk", "at"}
# A list left out of the body that means "as now", not "none" (``reassign``'s assisting units:
# left out, those assisting now stay).
AS_NOW_WHEN_OMITTED = {("reassign", "assisting")}
# The body fields that report when something happened on paper (bounded by the effect).
REPORTED_TIMES = {"contacted_at", "delivered_at", "signed_for_at"}


@extend_schema_field(OpenApiTypes.INT)
class VisibleCaseField(serializers.PrimaryKeyRelatedField):
    """A case id, looked up only among the cases the acting membership may see."""

    def get_queryset(self):
        return cases_for(self.context["membership"])


class UnitField(serializers.PrimaryKeyRelatedField):
    """A unit id. One switched off (merged, renamed away) is named as such: "does not exist"
    would send the caller looking for a typo."""

    def __init__(self, **kw):
        super().__init__(queryset=Unit.objects.all(), **kw)

    def to_internal_value(self, data):
        unit = super().to_internal_value(data)
        if not unit.is_active:
            raise serializers.ValidationError(f"“{unit.name}”已停用，不能选择。")
        return unit


@extend_schema_field(OpenApiTypes.INT)
class LeaderField(serializers.PrimaryKeyRelatedField):
    """A user with an active, non-administrator role inside the case's jurisdiction."""

    def get_queryset(self):
        case = self.context["case"]
        holders = Membership.objects.filter(
            is_active=True, unit__path__under=case.jurisdiction.path
        ).exclude(role__in=ADMIN_ROLES).values("user")
        return User.objects.filter(is_active=True, pk__in=holders)


@extend_schema_field({
    "type": "object", "description": "诉求序号 → [核查结论, 三到位一处理, 核查情况]",
    "additionalProperties": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                             "maxItems": 3},
    "example": {"1": ["partly", "solved", "补助已发放"]},
})
class FindingsField(serializers.Field):
    default_error_messages = {
        "invalid": "须为以诉求序号为键的对象，值为[核查结论, 三到位一处理, 核查情况]。",
    }

    def to_internal_value(self, data) -> dict[int, tuple[str, str, str]]:
        if not isinstance(data, dict) or not data:
            self.fail("invalid")
        out = {}
        for key, value in data.items():
            if not (isinstance(key, str) and key.isascii() and key.isdigit() and len(key) < 5):
                self.fail("invalid")
            if isinstance(value, dict):
                value = [value.get("finding", ""), value.get("resolution_class", ""),
                         value.get("note", "")]
            if not isinstance(value, list | tuple) or not 1 <= len(value) <= 3 or not all(
                    isinstance(v, str) and len(v) <= FREE_TEXT and "\x00" not in v
                    for v in value):
                self.fail("invalid")
            finding, resolution, note = (*value, "", "")[:3]
            out[int(key)] = (finding, resolution, note)
        return out

    def to_representation(self, value):
        return {str(k): list(v) for k, v in value.items()}


def _unwrap(hint) -> tuple[object, bool]:
    """``X | None`` → (X, True)."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return hint, False


def _field(transition: str, name: str, hint, default) -> serializers.Field:
    required = default is inspect.Parameter.empty
    hint, nullable = _unwrap(hint)
    kw: dict = {"required": required}
    if not required:
        kw["default"] = default
    if nullable:
        kw["allow_null"] = True
    if (transition, name) in CHOICES:
        return serializers.ChoiceField(CHOICES[transition, name], **kw)
    if name == "leader":
        return LeaderField(**kw)
    if name == "findings":
        return FindingsField(**kw)
    if hint is str:
        # A required text is required non-blank, as the effects' ``_required`` checks.
        return serializers.CharField(max_length=MAX_LENGTH.get(name, FREE_TEXT),
                                     allow_blank=not required, trim_whitespace=False, **kw)
    if hint is bool:
        return serializers.BooleanField(**kw)
    if hint is datetime:
        return serializers.DateTimeField(**kw)
    if hint is date:
        return serializers.DateField(**kw)
    if hint is Unit:
        return UnitField(**kw)
    if hint is Case:
        return VisibleCaseField(**kw)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is list and args == (Unit,):
        kw.pop("allow_null", None)  # would let a null inside the list through to the service
        kw["default"] = None if (transition, name) in AS_NOW_WHEN_OMITTED else list
        return UnitField(many=True, **kw)
    if origin is list and args == (str,):
        return serializers.ListField(child=serializers.CharField(max_length=200),
                                     max_length=50, **kw)
    raise TypeError(f"{transition}({name}: {hint}): no API type for this argument")


class TransitionParams(serializers.Serializer):
    expected_version = serializers.IntegerField(
        min_value=1, help_text="The case version the client read; a newer one answers 409.")

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({k: "未知参数" for k in unknown})
        return super().to_internal_value(data)


@cache
def params_serializer(name: str) -> type[TransitionParams]:
    """The body serializer of one transition (``KeyError`` for an unknown name)."""
    TRANSITIONS[name]  # noqa: B018 — unknown names fail here, not in getattr below
    fn = getattr(effects, name)
    hints = typing.get_type_hints(fn)
    fields = {
        p.name: _field(name, p.name, hints.get(p.name), p.default)
        for p in list(inspect.signature(fn).parameters.values())[1:]
        if p.name not in NOT_FROM_BODY
    }
    class_name = "".join(part.title() for part in name.split("_")) + "Params"
    return type(class_name, (TransitionParams,), fields)


def effect_kwargs(name: str, validated: dict, *, membership: Membership) -> dict:
    """The keyword arguments ``perform`` passes on to the effect."""
    kwargs = {k: v for k, v in validated.items() if k != "expected_version"}
    if "clerk" in inspect.signature(getattr(effects, name)).parameters:
        kwargs["clerk"] = membership
    return kwargs
