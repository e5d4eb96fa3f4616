"""The supervision page: late and warned cases, warning notices and their follow-up, leader-owned
and backlog cases, the profile's targets and the cases by category and township as inline SVG."""

import re

import pytest
from django.db import connection
from django.urls import reverse

from tests.conftest import register_in
from xinfang.cases.models import WarningNotice
from xinfang.cases.rates import TargetResult
from xinfang.cases.services import DemandInput
from xinfang.registers.services import backlog_designate
from xinfang.web.charts import count_chart, target_chart

from .conftest import signed_in

pytestmark = pytest.mark.django_db


def section(html: str, key: str) -> str:
    return html.split(f'id="{key}"', 1)[1].split("</section>", 1)[0]


def test_late_and_warned_cases_and_the_warning_notices(jurisdiction):
    # given a level-skipping petition in 沥海街道, whose profile issues a written warning notice
    # (预警提醒单) with a 7-working-day follow-up; registered in September, so late by now
    j = jurisdiction("lihai")
    warned = register_in(j, level_skipping=True)
    notice = WarningNotice.objects.get(case=warned)
    assert notice.follow_up is not None
    # when
    html = signed_in(j.member("inspector")).get(reverse("web:supervision")).content.decode()
    # then
    assert warned.number in section(html, "late")
    notices = section(html, "notices")
    assert warned.number in notices and "越级访" in notices
    assert "未回复" in notices and "已超期" in notices  # the follow-up clock ran out


def test_leader_owned_cases(jianan, register):
    case = register()
    approver = jianan.member("approver")
    from datetime import date

    backlog_designate(
        by=approver,
        case=case,
        owner_leader=approver.user,
        reason="久拖未决",
        plan="包案化解",
        plan_deadline=date(2026, 12, 31),
    )
    html = signed_in(jianan.member("chief")).get(reverse("web:supervision")).content.decode()
    owned = section(html, "owned")
    assert case.number in owned and "王建国" in owned


def test_the_charts_are_inline_svg_with_classes_and_no_style(jianan, register):
    register(
        township=jianan.townships["五女店镇"],
        village=jianan.villages["魏庄村"],
        demands=[DemandInput(text="要求报销", category="医疗保障")],
    )
    register()
    html = signed_in(jianan.member("approver")).get(reverse("web:supervision")).content.decode()
    for chart in ("chart-category", "chart-township"):
        figure = html.split(f'id="{chart}"', 1)[1].split("</figure>", 1)[0]
        assert "<svg" in figure and 'class="bar tone-plain"' in figure
        assert "style" not in figure
    category = html.split('id="chart-category"', 1)[1].split("</figure>", 1)[0]
    assert "医疗保障" in category and "危房改造" in category
    township = html.split('id="chart-township"', 1)[1].split("</figure>", 1)[0]
    assert "五女店镇" in township and "将官池镇" in township
    # jianan's profile names no targets
    assert "未设定考核指标" in section(html, "targets")


def test_targets_are_drawn_against_their_thresholds(jurisdiction):
    # given a county under kaijiang's profile (reply 100 %, satisfaction ≥ 90 % …) with one case
    j = jurisdiction("kaijiang")
    register_in(j)
    html = signed_in(j.member("chief")).get(reverse("web:supervision")).content.decode()
    targets = section(html, "targets")
    assert "答复率" in targets and 'class="threshold"' in targets
    assert targets.count("<rect") >= 4
    assert "无可计算件" in targets or "未达标" in targets


def test_the_chart_geometry():
    chart = count_chart([("甲", 3), ("乙", 10), ("丙", 0)])
    assert [b.label for b in chart.bars] == ["乙", "甲", "丙"]
    widest = chart.bars[0]
    assert 0 < widest.width <= chart.plot_w and chart.bars[2].width == 0
    assert [t.text for t in chart.ticks] == ["0", "5", "10", "15", "20"]
    assert count_chart([]).bars == []

    results = [
        TargetResult("replied", "答复率", 4, 4, 1.0, ""),
        TargetResult("satisfaction", "满意率", 1, 2, 0.9, ""),
        TargetResult("resolved", "化解率", 0, 0, 1, ""),
    ]
    bars = target_chart(results).bars
    assert [b.tone for b in bars] == ["met", "unmet", "none"]
    assert [b.text for b in bars] == ["100%", "50%", "—"]
    assert bars[1].threshold_text == "90%" and bars[1].threshold_x > bars[1].width


def test_the_page_has_no_inline_style_or_script(jianan, register):
    register()
    html = signed_in(jianan.member("inspector")).get(reverse("web:supervision")).content.decode()
    assert not re.search(r"\sstyle=", html) and not re.search(r"<script(?![^>]*\bsrc=)", html)


def test_backlog_lines_without_a_deadline_come_in_the_order_entered(jianan):
    """The sweep enters backlog lines with no deadline: the page lists them in one order on
    every reload (by id), not in whatever order a parallel plan returns them."""
    from django.utils import timezone

    from xinfang.registers.backlog import backlog_enter
    from xinfang.registers.models import BacklogCase

    cases = [register_in(jianan) for _ in range(3)]
    for case in reversed(cases):  # entered last-registered first
        backlog_enter(case=case, entry=BacklogCase.Entry.UNSETTLED, at=timezone.now(),
                      event=False)
    lines = list(BacklogCase.objects.order_by("pk").values_list("case__number", flat=True))
    html = signed_in(jianan.member("chief")).get(reverse("web:supervision")).content.decode()
    shown = section(html, "backlog")
    assert [shown.index(n) for n in lines] == sorted(shown.index(n) for n in lines)


def test_a_backlog_line_without_an_owner_shows_a_dash_not_none(jianan):
    """包案人: the leader, else the owner as written (an imported line), else "—" — never the
    word None (the sweep's lines have no owner yet)."""
    from django.utils import timezone

    from xinfang.registers.backlog import backlog_enter
    from xinfang.registers.models import BacklogCase

    plain, written = register_in(jianan), register_in(jianan)
    for case in (plain, written):
        backlog_enter(case=case, entry=BacklogCase.Entry.UNSETTLED, at=timezone.now(),
                      event=False)
    BacklogCase.objects.filter(case=written).update(owner_leader_text="王副区长")
    html = signed_in(jianan.member("chief")).get(reverse("web:supervision")).content.decode()
    shown = section(html, "backlog")
    assert "None" not in shown
    rows = {number: shown[shown.index(number):].split("</tr>")[0]
            for number in (plain.number, written.number)}
    assert "包案人\">—</td>" in rows[plain.number], rows[plain.number]
    assert "王副区长" in rows[written.number], rows[written.number]


def _keep_two_from_doors(j, cases) -> None:
    """The approver recused from ``cases[0]``; the inspector's unit, where the approver also
    sits, is a respondent of ``cases[1]``."""
    from xinfang.cases.models import Respondent
    from xinfang.security.models import Recusal

    Recusal.objects.create(user=j.member("approver").user, case=cases[0], reason="本人亲属")
    Respondent.objects.create(case=cases[1], unit=j.member("inspector").unit, name="被反映单位")


def _office_reads(j):
    """(role, scope, figures) for each office reader, read through its own door."""
    from xinfang.cases.selectors import cases_for
    from xinfang.web.supervision import page_figures

    for role in ("chief", "approver", "inspector"):
        m = j.member(role)
        scope = cases_for(m)
        figures = page_figures(m, scope)
        assert figures.within is not None  # an office door: the read by jurisdiction
        yield role, scope, figures


@pytest.fixture(params=["listed", "too big to list"])
def door_size(request, monkeypatch):
    """An office door that lists its subtree's ids, and one too big to (a province's or a big
    city's: ``MAX_LISTED_UNITS``), which reads its rows by the offices under its path."""
    from xinfang.cases import selectors

    if request.param != "listed":
        monkeypatch.setattr(selectors, "MAX_LISTED_UNITS", 3)
    return request.param


def test_the_backlog_read_by_jurisdiction_equals_the_lines_through_the_door(jianan, jurisdiction,
                                                                           door_size):
    """An office reader's backlog lines are read by their own jurisdiction, with the cases its
    door keeps from it tested by id: the same lines, in the same order, as the lines whose case
    is in its scope — with a recusal, a respondent unit and another county's line."""
    from django.utils import timezone

    from xinfang.registers.backlog import backlog_enter
    from xinfang.registers.models import BacklogCase
    from xinfang.web.supervision import backlog_in

    other = jurisdiction("kaijiang")
    cases = [register_in(jianan) for _ in range(4)] + [register_in(other)]
    for case in cases:
        backlog_enter(case=case, entry=BacklogCase.Entry.UNSETTLED, at=timezone.now(),
                      event=False)
    BacklogCase.objects.filter(case=cases[3]).update(resolved_at=timezone.now())
    _keep_two_from_doors(jianan, cases)
    seen = {}
    for role, scope, figures in _office_reads(jianan):
        old, new = backlog_in(scope), backlog_in(scope, figures)
        assert list(new) == list(old) and new.count() == old.count()
        seen[role] = {line.case_id for line in new}
    assert seen["chief"] == {cases[0].pk, cases[1].pk, cases[2].pk}
    # the approver sits in the inspector's unit: the respondent case is kept from both
    assert seen["approver"] == {cases[2].pk}
    assert seen["inspector"] == {cases[0].pk, cases[2].pk}


def test_the_backlog_register_reads_the_lines_the_door_asked_of_each_would(jianan, jurisdiction,
                                                                           door_size):
    """The office's backlog register (积案台账) asks the door only of the lines whose case it
    may keep from the reader (``figures.services.without_kept_out``): the same lines as the
    door asked of every line, with a recusal, a respondent unit, another county's line and an
    imported line without a case."""
    from django.db.models import Q
    from django.utils import timezone

    from xinfang.cases.selectors import visible_case
    from xinfang.registers.backlog import backlog_enter
    from xinfang.registers.models import BacklogCase
    from xinfang.registers.selectors import backlog_for

    other = jurisdiction("kaijiang")
    cases = [register_in(jianan) for _ in range(3)] + [register_in(other)]
    for case in cases:
        backlog_enter(case=case, entry=BacklogCase.Entry.UNSETTLED, at=timezone.now(),
                      event=False)
    BacklogCase.objects.create(jurisdiction=jianan.county, entry=BacklogCase.Entry.IMPORTED,
                               person_name="张某", reason="多年未结", designated_at=timezone.now())
    _keep_two_from_doors(jianan, cases)
    seen = {}
    for role in ("clerk", "chief", "approver", "inspector"):
        m = jianan.member(role)
        asked_of_each = BacklogCase.objects.filter(Q(case__isnull=True) | Q(visible_case(m)),
                                                   jurisdiction=jianan.county)
        got = backlog_for(m)
        assert sorted(got.values_list("pk", flat=True)) == sorted(
            asked_of_each.values_list("pk", flat=True)), role
        seen[role] = set(got.values_list("case_id", flat=True))
    assert seen["chief"] == {None, cases[0].pk, cases[1].pk, cases[2].pk}
    # the approver sits in the inspector's unit: the respondent case is kept from both
    assert seen["approver"] == {None, cases[2].pk}
    assert seen["inspector"] == {None, cases[0].pk, cases[2].pk}


def test_the_backlog_register_lists_open_lines_first_by_deadline_on_either_database(jianan):
    """Open lines first, the soonest deadline first, lines without one after them, resolved
    lines last — where the databases, left to themselves, put empty values at opposite ends
    (PostgreSQL listed the resolved lines first). The supervision page's open lines the same."""
    from datetime import date

    from django.utils import timezone

    from xinfang.cases.selectors import cases_for
    from xinfang.registers.backlog import backlog_enter
    from xinfang.registers.models import BacklogCase
    from xinfang.registers.selectors import register_access
    from xinfang.web.supervision import backlog_in
    from xinfang.web.views.registers import _backlog_rows

    cases = [register_in(jianan) for _ in range(4)]
    for case in cases:
        backlog_enter(case=case, entry=BacklogCase.Entry.UNSETTLED, at=timezone.now(),
                      event=False)
    late, soon, none, resolved = cases
    BacklogCase.objects.filter(case=late).update(plan_deadline=date(2026, 12, 30))
    BacklogCase.objects.filter(case=soon).update(plan_deadline=date(2026, 12, 10))
    BacklogCase.objects.filter(case=resolved).update(plan_deadline=date(2026, 11, 1),
                                                     resolved_at=timezone.now())
    m = jianan.member("chief")
    rows = _backlog_rows(m, register_access(m).home)
    assert [b.case_id for b in rows] == [soon.pk, late.pk, none.pk, resolved.pk]
    assert [b.case_id for b in backlog_in(cases_for(m))] == [soon.pk, late.pk, none.pk]
    # the order's index (``registers`` 0004, written per database) serves the page's statement
    from django.db import connection

    with connection.cursor() as cursor:
        assert "backlog_register_order" in connection.introspection.get_constraints(
            cursor, "registers_backlogcase")
        if connection.vendor == "postgresql":
            cursor.execute("SET enable_seqscan = off")
    try:
        plan = rows.all()[:50].explain()
    finally:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET enable_seqscan = on")
    assert "backlog_register_order" in plan, plan


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="the open lines' index by deadline is PostgreSQL's (registers 0005)")
def test_the_open_backlog_lines_of_many_jurisdictions_come_in_order_off_an_index(jianan):
    """A wide reader's supervision page lists the open lines of many jurisdictions at once: by
    ``backlog_register_order`` (jurisdiction first) PostgreSQL sorted every open line of the
    province for twenty (48,583 after a sweep at 1M, on disk). With that index made dear, the
    plan shows the lines come off ``backlog_open_by_deadline`` in the page's order, unsorted."""
    from django.utils import timezone

    from xinfang.cases.selectors import cases_for
    from xinfang.registers.backlog import backlog_enter
    from xinfang.registers.models import BacklogCase
    from xinfang.web.supervision import backlog_in

    for _ in range(3):
        backlog_enter(case=register_in(jianan), entry=BacklogCase.Entry.UNSETTLED,
                      at=timezone.now(), event=False)
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX backlog_register_order")  # inside the test's transaction
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
    plan = backlog_in(cases_for(jianan.member("chief")))[:20].explain()
    assert "backlog_open_by_deadline" in plan, plan
    assert "Sort Key: registers_backlogcase" not in plan, plan


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="the open lines' index by office is PostgreSQL's (registers 0006)")
def test_an_offices_open_backlog_lines_are_counted_off_their_own_index(jianan):
    """The supervision page counts an office reader's open backlog lines by their jurisdiction
    (``in_door`` with the page's figures). Through the jurisdiction's index PostgreSQL read
    every line of the county to keep the open ones (1,497 heap blocks at 1M cases); the count
    now reads ``backlog_open_by_office`` alone — with the other indexes of the table made dear,
    as they are on a busy county's data."""
    from django.utils import timezone

    from xinfang.cases.selectors import cases_for
    from xinfang.registers.backlog import backlog_enter
    from xinfang.registers.models import BacklogCase
    from xinfang.web.supervision import COUNT_CAP, backlog_in, page_figures

    for _ in range(3):
        backlog_enter(case=register_in(jianan), entry=BacklogCase.Entry.UNSETTLED,
                      at=timezone.now(), event=False)
    m = jianan.member("chief")
    scope = cases_for(m)
    lines = backlog_in(scope, page_figures(m, scope))
    assert lines.count() == 3
    with connection.cursor() as cursor:
        for name in ("backlog_register_order", "backlog_open_by_deadline"):
            cursor.execute(f"DROP INDEX {name}")  # inside the test's transaction
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = lines.order_by().values("pk")[:COUNT_CAP + 1].explain()  # the page's capped count
    assert "backlog_open_by_office" in plan, plan


def test_the_notices_read_by_jurisdiction_equal_the_notices_through_the_door(jianan,
                                                                             jurisdiction,
                                                                             door_size):
    """An office reader's warning notices are read by their own jurisdiction (the case's, kept
    on the notice), with the cases its door keeps from it tested by id: the same rows, in the
    same order, as the notices whose case is in its scope."""
    from django.utils import timezone

    from xinfang.web.supervision import warning_rows

    other = jurisdiction("kaijiang")
    cases = [register_in(jianan) for _ in range(4)] + [register_in(other)]
    for k, case in enumerate(cases):
        WarningNotice.objects.create(case=case, jurisdiction_id=case.jurisdiction_id,
                                     rule="repeat", reasons=["重复信访"],
                                     issued_at=timezone.now(),
                                     answered_at=timezone.now() if k == 3 else None)
    _keep_two_from_doors(jianan, cases)
    now = timezone.now()
    seen = {}
    for role, scope, figures in _office_reads(jianan):
        (old, old_total), (new, new_total) = (warning_rows(scope, now),
                                              warning_rows(scope, now, figures))
        assert [r.notice.pk for r in new] == [r.notice.pk for r in old]
        assert new_total == old_total
        seen[role] = [r.notice.case_id for r in new]
    # unanswered first, then the answered one
    assert seen["chief"][-1] == cases[3].pk
    assert set(seen["chief"]) == {cases[0].pk, cases[1].pk, cases[2].pk, cases[3].pk}
    # the approver sits in the inspector's unit: the respondent case is kept from both
    assert set(seen["approver"]) == {cases[2].pk, cases[3].pk}
    assert set(seen["inspector"]) == {cases[0].pk, cases[2].pk, cases[3].pk}


def test_a_notice_keeps_its_cases_jurisdiction(jurisdiction):
    # given a level-skipping petition in 沥海街道, whose profile issues a written notice
    j = jurisdiction("lihai")
    warned = register_in(j, level_skipping=True)
    # then the notice holds the case's jurisdiction, by which the office's page reads it
    notice = WarningNotice.objects.get(case=warned)
    assert notice.jurisdiction_id == warned.jurisdiction_id


def test_a_city_or_provinces_township_chart_draws_the_most_visited_and_sums_the_rest(
        jianan, register, monkeypatch):
    """A wide jurisdiction's townships are thousands: the chart keeps ``MOST_TOWNSHIPS`` bars,
    the most visited, and one bar for the rest with their count."""
    from xinfang.cases.selectors import cases_for
    from xinfang.web import supervision
    from xinfang.web.views.lists import page_figures

    for township, n in (("将官池镇", 3), ("五女店镇", 2), ("椹涧乡", 1)):
        for _ in range(n):
            register(township=jianan.townships[township], village=None)
    monkeypatch.setattr(supervision, "MOST_TOWNSHIPS", 2)
    m = jianan.member("approver")
    chart = supervision.counts_by(page_figures(m, cases_for(m)))["township"]
    assert [(b.full_label, b.value) for b in chart.bars] == [
        ("将官池镇", 3), ("五女店镇", 2), ("其余1个乡镇", 1)]
