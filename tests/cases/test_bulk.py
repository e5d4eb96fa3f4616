"""``xinfang.cases.bulk``: the sweep's rows written without ``bulk_create`` read back exactly as
``bulk_create`` writes them — dates, JSON, encrypted text, a related object saved after the row
was built — and a row that breaks a unique constraint is skipped, on both databases."""

from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.conftest import register_in, sh
from xinfang.cases import bulk
from xinfang.cases.bulk import insert_objects, insert_returning, insert_rows
from xinfang.cases.models import Alert, Case, CaseEvent, Clock, Demand
from xinfang.registers.models import BacklogCase

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, params=["one INSERT", "COPY or executemany"])
def _path(request, monkeypatch):
    """Every test on both ways rows go: a few in one statement, many by the bulk path."""
    if request.param != "one INSERT":
        monkeypatch.setattr(bulk, "FEW", 0)

FIELDS = ("case_id", "clock_id", "kind", "role", "unit_id", "message", "created_at")


def _row(case, role: str, message: str = "超期") -> tuple:
    return (case.pk, None, "warning", role, case.jurisdiction_id, message, sh(2026, 10, 30))


def test_rows_that_break_a_unique_constraint_are_skipped_and_the_rest_written(jianan):
    case = register_in(jianan)
    with transaction.atomic():
        insert_rows(Alert, FIELDS, [_row(case, "approver")], ignore_conflicts=True)
        # the same (case, kind, role) about no clock again, beside a new one
        insert_rows(Alert, FIELDS, [_row(case, "approver", "again"), _row(case, "chief")],
                    ignore_conflicts=True)
    alerts = Alert.objects.filter(case=case, kind="warning")
    assert sorted(alerts.values_list("role", "message")) == [("approver", "超期"),
                                                             ("chief", "超期")]
    assert alerts.get(role="chief").created_at == sh(2026, 10, 30)


def test_without_ignoring_conflicts_a_duplicate_fails_and_writes_nothing(jianan):
    case = register_in(jianan)
    insert_rows(Alert, FIELDS, [_row(case, "approver")])
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(Alert, FIELDS, [_row(case, "chief"), _row(case, "approver")])
    assert list(Alert.objects.filter(case=case, kind="warning").values_list("role", flat=True)) \
        == ["approver"]


def test_objects_read_back_as_bulk_create_writes_them(jianan):
    case = register_in(jianan)
    last = CaseEvent.objects.filter(case=case).order_by("-seq").first()
    payload = {"rule": "r", "reasons": ["第2次信访"], "n": 2, "nested": {"a": [1, None]}}

    def event(seq):
        return CaseEvent(case=case, seq=seq, at=sh(2026, 10, 30, 8), type="warning_raised",
                         actor_role="system", payload=payload, profile_code="jianan",
                         profile_version=1, mac_key_id="k1", mac="ab" * 16)

    CaseEvent.objects.bulk_create([event(last.seq + 1)])
    with CaptureQueriesContext(connection) as q:
        insert_objects([event(last.seq + 2)])
    assert len([x for x in q.captured_queries if "SAVEPOINT" not in x["sql"]]) == 1
    a, b = (CaseEvent.objects.filter(case=case, seq=s).values().get()
            for s in (last.seq + 1, last.seq + 2))
    for row in (a, b):
        row.pop("id"), row.pop("seq")
    assert a == b and b["payload"] == payload and b["at"] == sh(2026, 10, 30, 8)


def test_a_related_object_saved_after_the_row_was_built_is_named_by_its_id(jianan):
    case = register_in(jianan)
    clock = Clock(case=case, name="warning:x", label="x", amount=1, unit="days",
                  started_at=sh(2026, 10, 1), due_at=sh(2026, 10, 2), alert_roles=["approver"])
    alert = Alert(case=case, clock=clock, kind="warning", role="approver",
                  unit_id=case.jurisdiction_id, message="m", created_at=sh(2026, 10, 1))
    with pytest.raises(ValueError, match="unsaved"):
        insert_objects([alert])
    Clock.objects.bulk_create([clock])
    insert_objects([alert])
    assert alert.clock_id == clock.pk
    assert Alert.objects.get(clock=clock).role == "approver"


def test_encrypted_and_automatic_fields_are_prepared(jianan):
    case = register_in(jianan)
    line = BacklogCase(case=case, jurisdiction_id=case.jurisdiction_id, entry="unsettled",
                       reason="受理后逾一个月仍未化解", person_name="张三明", contact="13812345678",
                       designated_at=sh(2026, 10, 30))
    insert_objects([line])
    stored = BacklogCase.objects.get(case=case)
    assert (stored.person_name, stored.contact) == ("张三明", "13812345678")
    with connection.cursor() as cursor:
        cursor.execute("SELECT person_name FROM registers_backlogcase WHERE id = %s",
                       [stored.pk])
        assert "张三明" not in cursor.fetchone()[0]  # stored encrypted
    assert stored.updated_at is not None  # auto_now, as a save sets it


def test_plain_rows_have_a_transforming_field_prepare_its_values(jianan):
    """An encrypted column given plain text stores it encrypted; a date goes as its field
    writes it (the fixture runs this by both paths rows go)."""
    at = sh(2026, 10, 30)
    blank = ("name_index", "contact", "exited_or_monitored", "locality_text", "problem",
             "category", "owner_leader_text", "responsible_unit_text", "note", "plan", "outcome")
    insert_rows(BacklogCase, ("jurisdiction_id", "entry", "person_name", "first_petition_on",
                              "reason", "designated_at", *blank),
                [(jianan.county.pk, "unsettled", "张三明", date(2026, 3, 1), "逾期", at,
                  *[""] * 2, False, *[""] * 8)])
    stored = BacklogCase.objects.get()
    assert (stored.person_name, stored.first_petition_on, stored.designated_at) == (
        "张三明", date(2026, 3, 1), at)
    with connection.cursor() as cursor:
        cursor.execute("SELECT person_name FROM registers_backlogcase WHERE id = %s",
                       [stored.pk])
        assert "张三明" not in cursor.fetchone()[0]  # stored encrypted


def test_a_requests_rows_get_their_ids_and_read_back_as_bulk_create_writes_them(jianan):
    """``insert_returning`` (a registration's tables, a transition's history entry): each
    object given its id, a saved instance after, its row as ``bulk_create`` writes it."""
    case = register_in(jianan)

    def demands(first):
        return [Demand(case=case, seq=first + i, text=f"诉求{i}", category="危房改造")
                for i in range(3)]

    made = Demand.objects.bulk_create(demands(10))
    ours = insert_returning(iter(demands(20)))  # any iterable, as bulk_create takes
    assert [d.pk for d in ours] == sorted(d.pk for d in ours) and None not in {d.pk for d in ours}
    assert all(not d._state.adding and d._state.db == "default" for d in ours)
    stored = {d["seq"]: d for d in Demand.objects.filter(case=case, seq__gte=10).values()}
    assert [stored[d.seq]["id"] for d in ours] == [d.pk for d in ours]
    for a, b in zip(made, ours, strict=True):
        x, y = dict(stored[a.seq]), dict(stored[b.seq])
        for row in (x, y):
            row.pop("id"), row.pop("seq"), row.pop("text")
        assert x == y
    ours[0].finding = "属实"
    ours[0].save(update_fields=["finding"])  # saved: an UPDATE, not a second row
    assert Demand.objects.get(pk=ours[0].pk).finding == "属实"
    assert insert_returning([]) == []


def test_a_generated_column_is_read_from_the_database_when_asked(jianan):
    case = Case.objects.get(pk=register_in(jianan).pk)
    assert case.next_due_at is not None and case.state == "registered"
    copy = Case.objects.get(pk=case.pk)
    copy.pk, copy._state.adding = None, True
    copy.number, copy.seq = f"{case.number}-copy", case.seq + 50_000
    copy.__dict__.pop("open_due_at", None)
    insert_returning([copy])
    assert copy.pk != case.pk
    assert copy.open_due_at == case.next_due_at  # the database's, read on asking


def test_a_model_with_a_save_receiver_is_saved_row_by_row(jianan):
    from django.db.models.signals import post_save

    case = register_in(jianan)
    told = []

    def receiver(sender, instance, created, **kwargs):
        told.append((instance.seq, created))

    post_save.connect(receiver, sender=Demand)
    try:
        made = insert_returning(Demand(case=case, seq=30 + i, text="诉求", category="危房改造")
                                for i in range(2))
    finally:
        post_save.disconnect(receiver, sender=Demand)
    assert told == [(30, True), (31, True)] and all(d.pk for d in made)
