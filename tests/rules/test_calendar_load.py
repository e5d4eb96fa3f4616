"""Loading a year's holiday notice: stored once, refused when it would silently overwrite, and the
provisional deadlines it settles recomputed with one history entry per affected case."""

from pathlib import Path

import pytest

from tests.conftest import sh
from tests.rules.walking import delivered_referral
from xinfang.cases.models import CaseEvent, Clock
from xinfang.cases.services import PetitionerInput
from xinfang.rules.calendar import SHIPPED_SOURCE, NoticeError
from xinfang.rules.models import CalendarYear
from xinfang.rules.services import CalendarRefused, calendar_ahead, calendar_load, calendar_years
from xinfang.rules.store import forget_calendar, working_calendar

NOTICE_2027 = Path(__file__).parent / "data" / "notice-2027-test.txt"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_calendar():
    # The calendar is cached per process, but each test's rows are rolled back.
    forget_calendar()
    yield
    forget_calendar()


def load_2027(**kwargs) -> CalendarYear:
    text = NOTICE_2027.read_text(encoding="utf-8")
    return calendar_load(text=text, source=NOTICE_2027.name, **kwargs)


# --- storing the year ---------------------------------------------------------------------------


def test_loading_a_year_stores_it_and_the_engine_calendar_sees_it_at_once():
    assert not working_calendar().is_loaded(2027)

    row = load_2027(at=sh(2026, 11, 25, 9))

    assert (row.year, row.source, row.recomputed_clocks) == (2027, "notice-2027-test.txt", 0)
    assert row.loaded_at == sh(2026, 11, 25, 9)
    assert CalendarYear.objects.get(year=2027).text == NOTICE_2027.read_text(encoding="utf-8")
    assert working_calendar().notice(2027).holidays[sh(2027, 10, 1).date()] == "国庆节"


def test_a_malformed_notice_is_refused_with_every_bad_line_and_nothing_stored():
    with pytest.raises(NoticeError) as refused:
        calendar_load(
            text="year 2027\nholiday 2027-13-01 元旦\nfestival 2027-02-06 春节\n", source="bad.txt"
        )

    assert [e.line for e in refused.value.errors] == [2, 3]
    assert "第2行" in str(refused.value) and "第3行" in str(refused.value)
    assert not CalendarYear.objects.exists()


def test_a_shipped_year_is_refused_unless_replaced():
    text = "year 2026\nholiday 2026-10-01 2026-10-08 国庆节\n"

    with pytest.raises(CalendarRefused, match=f"已随系统内置（{SHIPPED_SOURCE}）.*替换"):
        calendar_load(text=text, source="notice-2026.txt")
    assert not CalendarYear.objects.exists()

    row = calendar_load(text=text, source="notice-2026.txt", replace=True)
    assert working_calendar().notice(2026).source == "notice-2026.txt"
    assert row.year == 2026


def test_a_loaded_year_is_refused_unless_replaced_and_a_replacement_keeps_one_row(
    django_user_model,
):
    admin = django_user_model.objects.create(username="sysadmin1")
    load_2027()

    with pytest.raises(CalendarRefused, match="已于.*载入（来源 notice-2027-test.txt）"):
        load_2027()

    row = calendar_load(
        text="year 2027\nholiday 2027-01-01 元旦\n", source="v2.txt", by=admin, replace=True
    )
    assert CalendarYear.objects.count() == 1
    assert (row.source, row.loaded_by) == ("v2.txt", admin)
    assert len(working_calendar().notice(2027).holidays) == 1


def test_a_load_that_fails_midway_leaves_neither_the_row_nor_a_stale_cached_calendar(monkeypatch):
    def broken():
        working_calendar()  # as the engine does: the cache now holds the uncommitted year
        raise RuntimeError("recompute failed")

    monkeypatch.setattr("xinfang.rules.services.recompute_provisional", broken)

    with pytest.raises(RuntimeError):
        load_2027()

    assert not CalendarYear.objects.exists()
    assert not working_calendar().is_loaded(2027)


def test_calendar_years_lists_shipped_and_loaded_years_with_their_source():
    load_2027()

    years = {info.year: info for info in calendar_years()}

    assert min(years) == 2004
    shipped = years[2026]
    assert (shipped.shipped, shipped.loaded, shipped.source) == (True, None, SHIPPED_SOURCE)
    loaded = years[2027]
    assert (loaded.shipped, loaded.source) == (False, "notice-2027-test.txt")
    assert loaded.loaded == CalendarYear.objects.get(year=2027)
    assert (loaded.holidays, loaded.makeup_workdays) == (32, 5)


# --- recomputing the clocks ---------------------------------------------------------------------


def test_loading_2027_recomputes_a_provisional_clock_and_writes_its_history(register):
    # given a first petition on Thursday 2026-12-17: its 15-day routing clock ends on
    # 2027-01-01, a Friday assumed a working day while 2027 is not loaded
    case = register(received_at=sh(2026, 12, 17, 9), at=sh(2026, 12, 17, 10))
    routing = case.clocks.get(name="routing")
    assert routing.due_at == sh(2027, 1, 2)
    assert routing.provisional is True
    settled = {c.name: c.due_at for c in case.clocks.filter(provisional=False)}
    assert settled, "the short first-contact clocks end in 2026 and are not provisional"
    events_before = case.events.count()

    # when the (invented) 2027 notice makes 01-01…01-03 元旦
    row = load_2027(at=sh(2026, 12, 18, 9))

    # then the deadline rolls to Monday 01-04 and is no longer provisional
    routing.refresh_from_db()
    assert routing.due_at == sh(2027, 1, 5)
    assert routing.provisional is False
    assert any("元旦" in step for step in routing.explanation)
    assert {c.name: c.due_at for c in case.clocks.filter(provisional=False)} == {
        **settled, "routing": sh(2027, 1, 5),
    }
    assert row.recomputed_clocks == 1
    # and one history entry says so
    assert case.events.count() == events_before + 1
    event = case.events.order_by("-seq").first()
    assert (event.type, event.actor, event.actor_role) == ("clock_recomputed", None, "system")
    assert event.at == sh(2026, 12, 18, 9)
    assert event.payload == {
        "year": 2027,
        "source": "notice-2027-test.txt",
        "replaced": None,
        "loaded_by": None,
        "clocks": [
            {
                "clock": "routing",
                "label": routing.label,
                "old_due": "2027-01-02T00:00:00+08:00",
                "new_due": "2027-01-05T00:00:00+08:00",
                "provisional": False,
            }
        ],
    }


def test_an_overdue_alert_says_its_deadline_is_provisional_and_the_settled_one_is_alerted_again(
    register,
):
    from xinfang.cases.models import Alert
    from xinfang.cases.services.supervision import sweep

    # given: the routing clock's provisional deadline 2027-01-01 24时 (2027 not loaded) ran out
    case = register(received_at=sh(2026, 12, 17, 9), at=sh(2026, 12, 17, 10))
    routing = case.clocks.get(name="routing")
    sweep(at=sh(2027, 1, 2, 8))
    first = Alert.objects.filter(clock=routing, kind="overdue")
    assert first.exists()
    assert all(a.message.endswith("已超期（期限2027-01-01 24时，暂定）") for a in first)

    # when: the notice makes 01-01…01-03 元旦: the deadline is Monday 01-04 24时
    load_2027(at=sh(2027, 1, 2, 9))
    routing.refresh_from_db()
    assert (routing.due_at, routing.provisional, routing.overdue_alerted) == (
        sh(2027, 1, 5), False, False)

    # then: nothing more while the settled deadline runs; alerted again once it has run out
    assert not sweep(at=sh(2027, 1, 4, 8)).overdue
    sweep(at=sh(2027, 1, 5, 8))
    settled = Alert.objects.filter(clock=routing, kind="overdue", due_at=sh(2027, 1, 5))
    assert settled.count() == first.count()
    assert all(a.message.endswith("已超期（期限2027-01-04 24时）") for a in settled)


def test_a_clock_still_waiting_for_another_year_is_left_out_of_the_history(register):
    # given a case in December 2027 whose routing clock ends in 2028 (not loaded either)
    case = register(
        received_at=sh(2027, 12, 17, 9), at=sh(2027, 12, 17, 10),
        petitioners=[PetitionerInput(name="李四")],
    )
    routing = case.clocks.get(name="routing")
    assert (routing.due_at, routing.provisional) == (sh(2028, 1, 4), True)
    first_contact = case.clocks.get(name="first_contact")
    assert (first_contact.due_at, first_contact.provisional) == (sh(2027, 12, 21), True)

    # when 2027 is loaded
    row = load_2027(at=sh(2027, 12, 17, 11))

    # then routing is unchanged and still provisional; the clocks that ended in 2027 are settled
    routing.refresh_from_db()
    assert (routing.due_at, routing.provisional) == (sh(2028, 1, 4), True)
    event = case.events.get(type="clock_recomputed")
    names = [c["clock"] for c in event.payload["clocks"]]
    assert "routing" not in names and "first_contact" in names
    assert all(c["provisional"] is False for c in event.payload["clocks"])
    assert row.recomputed_clocks == len(names)


def test_a_stopped_clock_is_not_recomputed(register):
    case = register(received_at=sh(2026, 12, 17, 9), at=sh(2026, 12, 17, 10))
    Clock.objects.filter(case=case, name="routing").update(
        status=Clock.Status.STOPPED, stopped_at=sh(2026, 12, 20), met=True
    )

    row = load_2027()

    assert case.clocks.get(name="routing").due_at == sh(2027, 1, 2)
    assert row.recomputed_clocks == 0
    assert not CaseEvent.objects.filter(type="clock_recomputed").exists()


def test_replacing_a_year_recomputes_settled_clocks_it_moves(register, django_user_model):
    # given a case whose 3-day first-visit clock rolls over the shipped 2026 国庆节 (10-01…10-08)
    case = register(received_at=sh(2026, 9, 28, 9), at=sh(2026, 9, 28, 10))
    visit = case.clocks.get(name="first_visit_notice")
    assert (visit.due_at, visit.provisional) == (sh(2026, 10, 9), False)
    unmoved = {c.name: c.due_at for c in case.clocks.exclude(name="first_visit_notice")}
    admin = django_user_model.objects.create(username="sysadmin1")

    # when an administrator replaces 2026 with a notice where 国庆节 is 10-01…10-03 only
    row = calendar_load(
        text="year 2026\nholiday 2026-10-01 2026-10-03 国庆节\n", source="notice-2026-fix.txt",
        by=admin, replace=True, at=sh(2026, 9, 29, 9),
    )

    # then the clock rolls only to Monday 10-05, and the history names the replaced source
    visit.refresh_from_db()
    assert (visit.due_at, visit.provisional) == (sh(2026, 10, 6), False)
    assert {c.name: c.due_at for c in case.clocks.exclude(name="first_visit_notice")} == unmoved
    assert not case.clocks.filter(provisional=True).exists()
    assert row.recomputed_clocks == 1
    event = case.events.get(type="clock_recomputed")
    assert event.payload["replaced"] == SHIPPED_SOURCE
    assert event.payload["loaded_by"] == "sysadmin1"
    assert event.payload["clocks"] == [
        {
            "clock": "first_visit_notice",
            "label": visit.label,
            "old_due": "2026-10-09T00:00:00+08:00",
            "new_due": "2026-10-06T00:00:00+08:00",
            "provisional": False,
        }
    ]


def test_replacing_a_year_leaves_a_weekly_batch_on_its_friday(jurisdiction):
    # given: a city referral answered on Monday 2026-09-28, due in 建安区's weekly batch on
    # Friday 10-02 10:00 (seed 001 二(五): a fixed hour, whatever the holidays)
    walk = delivered_referral(jurisdiction("jianan"), delivered_at=sh(2026, 9, 28, 15))
    batch = walk.clock("report_back:weekly_referral_batch")
    assert (batch.due_at, batch.provisional) == (sh(2026, 10, 2, 10), False)

    # when: 2026 is replaced by a notice that moves other deadlines of the case
    row = calendar_load(text="year 2026\nholiday 2026-10-01 2026-10-03 国庆节\n",
                        source="notice-2026-fix.txt", replace=True, at=sh(2026, 9, 29, 9))

    # then: the batch is still due Friday 10:00 — not at its own start, 09-28 15:00, which made
    # it overdue at once — and the history does not list it among the clocks that moved
    batch.refresh_from_db()
    assert (batch.due_at, batch.provisional) == (sh(2026, 10, 2, 10), False)
    assert batch.explanation[-1] == "期限：2026-10-02 10:00"
    moved = [c["clock"] for e in walk.case.events.filter(type="clock_recomputed")
             for c in e.payload["clocks"]]
    assert "report_back:weekly_referral_batch" not in moved
    assert row.recomputed_clocks == len(moved)


def test_a_year_another_process_loaded_is_seen_after_the_recheck_interval(monkeypatch):
    """A web worker that did not load the year itself sees it within ``RECHECK_SECONDS``."""
    from xinfang.rules import store

    monkeypatch.setattr(store, "RECHECK_SECONDS", 5.0)
    now = [1000.0]
    monkeypatch.setattr(store, "monotonic", lambda: now[0])
    assert not working_calendar().is_loaded(2027)
    # As `xinfang calendar load` in another process would: the row, not this process's cache.
    CalendarYear.objects.create(year=2027, text=NOTICE_2027.read_text(encoding="utf-8"),
                                source=NOTICE_2027.name)
    now[0] += 4.0
    assert not working_calendar().is_loaded(2027)
    now[0] += 1.5
    assert working_calendar().is_loaded(2027)


def test_a_control_character_in_the_notice_is_refused_naming_its_line():
    # given: a NUL pasted into a comment (the command reads the file as it is; PostgreSQL
    # refuses NUL in the stored text)
    lines = NOTICE_2027.read_text(encoding="utf-8").splitlines()
    lines.insert(1, "# 国务院办公厅\x00通知")
    # when
    with pytest.raises(NoticeError) as refused:
        calendar_load(text="\n".join(lines), source=NOTICE_2027.name)
    # then
    assert [e.message for e in refused.value.errors] == [
        "第2行：含有控制字符（U+0000），通知文件应为纯文本"
    ]
    assert not CalendarYear.objects.filter(year=2027).exists()


# --- telling the administrator a year waits to be loaded ------------------------------------


@pytest.fixture
def on_dec_18(monkeypatch):
    """The services' clock on 2026-12-18: 2026 ships, 2027 is the first year not loaded."""
    from types import SimpleNamespace

    from django.utils import timezone

    from xinfang.rules import services

    monkeypatch.setattr(services, "timezone", SimpleNamespace(
        now=lambda: sh(2026, 12, 18, 9), localtime=timezone.localtime))


def test_calendar_ahead_counts_the_deadlines_falling_in_the_first_year_not_loaded(register):
    # given two cases whose routing clocks end on 2027-01-02, counted on weekends alone
    register(received_at=sh(2026, 12, 17, 9), at=sh(2026, 12, 17, 10))
    register(received_at=sh(2026, 12, 17, 11), at=sh(2026, 12, 17, 12))
    later = Clock.objects.exclude(status=Clock.Status.STOPPED).filter(due_at__gte=sh(2027, 1, 1))
    owing = later.filter(provisional=True)
    assert owing.count() >= 2
    # a limit in natural days that does not roll to a working day waits for no notice
    assert later.filter(provisional=False).exists()

    # then the administrator is owed 2027, with every unstopped clock falling due in it or later
    ahead = calendar_ahead(now=sh(2026, 12, 18, 9))
    assert (ahead.year, ahead.clocks) == (2027, owing.count())
    # a stopped clock is not waiting for anything
    Clock.objects.filter(pk=owing.first().pk).update(status=Clock.Status.STOPPED)
    assert calendar_ahead(now=sh(2026, 12, 18, 9)).clocks == ahead.clocks - 1

    # when 2027 is loaded, nothing falls due in 2028: nothing is owed
    load_2027(at=sh(2026, 12, 18, 9))
    assert calendar_ahead(now=sh(2026, 12, 18, 9)) is None


def test_the_administrators_landing_page_and_the_calendar_page_say_a_year_waits(
    register, jianan, on_dec_18, client,
):
    # given deadlines counted into 2027, which is not loaded
    register(received_at=sh(2026, 12, 17, 9), at=sh(2026, 12, 17, 10))
    client.force_login(jianan.member("sysadmin").user)

    # then the system administrator's landing page says so, with the way to load it
    body = client.get("/admin/units/").content.decode()
    assert 'id="calendar-ahead"' in body and "2027年节假日安排尚未载入" in body
    assert 'href="/rules/calendar/"' in body
    assert "2027年节假日安排尚未载入" in client.get("/rules/calendar/").content.decode()

    # when it is loaded, neither page says it any more
    load_2027(at=sh(2026, 12, 18, 9))
    assert 'id="calendar-ahead"' not in client.get("/admin/units/").content.decode()
    assert 'id="calendar-ahead"' not in client.get("/rules/calendar/").content.decode()


def test_doctor_names_the_year_to_load_and_the_deadlines_waiting_for_it(register, on_dec_18):
    from io import StringIO

    from django.core.management import call_command

    register(received_at=sh(2026, 12, 17, 9), at=sh(2026, 12, 17, 10))
    out = StringIO()
    call_command("doctor", stdout=out)
    assert "! 节假日安排：2027年尚未载入" in out.getvalue()
    assert "xinfang calendar load" in out.getvalue()

    load_2027(at=sh(2026, 12, 18, 9))
    out = StringIO()
    call_command("doctor", stdout=out)
    assert "✓ 节假日安排" in out.getvalue()
