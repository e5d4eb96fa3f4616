"""The main lists' queries can be answered from an index, on both databases (issue 9).

On PostgreSQL sequential scans are switched off for the plan: a ``Seq Scan on cases_case`` that
survives that has no usable index at all. On SQLite, with statistics taken (``db_optimize``, as
after every migrate), every step that reads ``cases_case`` must go through an index — a bare
``SCAN cases_case`` reads the whole table."""

from __future__ import annotations

import re

import pytest
from django.db import connection, transaction
from django.utils import timezone

from tests.scale import copies
from xinfang.api.filters import filter_cases
from xinfang.cases.dbstats import db_optimize
from xinfang.cases.models import Case
from xinfang.cases.paging import capped_count
from xinfang.cases.selectors import cases_for, door_remember
from xinfang.ledgers.filters import filter_ledger
from xinfang.web import supervision
from xinfang.web.ledger import ledger_rows
from xinfang.web.queues import bucket_cases, ordered, queue_for
from xinfang.web.supervision import late_sides, overdue_or_warned

pytestmark = pytest.mark.django_db
PG = connection.vendor == "postgresql"
# SQLite's index in the due order, with the lists' tie-breaks (0036); 0010's on the deadline alone
# was dropped by 0037, since this one serves every plan it did.
DUE_INDEXES = ("case_due_order_idx",)


@pytest.fixture
def many(jianan):
    """Enough rows that a plan is worth choosing: open, overdue, assigned and archived cases."""
    township = jianan.townships["将官池镇"]
    copies(jianan, 150, state="in_progress", unit=township, signed_for=True, overdue=True)
    copies(jianan, 150, state="registered")
    copies(jianan, 300, state="archived", unit=jianan.bureaus["区民政局"])
    db_optimize()
    return jianan


def plan(qs) -> str:
    if PG:
        with transaction.atomic(), connection.cursor() as cursor:  # a transaction for SET LOCAL
            cursor.execute("SET LOCAL enable_seqscan = off")
            return qs.explain()
    return qs.explain()


def vacuumed() -> None:
    """Statistics taken (``db_optimize``) and, on PostgreSQL, the dead rows of earlier tests
    cleared and the visibility map set: only outside a transaction (``transaction=True``)."""
    if PG:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) cases_case, cases_demand")
    db_optimize()


def full_scans(text: str) -> list[str]:
    """The plan lines that read all of cases_case without an index."""
    if PG:
        return [line for line in text.splitlines() if "Seq Scan on cases_case " in line]
    return [line for line in text.splitlines() if re.search(r"SCAN cases_case\b(?! USING)", line)]


def first_page(qs, size: int = 50):
    return qs[:size]


def plan_in_order(qs) -> str:
    """The plan of ``qs``'s first page with sorts and bitmaps made dear (PostgreSQL): at a
    test's size a sort is cheaper, and this shows whether an index serves the list in its
    order."""
    with connection.cursor() as cursor:  # for the test's transaction
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
    return plan(first_page(qs))


def test_the_ledger_first_page_reads_an_index(many):
    qs = ledger_rows(filter_ledger(cases_for(many.member("clerk")), {}), "-received")
    text = plan(first_page(qs))
    assert not full_scans(text), text
    assert "case_received_idx" in text, text


def test_the_ledger_count_reads_an_index(many):
    qs = filter_ledger(cases_for(many.member("clerk")), {"state": "in_progress"})
    text = plan(qs.order_by().values("pk")[:10001])  # the statement capped_count runs
    assert not full_scans(text), text
    assert capped_count(qs) == 150


def test_a_countys_search_is_counted_off_the_jurisdiction_index(many):
    # the count names the county's office (``Door.counted_cases``), not its 230 units: SQLite
    # judged the long list worth a scan of every case (an ordinary county at 200k: 59 ms)
    from xinfang.cases.selectors import cases_counted

    clerk = many.member("clerk")
    # (on PostgreSQL the list names the office already and is counted as it is: None)
    qs = filter_ledger(cases_counted(clerk) or cases_for(clerk), {"search": "危房"}, by=clerk)
    text = plan(qs.order_by().values("pk")[:501])
    assert not full_scans(text), text
    assert capped_count(qs, cap=500) == capped_count(
        filter_ledger(cases_for(clerk), {"search": "危房"}, by=clerk), cap=500)


@pytest.mark.django_db(transaction=PG)
def test_the_category_filter_reads_a_cases_demands_off_their_category_index(many):
    # the ledger's category filter asks, per case, for a demand of the category: answered from
    # the (case, category) index, not from each demand's row (lead25: 121 -> 89 ms at 1M).
    # Cases hold several demands here, as at scale (1.7 a case): with one each, reading by the
    # case's demand numbers is as cheap, and PostgreSQL may choose either.
    # Committed and vacuumed, as autovacuum keeps an office's tables: inside a test's rolled-back
    # transaction the earlier tests' dead demands weigh on so small a table, and PostgreSQL
    # chose the (case, seq) index with the category filtered off each row (lead40: the second
    # of eight runs in one process). SQLite's run stays rolled back: its statistics committed
    # would outlive the test (``sqlite_stat1``).
    from xinfang.cases.models import Case, Demand

    Demand.objects.bulk_create(
        Demand(case_id=pk, seq=seq, text="其他诉求", category=category)
        for pk in Case.objects.values_list("pk", flat=True)
        for seq, category in ((2, "民政救助"), (3, "医疗保障"), (4, "其他"), (5, "小额信贷")))
    vacuumed()
    clerk = many.member("clerk")
    qs = filter_ledger(cases_for(clerk), {"category": ["危房改造"], "township": [
        str(many.townships["将官池镇"].pk)]}, by=clerk)
    text = plan(first_page(ledger_rows(qs, "-received")))
    # either category index answers a case's probe (both columns are given): PostgreSQL takes
    # the (category, case) one since 0040, SQLite the (case, category) one
    if PG:
        assert re.search(r"Index Only Scan using demand_(case_category|category_case)", text), text
    else:
        assert "USING COVERING INDEX demand_case_category" in text, text


def test_the_category_filters_count_reads_the_categorys_cases_at_once(many):
    # counted over the whole county, the filter read the (case, category) index once a case
    # (a city's 92,000 at 1M: 80-107 ms); the (category, case) index gives the category's cases
    # at once (lead28). A category of one case in ten, several demands a case, as at scale.
    from xinfang.cases.models import Case, Demand

    ids = list(Case.objects.order_by("pk").values_list("pk", flat=True))
    Demand.objects.filter(case_id__in=ids[::10]).update(category="低保")
    Demand.objects.bulk_create(
        Demand(case_id=pk, seq=seq, text="其他诉求", category=category)
        for pk in ids
        for seq, category in ((2, "民政救助"), (3, "医疗保障"), (4, "其他"), (5, "小额信贷")))
    db_optimize()
    clerk = many.member("clerk")
    qs = filter_ledger(cases_for(clerk), {"category": ["低保"]}, by=clerk)
    text = plan(qs.order_by().values("pk")[:10001])  # the statement capped_count runs
    assert "demand_category_case" in text, text
    assert capped_count(qs) == len(ids[::10])


def test_the_case_jurisdiction_key_has_one_index_leading_with_it():
    """The foreign key's own index was replaced by (jurisdiction, id), not kept beside it: an
    office's capped count reads the ids off it alone on PostgreSQL (30 -> 1.7 ms at 1M cases,
    docs/PERFORMANCE.md; a plan test cannot show it — a test's transaction cannot VACUUM)."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, "cases_case")
    leading = {name: c["columns"] for name, c in found.items()
               if c["index"] and not c["unique"] and c["columns"][:1] == ["jurisdiction_id"]}
    assert leading.get("case_jurisdiction_id") == ["jurisdiction_id", "id"], leading
    assert ["jurisdiction_id"] not in leading.values(), leading


def test_the_ledger_sorted_by_next_due_reads_an_index(many):
    qs = ledger_rows(filter_ledger(cases_for(many.member("clerk")), {}), "due")
    text = plan(first_page(qs))
    assert not full_scans(text), text
    if not PG:
        # The sort itself comes off a due-sort index: SQLite orders only ties (the right part)
        # instead of sorting every visible case for a page.
        assert any(name in text for name in DUE_INDEXES), text
        assert "USE TEMP B-TREE FOR ORDER BY" not in text, text


def test_the_due_sort_puts_the_soonest_first_and_cases_without_a_deadline_last(many):
    from xinfang.cases.models import Case

    ended = Case.objects.filter(state="archived")
    ended.filter(pk__in=ended.values("pk")[:100]).update(next_due_at=None)  # deadlines all ended
    rows = list(
        ledger_rows(filter_ledger(cases_for(many.member("clerk")), {}), "due").values_list(
            "next_due_at", flat=True
        )
    )
    dated = [d for d in rows if d is not None]
    assert dated and rows[: len(dated)] == sorted(dated)  # the deadlines first, soonest first
    assert rows[len(dated) :] == [None] * (len(rows) - len(dated)) != []  # then those without


def test_the_api_list_with_its_overdue_column_reads_an_index(many):
    from django.db.models import Case as SqlCase
    from django.db.models import Value, When

    from xinfang.api.filters import overdue_q

    now = timezone.now()
    qs = cases_for(many.member("clerk")).annotate(
        overdue=SqlCase(When(overdue_q(now), then=Value(True)), default=Value(False))
    )
    text = plan(first_page(qs.order_by("-registered_at", "-pk")))
    assert not full_scans(text), text
    assert "case_registered_idx" in text, text
    # and the column itself no longer reads the clocks
    assert "cases_clock" not in text


def test_the_overdue_filter_reads_an_index(many):
    qs = filter_cases(cases_for(many.member("inspector")), {"overdue": "true"})
    text = plan(first_page(qs.order_by("-registered_at", "-pk")))
    assert not full_scans(text), text
    assert qs.count() >= 150  # and the three cases the copies were made from, also late


def test_a_handling_units_list_reads_its_assignments_by_index(many):
    qs = cases_for(many.member("township")).order_by("-received_at", "-pk")
    text = plan(first_page(qs))
    assert not full_scans(text), text
    assert qs.count() == 150


@pytest.mark.skipif(not PG, reason="PostgreSQL names a handling unit's cases by id")
def test_a_handling_units_named_cases_are_read_by_key_and_named_off_the_index(many):
    # the ids come off the assignments' index alone (0043) ...
    from xinfang.cases.selectors import door_for

    m = many.member("township")
    door = door_for(m)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_bitmapscan = off")
    text = plan(door._handled_rows().order_by().values_list("case_id", flat=True))
    assert "Index Only Scan using assignment_unit_cases" in text, text
    assert len(door.handled) == 150
    # ... and the first page reads an index with the ids as they are (here a quarter of the
    # cases: walking the date index is right; at 1M, an ordinary township's are read by key)
    text = plan(first_page(cases_for(m).order_by("-received_at", "-pk")))
    assert not full_scans(text), text
    assert "cases_assignment" not in text, text


def test_a_handling_units_count_reads_its_cases_off_the_assignments_index(many, monkeypatch):
    # the case ids of the unit's assignments come off the index itself (0043), not each from
    # the table: a township's 13,490 lay on 8,769 pages at 1M cases. (Over the bound under
    # which PostgreSQL names them in the list, and counts the list.)
    from xinfang.cases.selectors import cases_counted

    monkeypatch.setattr("xinfang.cases.selectors.MAX_LISTED_CASES", 0)
    counted = cases_counted(many.member("township"))
    if PG:  # a test's 150 assignments are cheapest as a bitmap; the index's columns are asked
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_bitmapscan = off")
    text = plan(counted.order_by().values("pk")[:10001])
    assert not full_scans(text), text
    assert ("Index Only Scan using assignment_unit_cases" if PG
            else "COVERING INDEX assignment_unit_cases") in text, text
    assert capped_count(counted) == 150


def test_the_work_queue_and_supervision_lists_read_an_index(many):
    now = timezone.now()
    clerk = cases_for(many.member("clerk"))
    for qs in (
        ordered(clerk.filter(state="registered")),
        ordered(overdue_or_warned(cases_for(many.member("approver")), now)),
    ):
        text = plan(first_page(qs, 30))
        assert not full_scans(text), text
    assert {b.key: b.total for b in queue_for(many.member("clerk"), now)}["propose"] >= 150


def test_the_clerks_bucket_to_archive_reads_its_page_off_the_ended_index(many):
    # the office's ended cases in the bucket's order, off an index of those alone: it read and
    # sorted every ended case of the office for ten (lead43)
    copies(many, 120, state="closed")
    copies(many, 40, state="declined")
    db_optimize()
    clerk = many.member("clerk")
    door_remember(clerk)
    qs = bucket_cases(clerk, timezone.now(), "archive")
    text = plan(first_page(qs, 10))
    assert "case_ended_idx" in text, text
    if not PG:
        assert "USE TEMP B-TREE FOR ORDER BY" not in text, text
    assert {b.key: b.total for b in queue_for(clerk, timezone.now())}["archive"] == 160


def test_the_supervision_late_list_reads_the_due_order_off_an_index(many):
    late, _warned = late_sides(cases_for(many.member("approver")), timezone.now())
    text = plan(first_page(late, 20))
    assert not full_scans(text), text
    if not PG:
        assert any(name in text for name in DUE_INDEXES), text
        assert "USE TEMP B-TREE FOR ORDER BY" not in text, text  # only ties are sorted


def test_the_late_list_is_the_late_or_warned_list_in_the_same_order(many, monkeypatch):
    from xinfang.cases.models import Case

    copies(many, 4, state="in_progress", warned=True)  # warned, deadline still ahead
    no_deadline = copies(many, 2, state="in_progress", warned=True)
    Case.objects.filter(pk__in=[c.pk for c in no_deadline]).update(next_due_at=None)
    copies(many, 3, state="in_progress")  # neither late nor warned
    now = timezone.now()
    scope = cases_for(many.member("approver"))
    expected = list(ordered(overdue_or_warned(scope, now)).values_list("pk", flat=True))
    monkeypatch.setattr(supervision, "LIST_SIZE", 1000)
    rows, total = supervision.late_list(scope, now)
    assert [case.pk for case in rows] == expected
    assert total == str(len(expected)) and {c.pk for c in no_deadline} <= set(expected)
    monkeypatch.setattr(supervision, "COUNT_CAP", len(expected) - 1)
    assert supervision.late_list(scope, now)[1] == f"{len(expected) - 1}+"


@pytest.mark.skipif(not PG, reason="the trigram index is PostgreSQL's (migration 0007)")
def test_search_over_the_matter_reads_the_trigram_index(many):
    qs = filter_cases(cases_for(many.member("clerk")), {"search": "危房改造补助"})
    text = plan(first_page(qs.order_by("-registered_at", "-pk")))
    assert "case_matter_trgm" in text and "demand_text_trgm" in text, text
    assert not full_scans(text), text
    assert qs.count() >= 600


@pytest.mark.skipif(not PG, reason="the two-character indexes are PostgreSQL's (migration 0012)")
def test_a_two_character_search_reads_the_bigram_indexes(many):
    qs = filter_cases(cases_for(many.member("clerk")), {"search": "危房"})
    text = plan(first_page(qs.order_by("-registered_at", "-pk")))
    assert "case_matter_bigram" in text and "demand_text_bigram" in text, text
    assert "case_number_bigram" in text, text
    assert not full_scans(text), text
    assert "Seq Scan on cases_demand" not in text, text
    # the same cases as the plain substring test
    scan = cases_for(many.member("clerk")).filter(matter__icontains="危房")
    assert set(scan.values_list("pk", flat=True)) <= set(qs.values_list("pk", flat=True))
    assert qs.count() >= 600


def test_a_common_two_character_search_reads_the_list_in_its_order(many, monkeypatch):
    """A pair found in many cases (more than FEW_MATCHES) is tested case by case, newest first:
    the plan walks the received index and probes each case's demands by its index — no scan of
    the demands, no set of every match built before the first row — and finds the same cases
    as the pair's indexes."""
    from xinfang.cases import search

    monkeypatch.setattr(search, "FEW_MATCHES", 10)
    clerk = cases_for(many.member("clerk"))
    qs = ledger_rows(filter_ledger(clerk, {"search": "危房"}), "-received")
    text = plan(first_page(qs))
    assert not full_scans(text), text
    assert "case_received_idx" in text, text
    # each case's demands looked up by its id (PostgreSQL: the case_id index or the (case_id,
    # seq) unique index, which also serves the demands' own order; SQLite: the unique index)
    assert any(index in text for index in ("cases_demand_case_id", "demand_seq_unique",
                                           "cases_demand_1 (case_id=?)")), text
    assert "Seq Scan on cases_demand" not in text and "Bitmap Heap Scan on cases_demand" not in text
    per_case = set(filter_ledger(clerk, {"search": "危房"}).values_list("pk", flat=True))
    monkeypatch.setattr(search, "FEW_MATCHES", 10**9)
    assert per_case == set(filter_ledger(clerk, {"search": "危房"}).values_list("pk", flat=True))
    assert len(per_case) >= 600


@pytest.mark.parametrize("key", ["propose", "archive"])
def test_an_offices_own_bucket_reads_its_page_off_the_queue_index(many, key):
    # given the clerk's 待拟办 (registered: the soonest deadline first) and 待归档 (newest first)
    from xinfang.web.queues import bucket_cases

    qs = bucket_cases(many.member("clerk"), timezone.now(), key)
    if PG and key == "propose":
        # At 600 cases, reading the next-due index and sorting a few ties costs PostgreSQL
        # about what the queue index costs, and which it takes turned on where earlier tests
        # had left free space in the table (the index's correlation): the order that comes off
        # the queue index is what this asks, so a sort is priced out of the choice.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("SET LOCAL enable_incremental_sort = off")
    text = plan(first_page(qs, 10))
    assert not full_scans(text), text
    if key == "propose":
        # then one state of one jurisdiction comes off the index in the queue's order (the due
        # key is the sort's own expression): nothing is sorted, not even the ties
        assert "case_queue_idx" in text, text
        assert "Sort" not in text if PG else "TEMP B-TREE" not in text, text


def test_the_leader_owned_count_reads_an_index(many):
    # SQLite read the table whole for this count beside PostgreSQL's partial index (its
    # condition names the open states, which a bound parameter cannot prove): 0021 gives SQLite
    # an index with the state as a column
    from xinfang.cases.models import Case

    Case.objects.filter(pk__in=Case.objects.filter(state="in_progress").values("pk")[:20]).update(
        leader_owner=many.member("chief").user)
    # Closed cases outnumber the open ones as at scale: among 600, walking all of them in their
    # received order was as cheap to SQLite as the leader-owned index and a sort, and it chose
    # either (lead26 saw the walk on every run).
    copies(many, 1200, state="archived")
    db_optimize()
    qs = supervision.leader_owned(cases_for(many.member("approver")))
    text = plan(qs.order_by().values("pk")[:1001])
    assert not full_scans(text), text
    assert capped_count(qs) == 20
    # and the first twenty, oldest first, come off the leader-owned cases' own index
    first = plan(qs.select_related(None).order_by("received_at", "pk").values("pk")[:20])
    assert not full_scans(first), first
    if not PG:  # (PostgreSQL's own partial index is 0019's; on a test's few rows it may
        # rightly prefer the leader's foreign key)
        assert "case_leader_owned_state" in first, first


@pytest.fixture
def province_inspector(many, monkeypatch):
    """The province's inspector over ``many`` and 1,200 closed cases (an office's mix), its
    door in the form a real province's takes: 37,000 units are not listed, each case's path is
    tested (``MAX_LISTED_UNITS``). The province under the national profile, as the generated
    one (without a profile its door is empty)."""
    from xinfang.org.choices import Role
    from xinfang.org.models import Membership, Unit, User

    copies(many, 1200, state="archived")
    Unit.objects.filter(pk=many.province.pk).update(profile_code="national")
    monkeypatch.setattr("xinfang.cases.selectors.MAX_LISTED_UNITS", 5)
    return Membership.objects.create(user=User.objects.create(username="province_eye"),
                                     unit=Unit.objects.get(pk=many.province.pk),
                                     role=Role.INSPECTOR)


@pytest.mark.skipif(PG, reason="PostgreSQL reads them off case_leader_owned_open (0019)")
def test_a_provinces_leader_owned_cases_are_read_by_state_off_their_own_index(
        many, province_inspector):
    # a province's inspector has no jurisdiction to seek: SQLite read every open case off the
    # (state, accepted_at) index to keep the leader-owned ones (lead26: 28 + 28 ms of a 260 ms
    # page at 200k); 0035's index is led by the state
    from xinfang.cases.models import Case

    Case.objects.filter(pk__in=Case.objects.filter(state="in_progress").values("pk")[:20]).update(
        leader_owner=many.member("chief").user)
    db_optimize()
    qs = supervision.leader_owned(cases_for(province_inspector))
    assert "xf_du.path" in str(qs.query)
    assert capped_count(qs) == 20
    for text in (plan(qs.order_by().values("pk")[:1001]),
                 plan(qs.select_related(None).order_by("received_at", "pk").values("pk")[:20])):
        assert "case_leader_owned_by_state" in text, text


@pytest.mark.skipif(PG, reason="PostgreSQL walks the (next_due_at) b-tree in order")
def test_a_provinces_late_list_walks_the_due_order_off_an_index(province_inspector):
    # the same door: SQLite read every open case of the province and sorted them for twenty
    # (lead26: 38 ms at 200k); 0036 holds the whole due order
    db_optimize()
    late, _warned = late_sides(cases_for(province_inspector), timezone.now())
    assert "xf_du.path" in str(late.query)
    text = plan(late[:20])
    assert "case_due_order_idx" in text and "TEMP B-TREE" not in text, text
    # and the order is the lists' own: soonest deadline, then newest registered, then id
    from xinfang.cases import choices as c
    from xinfang.cases.models import Case

    now = timezone.now()
    expected = sorted(Case.objects.filter(state__in=c.OPEN_STATES, next_due_at__lt=now),
                      key=lambda k: (k.next_due_at, -k.registered_at.timestamp(), -k.pk))
    assert [k.pk for k in late[:200]] == [k.pk for k in expected][:200]


@pytest.mark.skipif(PG, reason="PostgreSQL walks the (next_due_at) b-tree in order")
def test_a_provinces_overdue_bucket_walks_the_due_order_off_an_index(province_inspector):
    # lead38: asked for ``open_due_at`` alone, SQLite read the province's late cases off their
    # own index and sorted them all (the inspector's queue 19 → 45 ms at 200k)
    from xinfang.web import queues

    db_optimize()
    now = timezone.now()
    bucket = queues._narrowed(province_inspector, now, queues._overdue, "overdue")
    text = plan(bucket[: queues.PER_BUCKET])
    assert "case_due_order_idx" in text and "TEMP B-TREE" not in text, text
    from xinfang.cases import choices as c
    from xinfang.cases.models import Case

    late = Case.objects.filter(state__in=c.OPEN_STATES, next_due_at__lt=now)
    assert {k.pk for k in bucket} == {k.pk for k in late} != set()


@pytest.mark.skipif(PG, reason="SQLite's own indexes")
def test_sqlite_keeps_one_index_in_the_due_order():
    # 0010's index on the deadline alone is a prefix of 0036's: 0037 dropped it, one index fewer
    # for every write of a case to keep
    with connection.cursor() as cur:
        cur.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND name IN "
                    "('case_due_sort_idx', 'case_due_order_idx')")
        assert [r[0] for r in cur.fetchall()] == ["case_due_order_idx"]


def test_the_notices_of_an_office_are_read_by_jurisdiction_not_per_case(many):
    """The supervision page's warning notices: by their own jurisdiction off
    ``notice_jurisdiction_idx``. Through the door's scope SQLite probed the notices once per
    case of the county — with no notice at all (22 ms a statement at 200,000 cases)."""
    from xinfang.cases.models import WarningNotice

    m = many.member("approver")
    scope = cases_for(m)
    figures = supervision.page_figures(m, scope)
    qs = supervision.in_door(WarningNotice.objects.all(), scope, figures)
    for statement in (qs.filter(answered_at=None).order_by("follow_up__due_at", "-issued_at"),
                      qs.order_by().values("pk")):
        text = plan(statement[:20])
        assert "cases_case" not in text, text
        if not PG:  # PostgreSQL's choice of index on an empty table is its own
            assert "notice_jurisdiction_idx" in text, text


def test_a_lists_running_clocks_are_read_by_case_not_in_the_due_order(many):
    """The rows' running clocks are read by their cases' ids and sorted in Python (``rows``):
    asked for in the due order, SQLite walked the (status, due_at) index through every running
    clock (18 ms at 200,000 cases for fifty cases' clocks)."""
    from xinfang.web.queues import running_clocks

    ids = list(cases_for(many.member("clerk")).values_list("pk", flat=True)[:50])
    text = plan(running_clocks(ids))
    assert "case_id" in text, text
    assert "status_b81bbe_idx" not in text and "ORDER BY" not in text.upper(), text


def _columns(q) -> set[str]:
    """The case columns a condition tests (``repeat_of__isnull`` → ``repeat_of``)."""
    out = set()
    for child in q.children:
        if isinstance(child, tuple):
            out.add(child[0].split("__")[0])
        else:
            out |= _columns(child)
    return out


def test_the_goals_read_an_offices_months_off_the_received_index(many):
    # the goals count two years of an office's months at once, and the backlog at each month's
    # end: off (jurisdiction, received_at), carrying every column the measures and the backlog
    # test, so PostgreSQL reads the index alone (lead26: a county's year 267 -> 59 ms at 1M;
    # lead27: the backlog 177 -> 32 ms). A measure testing another column would send every
    # row back to the table: the included columns must cover them. PostgreSQL's choice needs
    # what a test cannot make: other offices' cases in the same months and a VACUUM (the
    # index-only plan); here one office holds every case, and SQLite's plan is asked: there
    # the included columns are key columns (0038), and the index covers both statements.
    from datetime import timedelta

    from xinfang.cases.models import Case
    from xinfang.scoring.goals import FLOWS, backlog_rows, flow_rows

    index = next(i for i in Case._meta.indexes if i.name == "case_jurisdiction_received")
    carried = {*index.fields, *index.include, "pk"}
    tested = set().union(*(_columns(q) for q in FLOWS.values())) | {"state", "received_at"}
    assert tested <= carried, tested - carried
    assert {"registered_at", "closed_at", "state"} <= carried
    if not PG:
        db_optimize()
        now = timezone.now()
        scope = cases_for(many.member("clerk"))
        for statement in (flow_rows(scope, now - timedelta(days=90), now),
                          backlog_rows(scope, [now - timedelta(days=30), now])):
            text = plan(statement)
            assert "COVERING INDEX case_jurisdiction_received" in text, text


@pytest.mark.skipif(not PG, reason="the late clocks' index by name is PostgreSQL's (0042)")
def test_a_named_late_point_can_read_the_late_clocks_by_name(many):
    """A score point of some clocks' names (lihai's contact and reply points) is read once for
    the statement; by case (0039) it read every late or running deadline clock of the province
    for a name none of them had (114 ms at 1M after a sweep). With the case index made dear,
    the plan shows the name's index can serve the point's condition."""
    from xinfang.scoring.sources import late_condition

    scope = cases_for(many.member("approver"))
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX clock_late_or_running")  # inside the test's transaction
        cursor.execute("SET LOCAL enable_bitmapscan = off")
    late = scope.filter(late_condition(("reply_letter_visit", "phone_contact"), timezone.now()))
    text = plan(late.values("pk"))
    assert "clock_late_by_name" in text, text


@pytest.mark.skipif(not PG, reason="the two partial indexes are PostgreSQL's (0039)")
def test_the_unit_scores_probes_can_read_their_own_indexes(many):
    """The unit scores probe each case of the period twice: its late deadline clocks and its
    lead unit (lead27: a county's year at 1M 176 → 66–73 ms). Each partial index serves only a
    query whose condition implies the index's: a change to either condition (or to the index)
    would leave the index unread, which this plan, with the table's other ways made dear, shows."""
    from xinfang.cases.rates import lead_unit
    from xinfang.scoring.sources import late_condition

    scope = cases_for(many.member("approver"))
    with connection.cursor() as cursor:
        # the tables' case indexes would serve at this size; dropped inside the test's
        # transaction (PostgreSQL's DDL is transactional), the plan says whether the partial
        # indexes can serve at all
        for table in ("cases_clock", "cases_assignment"):
            found = connection.introspection.get_constraints(cursor, table)
            for name, info in found.items():
                if info["index"] and info["columns"] == ["case_id"] and not info["unique"]:
                    cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET LOCAL enable_bitmapscan = off")
    late = scope.filter(late_condition(("reply_letter_visit",), timezone.now())).values("pk")
    # a point of some clocks' names may read their late clocks by name instead (0042)
    assert re.search("clock_late_(or_running|by_name)", plan(late)), plan(late)
    every = scope.filter(late_condition((), timezone.now())).values("pk")
    assert "clock_late_or_running" in plan(every), plan(every)
    lead = scope.order_by().annotate(u=lead_unit()).values("u")
    text = plan(lead)
    assert "assignment_lead_newest" in text and "Sort" not in text, text


@pytest.mark.skipif(not PG, reason="the office's open cases by receipt are PostgreSQL's (0048)")
def test_a_countys_overdue_ledger_can_walk_its_offices_open_cases_in_order(many):
    """The county's door names its office as an equality, by which its overdue ledger can read
    the office's open cases newest first and stop at fifty; it walked the province's received
    index, dropping every case of another office on the way (lead48: 5 → 0.8 ms at 1M). At this
    size a sort of the 150 is cheaper: with sorting and bitmaps made dear, the plan shows the
    index serves the list in its order, where an array of offices it could not."""
    clerk = many.member("clerk")
    qs = ledger_rows(filter_ledger(cases_for(clerk), {"overdue": "true"}, by=clerk), "-received")
    text = plan_in_order(qs)
    assert "Index Scan Backward using case_open_received" in text, text
    assert "Sort" not in text, text
    assert qs.count() >= 150


@pytest.mark.skipif(not PG, reason="the township's cases by receipt are PostgreSQL's (0049)")
def test_a_countys_ledger_of_one_township_walks_the_townships_cases_in_order(many):
    """A county's ledger filtered by township names it as a number in the statement and can read
    the township's cases newest first off ``case_township_received``, testing each one's
    demands, and stop at fifty. PostgreSQL gathered the township's cases and the county's through
    two bitmaps and sorted them (the busy township at 1M: 33 ms, against 1.8; lead49). Here the
    township holds a tenth of the county's cases, and a sort of them is cheaper: with sorting and
    bitmaps made dear, the plan shows the index serves the list in its order."""
    clerk = many.member("clerk")
    township, other = many.townships["将官池镇"], many.townships["五女店镇"]
    kept = list(Case.objects.filter(township=township).order_by("-received_at")
                .values_list("pk", flat=True)[:60])
    Case.objects.filter(township=township).exclude(pk__in=kept).update(township=other)
    db_optimize()
    params = {"township": str(township.pk), "category": "危房改造"}
    qs = ledger_rows(filter_ledger(cases_for(clerk), params, by=clerk), "-received")
    assert f'"township_id" = {township.pk}' in str(qs.query)
    text = plan_in_order(qs)
    assert "Index Scan Backward using case_township_received" in text, text
    assert "Sort" not in text, text
    assert capped_count(qs) == qs.count() == len(kept)


@pytest.mark.skipif(not PG, reason="extended statistics are PostgreSQL's (0049)")
def test_postgresql_knows_a_township_lies_in_one_county():
    """The functional dependency behind the plan above: without it PostgreSQL took a township
    and its county for independent and expected a tenth of the township's cases in it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT stxkind FROM pg_statistic_ext WHERE stxname = %s",
                       ["case_township_jurisdiction"])
        assert cursor.fetchone() == (["f"],)
