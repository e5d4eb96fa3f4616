"""The case API's serializers copy their plain fields instead of building them again
(``serializers.Lean``). A copy must behave as DRF's rebuilt field does: the same errors and the
same answers, each instance's fields bound to that instance alone, the declared prototypes never
bound, and a nested serializer's context its own root's."""

import json

import pytest
from django.utils import timezone
from rest_framework import serializers as drf

from tests.api.world import client_as, walk
from xinfang.api import serializers as s
from xinfang.cases.services import RespondentInput

LEAN = [cls for cls in vars(s).values()
        if isinstance(cls, type) and issubclass(cls, s.Lean) and cls is not s.Lean]

GOOD = {
    "channel": "visit", "matter": "反映危房改造补助未到位",
    "received_at": "2026-11-30T09:00:00+08:00",
    "petitioners": [{"name": "张三明", "phone": "13812345678", "birth_year": 1980}],
    "demands": [{"text": "要求落实危房改造补助", "category": "危房改造"}],
}
BAD = [
    {},
    {**GOOD, "channel": "pigeon", "headcount": 0, "matter": ""},
    {**GOOD, "petitioners": [{"name": "", "birth_year": 1800, "gender": "x", "role": "boss"}]},
    {**GOOD, "demands": [], "received_at": "yesterday", "key_case": "perhaps"},
    {**GOOD, "demands": [{"text": "x" * 5001, "category": "y" * 41}], "phone": "\x00"},
    {**GOOD, "petitioners": [{"name": "a\x00b", "id_number": "1" * 31}], "source_level": 9},
    {**GOOD, "respondents": [{"name": ""}, {"name": "李四", "position": "p" * 101}]},
]


@pytest.fixture
def rebuilt(monkeypatch):
    """Switch the case serializers back to DRF's own deep copies and its own reading of each
    field, for a comparison."""
    def switch():
        monkeypatch.setattr(s.Lean, "get_fields", drf.Serializer.get_fields)
        monkeypatch.setattr(s.Lean, "to_representation", drf.Serializer.to_representation)
    return switch


def test_the_module_serializers_are_lean():
    assert {cls.__name__ for cls in LEAN} >= {"CaseSummary", "CaseDetail", "RegistrationIn",
                                              "PetitionerIn", "PetitionerOut", "EventOut"}


@pytest.mark.parametrize("data", [GOOD, *BAD])
def test_registration_input_validates_as_drf_does(data, rebuilt):
    lean = s.RegistrationIn(data=data)
    lean_valid = lean.is_valid()
    lean_out = lean.validated_data if lean_valid else lean.errors
    rebuilt()
    drf_ser = s.RegistrationIn(data=data)
    assert drf_ser.is_valid() == lean_valid
    assert (drf_ser.validated_data if lean_valid else drf_ser.errors) == lean_out


def test_every_field_copy_holds_what_a_rebuilt_field_holds(rebuilt):
    lean = {cls: cls().fields for cls in LEAN}
    rebuilt()
    for cls in LEAN:
        fields, others = lean[cls], cls().fields
        assert list(fields) == list(others), cls
        for name, field in fields.items():
            other = others[name]
            assert type(field) is type(other), (cls, name)
            assert sorted(vars(field)) == sorted(vars(other)), (cls, name)
            for attr in ("required", "read_only", "allow_null", "default", "source",
                         "source_attrs", "field_name", "label", "help_text", "error_messages"):
                assert getattr(field, attr, None) == getattr(other, attr, None), (cls, name, attr)
            assert [type(v) for v in field.validators] == [type(v) for v in other.validators]


def test_each_instance_binds_its_own_fields_and_the_prototypes_stay_unbound():
    first, second = s.CaseDetail(context={"who": 1}), s.CaseDetail(context={"who": 2})
    for name in first.fields:
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first and second.fields[name].parent is second
    for name, field in s.CaseDetail._declared_fields.items():
        assert field.parent is None and field.field_name is None, name
    # a nested serializer finds its own root's context, not the other instance's
    assert first.fields["petitioners"].child.context == {"who": 1}
    assert second.fields["history"].child.fields["actor"].context == {"who": 2}


def test_a_changed_field_on_one_instance_leaves_the_next_alone():
    one = s.RegistrationIn()
    one.fields["matter"].max_length = 3
    assert s.RegistrationIn().fields["matter"].max_length == 20000


@pytest.mark.django_db
def test_the_detail_writes_what_drf_writes(jianan, register, rebuilt):
    case = register(respondents=[], leader_instruction="请依法依规办理")
    case.overdue = False
    context = {"membership": jianan.member("clerk"), "now": timezone.now()}
    lean = s.CaseDetail(case, context=context).data
    rebuilt()
    assert s.CaseDetail(case, context=context).data == lean
    assert lean["petitioners"] and lean["demands"] and lean["history"] and lean["clocks"]


@pytest.mark.django_db
def test_the_township_and_the_village_are_read_in_one_statement(jianan, django_assert_num_queries):
    township, village = jianan.townships["将官池镇"], jianan.villages["岗朱村"]
    data = {**GOOD, "township": township.pk, "village": str(village.pk)}
    with django_assert_num_queries(1):
        form = s.RegistrationIn(data=data)
        assert form.is_valid(), form.errors
    assert (form.validated_data["township"], form.validated_data["village"]) == (township, village)


@pytest.mark.django_db
@pytest.mark.parametrize("village", [10**9, 2**70, True, "岗朱村", -1, [1]])
def test_a_place_not_found_is_the_fields_own_error(jianan, village, rebuilt):
    data = {**GOOD, "township": jianan.townships["将官池镇"].pk, "village": village}
    lean = s.RegistrationIn(data=data)
    assert not lean.is_valid() and set(lean.errors) == {"village"}
    rebuilt()
    drf_ser = s.RegistrationIn(data=data)
    assert not drf_ser.is_valid() and drf_ser.errors == lean.errors


@pytest.mark.django_db
def test_a_list_writes_what_drf_writes(jianan, register, rebuilt):
    """The summary of cases with and without a township, from the names a list reads as
    plain values and from the links; an attribute that is a method or missing is read as DRF
    reads it."""
    cases = [register(respondents=[]), register(respondents=[], township=None, village=None)]
    for case in cases:
        case.overdue = True
    cases[0].main_names = ["张三明", "李四"]
    lean = s.CaseSummary(cases, many=True).data

    class Odd(s.Lean):
        called = drf.CharField(source="get_state_display")
        absent = drf.CharField(required=False)
        none = drf.CharField(source="township", allow_null=True)

    odd = [Odd(case).data for case in cases]
    rebuilt()
    assert s.CaseSummary(cases, many=True).data == lean
    assert [Odd(case).data for case in cases] == odd
    assert lean[0]["petitioner"] == "张*明、李*" and lean[1]["township"] is None
    assert odd[0]["called"] == cases[0].get_state_display() and "absent" not in odd[0]


@pytest.fixture
def drf_writes(monkeypatch, rebuilt):
    """Answer through DRF's own serializers again: fields built per answer, read DRF's way."""
    def switch():
        rebuilt()
        monkeypatch.setattr(s, "write", lambda cls, instance, context=None: cls(
            instance, context=context or {}).data)
        monkeypatch.setattr(s, "write_many", lambda cls, instances, context=None: [
            cls(instance, context=context or {}).data for instance in instances])
    return switch


@pytest.mark.django_db
def test_the_api_writes_byte_for_byte_what_drf_writes(jianan, drf_writes):
    """``serializers.write`` against DRF's serializers, through the API's detail and list, for
    cases along the path (clocks stopped and running, assignments, deliveries, an extension),
    with a respondent in a unit and one without, a confidential petitioner, a leader's
    instruction, read by the clerk and by the handling township (whose answer hides the
    instruction: a method field that reads the answer's context)."""
    walks = [
        walk(jianan, "registered", leader_instruction="请依法依规办理"),
        walk(jianan, "assigned", confidential=True),
        walk(jianan, "delivered", respondents=[RespondentInput(
            name="王五", position="村支书", unit=jianan.villages["岗朱村"])]),
        walk(jianan, "archived", respondents=[]),
        walk(jianan, "extension_requested"),
    ]
    readers = [client_as(jianan.member("clerk")), client_as(jianan.member("township"))]
    urls = [f"/api/cases/{case.pk}/" for case in walks] + ["/api/cases/", "/api/cases/?page=2"]

    def answers():
        out = []
        for client in readers:
            for url in urls:
                r = client.get(url, {"page_size": 2} if url.endswith("/cases/") else {})
                out.append((url, r.status_code, r.content))
        return out

    lean = answers()
    drf_writes()
    assert answers() == lean
    shown = [json.loads(body) for url, code, body in lean if code == 200 and "results" not in
             json.loads(body)]
    assert len(shown) >= 6  # the township reads the cases assigned to it
    assert any(case["leader_instruction"] == "请依法依规办理" for case in shown)
    assert any(case["petitioners"][0]["confidential"] for case in shown)
    assert any(clock["stopped_at"] for case in shown for clock in case["clocks"])
    assert any(case["respondents"] and case["respondents"][0]["unit"] for case in shown)


@pytest.mark.django_db
def test_write_reads_an_attribute_as_drf_reads_it(jianan, register, rebuilt):
    """A method, a missing attribute, a missing one with a default, a related row that is not
    there: each as DRF's ``get_attribute`` answers it (DRF's own serializer beside it). A field
    write() cannot read by one attribute is refused when its writer is compiled, not answered
    wrong, whether asked by write() or by a Lean serializer's ``.data``."""
    case = register(respondents=[], township=None, village=None)

    class Odd(s.Lean):
        called = drf.CharField(source="get_state_display")
        absent = drf.CharField(required=False)
        defaulted = drf.BooleanField(default=True)
        none = drf.CharField(source="township", allow_null=True)
        place = s.UnitRef(source="village", allow_null=True)

    lean = s.write(Odd, case)
    assert lean == Odd(case).data == {
        "called": case.get_state_display(), "defaulted": True, "none": None, "place": None}

    class Dotted(s.Lean):
        name = drf.CharField(source="jurisdiction.name")

    with pytest.raises(TypeError, match="Dotted.name"):
        s.write(Dotted, case)
    with pytest.raises(TypeError, match="Dotted.name"):
        Dotted(case).data  # noqa: B018

    class Own(s.Lean):
        state = drf.CharField()

        def to_representation(self, instance):
            return {"state": instance.state.upper()}

    with pytest.raises(TypeError, match="Own writes its own way"):
        s.write(Own, case)

    rebuilt()
    assert Odd(case).data == lean


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC", "America/St_Johns"])
def test_a_list_writes_its_instants_and_labels_as_drf_does_in_any_time_zone(
        jianan, register, rebuilt, zone):
    """``write_many`` asks the time zone and the language once for the list: its instants are
    DRF's ISO 8601 in the zone active (``Z`` for UTC, a half-hour offset), a naive or a text
    value is DRF's own, and the state's label is the language's."""
    from datetime import datetime

    cases = [register(respondents=[]), register(respondents=[], township=None, village=None)]
    for case in cases:
        case.overdue = False
    cases[1].received_at = datetime(2026, 11, 30, 9, 0)  # naive: DRF makes it aware
    cases[1].registered_at = "2026-11-30T09:00:00+08:00"  # a text: DRF writes it as it is
    with timezone.override(zone):
        lean = s.write_many(s.CaseSummary, cases)
        rebuilt()
        assert [s.CaseSummary(case).data for case in cases] == lean
    assert lean[0]["state_label"] == "已登记"
    if zone == "UTC":
        assert lean[0]["received_at"].endswith("Z")
    if zone == "America/St_Johns":
        assert lean[0]["received_at"][-6:] in ("-03:30", "-02:30")
