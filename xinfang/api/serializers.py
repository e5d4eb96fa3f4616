"""What the API shows of a case, and what it takes to register one.

Petitioners' personal data is always masked here (姓名、电话、身份证号、住址); revealing it is a
separate, audited act that this API does not offer. Leader instructions (领导批示) are shown to the
petition office and inspectors only (seed 000 §九: not disclosed without approval).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import cache

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models.manager import BaseManager
from django.utils import timezone
from django.utils.translation import get_language
from rest_framework import ISO_8601, serializers
from rest_framework.fields import empty, get_attribute
from rest_framework.settings import api_settings

from xinfang.cases import choices as c
from xinfang.cases.disclosure import is_confidential, leader_instruction_for
from xinfang.cases.services import DemandInput, PetitionerInput, Registration, RespondentInput
from xinfang.db.fixed import ManyRead
from xinfang.org.models import Unit, User
from xinfang.security.masking import mask_address, mask_id_number, mask_name, mask_phone

from .membership import parse_id

# -- reading ---------------------------------------------------------------------------------------


class Lean(serializers.Serializer):
    """A serializer whose plain fields are copied for each instance, not built again.

    DRF gives every serializer instance a ``deepcopy`` of its declared fields, and a field's
    ``__deepcopy__`` calls its ``__init__`` again: a registration answered in full builds some
    130 fields that way (a tenth of its CPU). A declared field is a prototype that is never
    bound, so a shallow copy of a plain field is what a new one would be; ``bind`` then sets
    the name, the parent and the source on the copy alone. A field that holds another field
    (a nested or ``many`` serializer, a list or dict field's ``child``, which ``__init__``
    binds to its parent) is still deep-copied, so its parent chain and context stay its own.
    """

    def get_fields(self):
        return {name: copy.deepcopy(field) if _holds_fields(field) else _shallow(field)
                for name, field in self._declared_fields.items()}

    def to_representation(self, instance):
        """What DRF's loop writes, by the steps ``write`` compiles once for the class: a
        nested or listed serializer inside a ``.data`` is written the same way as a whole
        answer. A mapping (an answer built as a dict) goes through DRF's own loop."""
        if isinstance(instance, Mapping):
            return super().to_representation(instance)
        return _writer(type(self))(instance, _Answer(self.context))


def write(cls: type[Lean], instance, context: dict | None = None) -> dict:
    """What ``cls(instance, context=context).data`` holds, written by steps compiled once per
    serializer class (``_writer``) instead of fields built for every answer.

    DRF builds each answer's serializer anew: its fields copied from the declared ones and
    bound, its nested serializers' too, before a value is read — a case's full answer builds
    some 120 fields to write one case (a sixth of a transition's CPU, lead45). The declared
    fields are prototypes that are never bound, and writing a value needs no binding: each
    step reads the attribute as DRF would and converts it by the prototype's own
    ``to_representation``. A method field's method is called on an instance of its serializer
    that holds this answer's context, so ``self.context`` is what DRF would hand it.
    The answers are compared with DRF's in tests/api/test_lean_serializers.py."""
    if isinstance(instance, Mapping):
        return cls(instance, context=context or {}).data
    return _writer(cls)(instance, _Answer(context or {}))


def write_many(cls: type[Lean], instances: Iterable, context: dict | None = None) -> list[dict]:
    """``write`` of each of ``instances``, as one answer: the request's time zone and language
    are asked once for the list, not for each row (a page of fifty summaries asked the time
    zone a hundred times through its thread-local, 7 % of the API list's CPU at 1M cases)."""
    writer, answer = _writer(cls), _Answer(context or {})
    return [cls(instance, context=context or {}).data if isinstance(instance, Mapping)
            else writer(instance, answer) for instance in instances]


_UNASKED = object()


class _Answer:
    """One answer's context, the instances of each serializer whose methods it calls, and the
    request's time zone and language, asked once an answer."""

    __slots__ = ("context", "holders", "_zone", "_language")

    def __init__(self, context: dict):
        self.context, self.holders = context, {}
        self._zone = self._language = _UNASKED

    @property
    def zone(self):
        """What DRF's ``DateTimeField.default_timezone`` answers: None without ``USE_TZ``."""
        if self._zone is _UNASKED:
            self._zone = timezone.get_current_timezone() if settings.USE_TZ else None
        return self._zone

    @property
    def language(self) -> str | None:
        if self._language is _UNASKED:
            self._language = get_language()
        return self._language

    def holder(self, cls: type[Lean]) -> Lean:
        found = self.holders.get(cls)
        if found is None:
            # An unbound instance, as DRF's root serializer is: ``self.context`` reads
            # ``_context`` through ``root``.
            found = self.holders[cls] = object.__new__(cls)
            found.parent, found._context = None, self.context
        return found


@cache
def _writer(cls: type[Lean]):
    if cls.to_representation is not Lean.to_representation or cls.get_fields is not (
            Lean.get_fields):
        # what the class writes is its own code's: the steps would write something else
        raise TypeError(f"{cls.__name__} writes its own way: answer with its .data")
    steps = [(name, _step(cls, name, field)) for name, field in cls._declared_fields.items()
             if not field.write_only]

    def write_one(instance, answer: _Answer) -> dict:
        ret = {}
        for name, step in steps:
            value = step(instance, answer)
            if value is not _SKIP:
                ret[name] = value
        return ret
    return write_one


_SKIP = object()


def _step(cls: type[Lean], name: str, field: serializers.Field):
    """How field ``name`` of ``cls`` is written, as DRF's bound copy of ``field`` would."""
    if isinstance(field, serializers.SerializerMethodField):
        method = getattr(cls, field.method_name or f"get_{name}")
        return lambda instance, answer: method(answer.holder(cls), instance)
    source = field.source or name
    if source == "*" or "." in source or isinstance(
            field, serializers.RelatedField | serializers.ManyRelatedField):
        raise TypeError(f"{cls.__name__}.{name}: write() reads one attribute by name")
    if isinstance(field, serializers.ListSerializer):
        child = _writer(type(field.child))

        def convert(value, answer):
            rows = value.all() if isinstance(value, BaseManager) else value
            return [child(row, answer) for row in rows]
    elif isinstance(field, Lean):
        child = _writer(type(field))
        convert = child
    elif isinstance(field, serializers.BaseSerializer):
        raise TypeError(f"{cls.__name__}.{name}: a nested serializer must be Lean")
    elif _iso_datetime(field):
        convert = _datetime_writer(field.to_representation)
    elif type(field) is ChoiceLabel:  # its own label_of, with the answer's language
        choices = field.choices
        convert = lambda value, answer: c.label_of(choices, value, answer.language)  # noqa: E731
    else:
        plain = field.to_representation
        convert = lambda value, answer: plain(value)  # noqa: E731

    def step(instance, answer):
        try:
            value = getattr(instance, source)
        except ObjectDoesNotExist:  # a related row that is not there, as DRF reads it
            value = None
        except AttributeError:
            value = _absent(field)
            if value is _SKIP:
                return _SKIP
        if callable(value) and not isinstance(value, BaseManager):
            value = get_attribute(instance, [source])  # a method DRF would call
        return None if value is None else convert(value, answer)
    return step


def _iso_datetime(field: serializers.Field) -> bool:
    """A plain ``DateTimeField`` that writes ISO 8601 in the request's time zone: no format and
    no time zone of its own."""
    return (type(field) is serializers.DateTimeField and not hasattr(field, "timezone")
            and str(getattr(field, "format", api_settings.DATETIME_FORMAT)).lower() == ISO_8601)


def _datetime_writer(plain):
    """What DRF's ``DateTimeField.to_representation`` writes of an aware instant, with the
    answer's time zone (``_Answer.zone``) rather than one asked per value; anything else (a
    naive or a text value, no ``USE_TZ``, an instant the zone cannot hold) is DRF's own."""
    def convert(value, answer):
        zone = answer.zone
        if zone is None or not isinstance(value, datetime) or value.utcoffset() is None:
            return plain(value)
        try:
            text = value.astimezone(zone).isoformat()
        except OverflowError:
            return plain(value)
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    return convert


def _absent(field: serializers.Field):
    """What DRF's ``Field.get_attribute`` answers for an attribute the instance lacks."""
    if field.default is not empty:
        return field.default() if callable(field.default) else field.default
    if field.allow_null:
        return None
    if not field.required:
        return _SKIP
    raise AttributeError(f"no attribute for field {field.field_name or ''!r}")


def _holds_fields(field) -> bool:
    return (isinstance(field, serializers.BaseSerializer) or hasattr(field, "child")
            or hasattr(field, "child_relation"))


def _shallow(field):
    """``copy.copy(field)`` without the pickling protocol's steps (``__reduce_ex__``)."""
    new = object.__new__(type(field))
    new.__dict__.update(field.__dict__)
    return new


class UnitRef(Lean):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PetitionerOut(Lean):
    name = serializers.SerializerMethodField()
    role = serializers.CharField()
    gender = serializers.SerializerMethodField()
    id_number = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()
    address = serializers.SerializerMethodField()
    exited_household = serializers.SerializerMethodField()
    monitored_household = serializers.SerializerMethodField()
    confidential = serializers.SerializerMethodField(
        help_text="信访人要求保密：承办单位在任何信访件中都不能查看其身份信息")

    # The instance is a CasePetitioner link; the person is behind it.
    def get_confidential(self, link) -> bool:
        return is_confidential(link.petitioner, link)

    def get_name(self, link) -> str:
        return mask_name(link.petitioner.name)

    def get_gender(self, link) -> str:
        return link.petitioner.gender

    def get_id_number(self, link) -> str:
        return mask_id_number(link.petitioner.id_number)

    def get_phone(self, link) -> str:
        return mask_phone(link.petitioner.phone)

    def get_address(self, link) -> str:
        return mask_address(link.petitioner.address)

    def get_exited_household(self, link) -> bool:
        return link.petitioner.exited_household

    def get_monitored_household(self, link) -> bool:
        return link.petitioner.monitored_household


class DemandOut(Lean):
    seq = serializers.IntegerField()
    text = serializers.CharField()
    category = serializers.CharField()
    finding = serializers.CharField()
    resolution_class = serializers.CharField()
    finding_note = serializers.CharField()


class ClockOut(Lean):
    name = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.CharField()
    amount = serializers.IntegerField()
    unit = serializers.CharField()
    started_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    provisional = serializers.BooleanField()
    explanation = serializers.ListField(child=serializers.CharField())
    status = serializers.CharField()
    stopped_at = serializers.DateTimeField(allow_null=True)
    met = serializers.BooleanField(allow_null=True)
    overdue = serializers.SerializerMethodField()

    def get_overdue(self, clock) -> bool:
        return (clock.kind == "deadline" and clock.status == "running"
                and clock.due_at < self.context.get("now", timezone.now()))


class AssignmentOut(Lean):
    unit = UnitRef()
    role = serializers.CharField()
    status = serializers.CharField()
    assigned_at = serializers.DateTimeField()
    receiver_name = serializers.CharField()
    responsible_person = serializers.CharField()
    signed_for_at = serializers.DateTimeField(allow_null=True)


class RespondentOut(Lean):
    name = serializers.CharField()
    position = serializers.CharField()
    unit = UnitRef(allow_null=True)


class EventOut(Lean):
    seq = serializers.IntegerField()
    at = serializers.DateTimeField()
    type = serializers.CharField()
    actor = serializers.SerializerMethodField()
    actor_role = serializers.CharField()
    actor_unit = UnitRef(allow_null=True)
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    payload = serializers.JSONField()

    def get_actor(self, event) -> str:
        return str(event.actor) if event.actor_id else ""


class ChoiceLabel(serializers.CharField):
    """The label of a choice field's value (``get_FOO_display``'s text, read from the choices
    once rather than by hashing every label per row)."""

    def __init__(self, choices, **kwargs):
        self.choices = choices
        super().__init__(**kwargs)

    def to_representation(self, value) -> str:
        return c.label_of(self.choices, value)


class CaseSummary(Lean):
    id = serializers.IntegerField()
    number = serializers.CharField()
    version = serializers.IntegerField()
    state = serializers.CharField()
    state_label = ChoiceLabel(c.State, source="state")
    kind = serializers.CharField()
    channel = serializers.CharField()
    matter = serializers.CharField()
    petitioner = serializers.SerializerMethodField(help_text="信访人姓名（脱敏）")
    township = UnitRef(allow_null=True)
    received_at = serializers.DateTimeField()
    registered_at = serializers.DateTimeField()
    confidential = serializers.BooleanField()
    overdue = serializers.BooleanField(default=False)

    def get_petitioner(self, case) -> str:
        names = case.__dict__.get("main_names")  # a list's rows: read as plain values
        if names is None:
            names = [link.petitioner.name for link in case.petitioner_links.all()
                     if link.role in c.PETITIONING_ROLES]
        return "、".join(mask_name(name) for name in names)


class CaseDetail(CaseSummary):
    matter_type = serializers.CharField()
    headcount = serializers.IntegerField()
    village = UnitRef(allow_null=True)
    jurisdiction = UnitRef()
    source_level = serializers.CharField()
    source_office = serializers.CharField()
    source_reference = serializers.CharField()
    leader_instruction = serializers.SerializerMethodField()
    key_case = serializers.BooleanField()
    repeat_count = serializers.IntegerField()
    level_skipping = serializers.BooleanField()
    collective = serializers.BooleanField()
    reply_mode_required = serializers.CharField()
    proposal = serializers.CharField()
    rating = serializers.CharField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    petitioners = PetitionerOut(source="petitioner_links", many=True)
    demands = DemandOut(many=True)
    respondents = RespondentOut(many=True)
    clocks = ClockOut(many=True)
    assignments = AssignmentOut(many=True)
    history = EventOut(source="events", many=True)

    def get_leader_instruction(self, case) -> str:
        # Only the roles the profile names read it (seed 000 §九); others learn there is one.
        return leader_instruction_for(case, self.context["membership"])


# The detail's relations (``cases.related.read_related``): one statement each, their own foreign
# keys joined in. The township and the village are set after the case's read
# (``selectors.with_places``): joined, they tripled its planning time.
DETAIL_RELATIONS = ("petitioner_links", "demands", "respondents", "clocks", "assignments",
                    "events")


class ActionOut(Lean):
    name = serializers.CharField()
    label = serializers.CharField()
    step = serializers.CharField()


# -- registering -----------------------------------------------------------------------------------


def _text(max_length: int, **kw):
    return serializers.CharField(max_length=max_length, allow_blank=True, default="", **kw)


class PetitionerIn(Lean):
    name = serializers.CharField(max_length=50)  # the service refuses a blank name too
    role = serializers.ChoiceField(c.PetitionerRole.choices, default=c.PetitionerRole.MAIN)
    gender = serializers.ChoiceField(c.Gender.choices, default="", allow_blank=True)
    birth_year = serializers.IntegerField(min_value=1900, max_value=2100, required=False,
                                          allow_null=True, default=None)
    id_number = _text(30)
    phone = _text(30)
    address = _text(200)
    exited_household = serializers.BooleanField(default=False)
    monitored_household = serializers.BooleanField(default=False)
    confidential = serializers.BooleanField(
        default=False, help_text="此人要求保密（登记的 confidential 对所有信访人适用）")


class DemandIn(Lean):
    text = serializers.CharField(max_length=5000)
    category = serializers.CharField(max_length=40)


class RespondentIn(Lean):
    name = serializers.CharField(max_length=100)
    position = _text(100)
    unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all(), required=False,
                                              allow_null=True, default=None)
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False,
                                              allow_null=True, default=None)


_PLACE_NAMES = {"township": "乡镇（街道）", "village": "村（社区）"}


class _PlaceField(serializers.PrimaryKeyRelatedField):
    """A unit by id, taken from the units its form read together (``RegistrationIn``): the
    township and the village are one statement, not one each. An id the form did not find is
    left to the field's own read, and its own error."""

    def to_internal_value(self, data):
        found = getattr(self.parent, "_places", {}).get(_place_id(data))
        unit = found if found is not None else super().to_internal_value(data)
        if not unit.is_active:
            # Merged away or switched off (乡镇撤并): the registration form no longer offers it,
            # and a new case is not filed under it. The ledger's import of past cases may be.
            raise serializers.ValidationError(
                f"“{unit.name}”已停用，请选择现行的{_PLACE_NAMES[self.field_name]}")
        return unit


# The township and the village a registration names, by id, in a statement compiled once
# (``db.fixed.ManyRead``): the ORM's ``in_bulk`` built and compiled it again for each
# registration (1.4 ms under the profiler at 1M cases, lead45). By id: the unit tree's order
# (Meta.ordering) would only be sorted.
_PLACES = ManyRead(lambda ids: Unit.objects.order_by().filter(pk__in=ids))


def _place_id(value) -> int | None:
    return parse_id(str(value)) if isinstance(value, int | str) else None


class RegistrationIn(Lean):
    channel = serializers.ChoiceField(c.Channel.choices)
    kind = serializers.ChoiceField(c.Kind.choices, default=c.Kind.PETITION)
    matter_type = serializers.ChoiceField(c.MatterType.choices, default=c.MatterType.REQUEST)
    matter = serializers.CharField(max_length=20000)  # as strict as case_register: not blank
    received_at = serializers.DateTimeField(help_text="信访时间：不能晚于当前时间")
    headcount = serializers.IntegerField(min_value=1, max_value=100000, default=1)
    petitioners = PetitionerIn(many=True, allow_empty=True)
    demands = DemandIn(many=True, allow_empty=False)
    township = _PlaceField(queryset=Unit.objects.all(), required=False, allow_null=True,
                           default=None)
    village = _PlaceField(queryset=Unit.objects.all(), required=False, allow_null=True,
                          default=None)
    source_level = serializers.ChoiceField(c.SourceLevel.choices, default=c.SourceLevel.NONE)
    source_office = _text(100)
    source_reference = _text(100)
    leader_instruction = _text(5000)
    leader_instruction_level = serializers.ChoiceField(
        [(v, label) for v, label in c.SourceLevel.choices if v != c.SourceLevel.NONE],
        default="", allow_blank=True)
    key_case = serializers.BooleanField(default=False)
    level_skipping = serializers.BooleanField(default=False)
    extreme_behaviour = serializers.BooleanField(default=False)
    confidential = serializers.BooleanField(default=False)
    concerns_misconduct = serializers.BooleanField(default=False)
    concerns_policy = serializers.BooleanField(default=False)
    concerns_execution = serializers.BooleanField(default=False)
    respondents = RespondentIn(many=True, required=False, default=list)

    def to_internal_value(self, data):
        given = [data.get(name) for name in ("township", "village")] if hasattr(data, "get") else []
        ids = {_place_id(value) for value in given} - {None}
        self._places = {unit.pk: unit for unit in _PLACES(ids)}
        return super().to_internal_value(data)

    def registration(self) -> Registration:
        data = dict(self.validated_data)
        data["petitioners"] = [PetitionerInput(**p) for p in data["petitioners"]]
        data["demands"] = [DemandInput(**d) for d in data["demands"]]
        data["respondents"] = [
            RespondentInput(name=r["name"], position=r["position"], unit=r["unit"],
                            user_id=r["user"].pk if r["user"] else None)
            for r in data["respondents"]
        ]
        return Registration(**data)


class RoutedOut(Lean):
    """Registered, but against the registering office: where the case went (the creator can no
    longer read it)."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    routed = serializers.BooleanField()
    route = serializers.ChoiceField(["upper_office", "discipline"])
    routed_to = UnitRef()
    jurisdiction = UnitRef()
    seed = serializers.CharField()
    detail = serializers.CharField()

    @staticmethod
    def of(case) -> dict:
        routed = case.routed
        return RoutedOut({
            "id": case.pk, "number": case.number, "routed": True, "route": routed.route,
            "routed_to": routed.unit, "jurisdiction": routed.jurisdiction,
            "seed": routed.rule.seed, "detail": routed.message(case.number),
        }).data


class MinimalOut(Lean):
    """With ``Prefer: return=minimal``: what the writer needs to go on."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    state = serializers.CharField()
    version = serializers.IntegerField()


class GoneOut(Lean):
    """The transition took the case out of this membership's sight."""

    id = serializers.IntegerField()


def flat_errors(detail, prefix: str = "") -> dict[str, str]:
    """DRF's nested error lists as ``{"petitioners[0].name": "…"}`` — the shape the services'
    ``Invalid.errors`` has, so a client handles one shape."""
    out: dict[str, str] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
                name = f"{prefix}[{key}]"  # a list's item (DRF keys some list errors by index)
            elif key == "non_field_errors":
                name = prefix
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            out.update(flat_errors(value, name))
    elif isinstance(detail, list) and detail and all(isinstance(v, str) for v in detail):
        out[prefix or "non_field_errors"] = "；".join(str(v) for v in detail)
    elif isinstance(detail, list):
        for i, value in enumerate(detail):
            if value:
                out.update(flat_errors(value, f"{prefix}[{i}]"))
    else:
        out[prefix or "non_field_errors"] = str(detail)
    return out
