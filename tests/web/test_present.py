"""How clocks and history entries read on a page."""

from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import sh
from xinfang.cases.models import CaseEvent, Clock
from xinfang.web.present import clock_view, payload_summary
from xinfang.web.templatetags.web import deadline

NOW = sh(2026, 11, 25, 10, 0)


def clock(due, **kw):
    return Clock(
        name="x", label="办理期限", amount=1, unit="days", started_at=NOW, due_at=due, **kw
    )


@pytest.mark.parametrize(
    "due,tone,words",
    [
        (NOW - timedelta(hours=5), "overdue", "已超期5小时0分"),
        (NOW + timedelta(hours=3), "soon", "即将到期，剩余3小时0分"),
        (NOW + timedelta(days=2, hours=1), "ok", "剩余2天1小时"),
    ],
)
def test_a_running_clock_reads_red_amber_or_green_with_words(due, tone, words):
    view = clock_view(clock(due), NOW)
    assert (view.tone, view.text) == (tone, words)


def test_a_stopped_clock_says_whether_it_was_met():
    assert clock_view(clock(NOW, status="stopped", met=True), NOW).tone == "met"
    assert clock_view(clock(NOW, status="stopped", met=False), NOW).text == "已完成（超期）"


def test_a_window_closes_without_running_late():
    assert clock_view(clock(NOW - timedelta(days=1), kind="window"), NOW).tone == "closed"


def test_midnight_deadlines_read_as_24_00_of_the_day_before():
    assert deadline(sh(2026, 12, 3, 0, 0)) == "2026-12-02 24:00"
    assert deadline(sh(2026, 12, 3, 10, 0)) == "2026-12-03 10:00"


def test_a_payload_reads_in_chinese_with_choice_labels():
    event = CaseEvent(
        type="record_delivery",
        payload={
            "mode": "in_person",
            "receipt_signed": True,
            "delivered_at": "2026-10-09T02:00:00+00:00",
            "event": "letter_delivered",
            "document": 7,
        },
    )
    assert payload_summary(event) == [
        ("方式", "当面送达"),
        ("已签收回证", "是"),
        ("送达时间", "2026-10-09 10:00"),
    ]
    findings = CaseEvent(
        type="record_finding", payload={"findings": {"1": ["partly", "solved", ""]}}
    )
    assert payload_summary(findings) == [("核查认定", "第1项：部分属实")]


@pytest.mark.django_db
def test_the_history_is_written_as_the_template_wrote_it_and_escaped(jianan):
    # given a registered case, its first entry given a hostile payload line
    from django.utils import timezone

    from tests.conftest import register_in
    from xinfang.web.present import EventView, event_views, history_html

    case = register_in(jianan)
    event = case.events.select_related("actor", "actor_unit").get(seq=1)
    view = event_views([event])[0]
    hostile = EventView(event=event, label=view.label, role=view.role, from_state="",
                        to_state=view.to_state, lines=[("<b>键</b>", "<script>x</script>")])
    # when the history is written
    html = history_html([view, hostile])
    # then each entry has its time, label, states, actor and unit, and nothing is unescaped
    at = timezone.localtime(event.at)
    assert html.count("<li>") == 2
    assert f'<time datetime="{at.isoformat()}">{at:%Y-%m-%d %H:%M}</time>' in html
    assert f"<strong>{view.label}</strong>" in html
    assert f'<span class="muted">{view.to_state}</span>' in html
    assert f"{event.actor} {view.role} · {event.actor_unit}</p>" in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>" not in html
    assert "<dt>&lt;b&gt;键&lt;/b&gt;</dt>" in html


def test_the_row_writers_escape_every_cell_they_write():
    """The queue's and the ledger's rows are written as text, not through ``format_html``:
    every value in them — number, person, matter, categories, places, units, clock label —
    arrives escaped, in an attribute as in the text."""
    from types import SimpleNamespace

    from xinfang.web.present import ClockView, case_rows_html, ledger_rows_html

    bad = '<b x="1">&\'</b>'
    shown = "&lt;b x=&quot;1&quot;&gt;&amp;&#x27;&lt;/b&gt;"
    k = clock(NOW + timedelta(days=3))
    k.label = bad
    case = SimpleNamespace(
        pk=7, number=bad, matter=bad, state="registered", received_at=NOW, closed_at=NOW,
        township_id=1, township=SimpleNamespace(name=bad), village_id=2,
        village=SimpleNamespace(name=bad), lead_units=[bad],
        key_case=True, repeat_count=1, level_skipping=False, collective=False,
        exited_household=False, monitored_household=False, confidential=False)
    row = SimpleNamespace(case=case, petitioner=bad, categories=bad,
                          clocks=[ClockView(k, "ok", bad)])
    for html in (str(case_rows_html([row])),
                 str(ledger_rows_html([row], {"key_case": bad, "repeat": "重复信访",
                                              "level_skipping": "", "collective": "",
                                              "household": "", "confidential": ""}))):
        assert "<b x" not in html and "</b>" not in html, html
        assert shown in html
        assert 'title="截止 ' in html
        assert '<span class="clock-label">' + shown[:20] in html


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_case_table_is_the_template_it_replaced(language):
    """A queue bucket's and the supervision page's table of cases (``case_table_html``) is what
    its template (kept under ``oracles/``) wrote around the same rows, in both languages."""
    import re
    from types import SimpleNamespace

    from django.template import Context, Template
    from django.utils import translation

    from xinfang.web.present import ClockView, case_rows_html, case_table_html

    case = SimpleNamespace(pk=7, number="X<1>", matter="危房 & 补助", state="registered")
    rows = [SimpleNamespace(case=case, petitioner="王*", categories="危房改造",
                            clocks=[ClockView(clock(NOW + timedelta(days=3)), "ok", "3天")])]

    def norm(text) -> str:
        return re.sub(r" ?([<>]) ?", r"\1", re.sub(r"\s+", " ", str(text))).strip()

    oracle = (Path(__file__).parent / "oracles" / "case_table.html").read_text("utf-8")
    with translation.override(language):
        want = Template(oracle).render(Context({"rows_html": case_rows_html(rows)}))
        got = case_table_html(rows)
    assert norm(got) == norm(want)
    assert "X&lt;1&gt;" in got


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_supervision_rows_are_the_template_they_replaced(language):
    """The supervision page's warning notices, leader-owned cases and backlog lines written in
    Python (``notice_rows_html``, ``owned_rows_html``, ``backlog_lines_html``) are what its
    template's loops (kept under ``oracles/``) wrote: every branch, values that need escaping
    and cutting, times in the office's zone, in both languages."""
    import re
    from datetime import UTC, date

    from django.template import Context, Template
    from django.utils import translation

    from xinfang.cases.models import Case, WarningNotice
    from xinfang.org.models import User
    from xinfang.registers.models import BacklogCase
    from xinfang.web.present import (
        ClockView,
        backlog_lines_html,
        notice_rows_html,
        owned_rows_html,
    )
    from xinfang.web.supervision import NoticeRow

    bad = '<b x="1">&\'</b>'
    case = Case(pk=7, number=f"X{bad}", matter="危房改造补助" * 6 + bad, state="in_progress")
    late = (NOW + timedelta(hours=15, minutes=5)).astimezone(UTC)  # 01:05 the next day there
    notices = [
        NoticeRow(WarningNotice(case=case, issued_at=late, answered_at=None), bad,
                  ClockView(clock(NOW + timedelta(days=3)), "ok", bad)),
        NoticeRow(WarningNotice(case=case, issued_at=NOW, answered_at=late), "", None),
    ]
    leader = User(pk=3, username="leader", full_name=f"李{bad}")
    owned = [Case(pk=8, number="Y-1", matter=bad, state="extension_requested",
                  leader_owner=leader),
             Case(pk=9, number="Y-2", matter="短", state="no-such-state", leader_owner=leader)]
    lines = [BacklogCase(case=case, reason="久拖不决" * 9, owner_leader=leader,
                         plan_deadline=date(2026, 12, 31)),
             BacklogCase(case=case, reason=bad, owner_leader_text=bad),
             BacklogCase(case=case, reason="", owner_leader_text="")]

    def norm(text) -> str:
        return re.sub(r" ?([<>]) ?", r"\1", re.sub(r"\s+", " ", str(text))).strip()

    oracle = (Path(__file__).parent / "oracles" / "supervision_rows.html").read_text("utf-8")
    with translation.override(language):
        want = Template(oracle).render(Context({"notices": notices, "owned": owned,
                                                "backlog": lines}))
        got = (f'<table id="notices">{notice_rows_html(notices)}</table>'
               f'<table id="owned">{owned_rows_html(owned)}</table>'
               f'<table id="backlog">{backlog_lines_html(lines)}</table>')
    assert norm(got) == norm(want.split("{% endcomment %}")[-1])
    assert "<b x" not in got
    assert "2026-11-26 01:05" in got and re.search(r'tag ok">[^<]*2026-11-26', got)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_bar_chart_is_the_template_it_replaced(language):
    """A bar chart written in Python (``bar_chart_html``) is what its template (kept under
    ``oracles/``) wrote: counts and targets (with their threshold lines and float coordinates),
    labels that need escaping, and an empty chart, in both languages."""
    import re

    from django.template import Context, Template
    from django.utils import translation

    from xinfang.cases.rates import TargetResult
    from xinfang.web.charts import count_chart, target_chart
    from xinfang.web.present import bar_chart_html

    def norm(text) -> str:
        return re.sub(r" ?([<>]) ?", r"\1", re.sub(r"\s+", " ", str(text))).strip()

    bad = '<b x="1">&\'</b>'
    charts = [
        count_chart([(bad, 3), ("乙" * 20, 10), ("丙", 0)], rest=("其他", 7)),
        target_chart([TargetResult(name=f"k{i}", label=f"{bad}{i}", numerator=n, denominator=d,
                                   threshold=t, seed="") for i, (n, d, t) in enumerate(
                                       [(1, 3, 0.9), (7, 7, 1.0), (0, 0, 0.5)])]),
        count_chart([]),
    ]
    oracle = Template((Path(__file__).parent / "oracles" / "bar_chart.html").read_text("utf-8"))
    with translation.override(language):
        for chart in charts:
            want = oracle.render(Context({"chart": chart, "id": "c<1>", "title": bad}))
            got = bar_chart_html(chart, "c<1>", bad)
            assert norm(got) == norm(want)
            assert "<b x" not in got
    assert any(b.threshold_x is not None for b in charts[1].bars)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_audit_rows_are_the_template_they_replaced(language):
    """The auditor's page's rows written in Python (``audit_rows_html``) are what its template's
    loop (kept under ``oracles/``) wrote: a known and an unknown action, an entry without an
    actor, an address or a detail, values that need escaping, times in the office's zone."""
    import re
    from datetime import UTC

    from django.template import Context, Template
    from django.utils import translation

    from xinfang.audit.models import AuditEntry
    from xinfang.web.forms.admin import ACTION_LABELS
    from xinfang.web.present import audit_detail, audit_object, audit_rows_html

    bad = '<b x="1">&\'</b>'
    known = next(iter(ACTION_LABELS))
    entries = [
        AuditEntry(id=3, at=(NOW + timedelta(hours=15)).astimezone(UTC), actor_name=bad,
                   action=known, object_type="case", object_id=bad, ip="10.0.0.1",
                   detail={"change": "x", "role": "clerk", bad: bad, "name": ["甲", ""]}),
        AuditEntry(id=2, at=NOW, actor_name="", action=f"no-such{bad}", object_type=bad,
                   object_id="", ip="", detail={}),
    ]
    rows = [(e, audit_object(e.object_type, e.object_id), audit_detail(e.detail))
            for e in entries]
    for e in entries:  # what the template's lookup filter gave
        e.xf_label = ACTION_LABELS.get(e.action)

    def norm(text) -> str:
        return re.sub(r" ?([<>]) ?", r"\1", re.sub(r"\s+", " ", str(text))).strip()

    oracle = (Path(__file__).parent / "oracles" / "audit_rows.html").read_text("utf-8")
    with translation.override(language):
        want = Template(oracle).render(Context({"rows": rows}))
        got = audit_rows_html([(*row, False) for row in rows], ACTION_LABELS)
    assert norm(got) == norm(want.split("{% endcomment %}")[-1])
    assert "<b x" not in got and "2026-11-26 01:00:00" in got


def test_an_exports_case_numbers_are_shown_as_the_first_twenty_and_their_count():
    """An export's audit entry keeps every case number it contained; the auditor's page shows
    the first twenty and how many there are (a page of entries wrote every number: 3 MB after
    two exports of 100,000 rows), the entry's own page every one."""
    from xinfang.audit.services import brief_of
    from xinfang.web.present import AUDIT_KEYS, AUDIT_LIST_SHOWN, audit_detail

    numbers = [f"X{n:06d}" for n in range(100_000)]
    detail = {"cases": numbers, "few": numbers[:AUDIT_LIST_SHOWN]}
    lines = dict(audit_detail(detail))
    shown = lines[str(AUDIT_KEYS.get("cases", "cases"))]
    assert shown.startswith("、".join(numbers[:AUDIT_LIST_SHOWN]) + "…")
    assert numbers[AUDIT_LIST_SHOWN] not in shown and "100000" in shown and len(shown) < 400
    assert dict(audit_detail(detail, shown=None))[str(AUDIT_KEYS.get("cases", "cases"))] == (
        "、".join(numbers))
    assert brief_of(detail) is not None and brief_of({"few": detail["few"]}) is None
    assert lines["few"] == "、".join(numbers[:AUDIT_LIST_SHOWN])
    # the entry's brief (``AuditEntry.brief``, lead49) says the same in the list
    brief = brief_of(detail)
    assert brief["cut"] == {"cases": 100_000} and len(brief["detail"]["cases"]) == AUDIT_LIST_SHOWN
    assert audit_detail(brief["detail"], cut=brief["cut"]) == audit_detail(detail)
    assert brief_of({"few": detail["few"]}) is None


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_short_texts_are_cut_as_truncator_cuts_them(language):
    from django.utils import translation
    from django.utils.text import Truncator

    from xinfang.web.present import _short

    texts = ["", "办理期限", "反映危房改造补助未到位，要求落实", "e\u0301te\u0301", "\uf900\uf901",
             "ab\u0300\u0301c", "x" * 60, "危" * 48, "危" * 49]
    with translation.override(language):
        for text in texts:
            for n in range(0, 52):
                assert _short(text, n) == Truncator(text).chars(n), (text, n)


def test_a_clock_label_is_cut_in_each_language_as_truncator_cuts_it():
    """``_short_label`` keeps its cuts by language: the ellipsis is the language's."""
    from django.utils import translation
    from django.utils.text import Truncator

    from xinfang.web.present import _short_label

    label = "信访事项受理告知书送达期限"  # longer than the ledger's 14
    for language in ("zh-hans", "en", "zh-hans"):
        with translation.override(language):
            want = Truncator(label).chars(10)
            assert _short_label(label, 10, translation.get_language()) == want
    with translation.override("en"):
        english = Truncator(label).chars(10)
    with translation.override("zh-hans"):
        assert english != Truncator(label).chars(10)  # so the key must hold the language


@pytest.mark.django_db
def test_the_history_text_is_what_format_html_wrote(jianan):
    """The history is written as text; the same bytes as the ``format_html`` form it replaced
    (kept here as the oracle), for entries with and without states, unit and lines, and with
    values marked safe, lazy and hostile."""
    from django.utils import dateformat, timezone
    from django.utils.html import format_html, format_html_join
    from django.utils.safestring import mark_safe
    from django.utils.translation import gettext_lazy

    from tests.conftest import register_in
    from xinfang.web.present import EventView, event_views, history_html

    def oracle(views):
        out = []
        for ev in views:
            at = timezone.localtime(ev.event.at)
            states = ""
            if ev.from_state or ev.to_state:
                arrow = format_html("{} → ", ev.from_state) if ev.from_state else ""
                states = format_html('<span class="muted">{}{}</span>', arrow,
                                     ev.to_state or ev.from_state)
            unit = format_html(" · {}", ev.event.actor_unit) if ev.event.actor_unit_id else ""
            lines = ""
            if ev.lines:
                lines = format_html('<dl class="payload">{}</dl>',
                                    format_html_join("", "<dt>{}</dt><dd>{}</dd>", ev.lines))
            out.append(format_html(
                '<li>\n<div class="when"><time datetime="{}">{}</time></div>\n'
                '<div class="what">\n<p><strong>{}</strong>\n{}</p>\n<p class="muted">{} {}{}'
                '</p>\n{}\n</div>\n</li>\n',
                dateformat.format(at, "c"), dateformat.format(at, "Y-m-d H:i"), ev.label,
                states, ev.event.actor or "", ev.role, unit, lines))
        return "".join(out)

    case = register_in(jianan)
    events = list(case.events.select_related("actor", "actor_unit"))
    views = [event_views([e])[0] for e in events]
    first = events[0]
    views += [
        EventView(first, "<i>标签</i>", "角色&", "<a>", "", [("<b>键</b>", "<script>x</script>")]),
        EventView(first, mark_safe("<em>安全</em>"), gettext_lazy("全部"), "", "to'\"", []),
        EventView(CaseEvent(at=first.at, type="x"), "无人", "", "", "", [("k", mark_safe("<br>"))]),
    ]
    assert str(history_html(views)) == oracle(views)


@pytest.mark.django_db
def test_the_history_read_as_rows_is_written_as_the_events_were(jianan):
    """The case page reads its history as plain rows (``history_of``), not as events with
    their users and units: the same text, the actor by name or, without one, by username."""
    from tests.conftest import register_in
    from xinfang.cases.selectors import history_of
    from xinfang.org.models import User
    from xinfang.web.present import (
        event_label,
        event_views,
        history_html,
        role_label,
        state_label,
    )

    case = register_in(jianan)
    actors = case.events.exclude(actor=None).values_list("actor_id", flat=True)
    assert actors and case.events.exclude(actor_unit=None).exists()
    User.objects.filter(pk=actors[0]).update(full_name="")

    def as_events():
        events = case.events.select_related("actor", "actor_unit").order_by("seq")
        return str(history_html([event_views([e])[0] for e in events]))

    rows = history_of(case)
    assert [r.type for r in rows] == list(case.events.order_by("seq").values_list("type",
                                                                                  flat=True))
    assert str(history_html([event_views([r])[0] for r in rows])) == as_events()
    # Each distinct (type, role, states) put in words once: the same words as entry by entry.
    assert [(v.label, v.role, v.from_state, v.to_state) for v in event_views(rows)] == [
        (event_label(r.type), role_label(r.actor_role),
         state_label(r.from_state) if r.from_state else "",
         state_label(r.to_state) if r.to_state else "") for r in rows]
    assert str(history_html(event_views(rows))) == as_events()
    assert User.objects.get(pk=actors[0]).username in as_events()


# ``partials/field.html`` as the template language wrote it, before ``present.field_html``: the
# oracle the Python form is held to.
FIELD_TEMPLATE = (Path(__file__).parent / "oracles" / "field.html").read_text(encoding="utf-8")


def _oracle_forms():
    from django import forms
    from django.utils.safestring import mark_safe

    from xinfang.web.forms.common import PlainForm

    class Every(PlainForm):
        name = forms.CharField(label="姓名<b>", help_text="填写 & 核对", max_length=5)
        note = forms.CharField(label="备注", required=False, widget=forms.Textarea)
        agree = forms.BooleanField(label="同意", required=False, help_text="勾选")
        must = forms.BooleanField(label="已核实")  # unchecked in the bound form: its error
        kind = forms.ChoiceField(label="类别", choices=[("a", "甲"), ("b", "乙<")],
                                 widget=forms.RadioSelect, help_text=mark_safe("<i>说明</i>"))
        many = forms.MultipleChoiceField(label="多选", choices=[("x", "X")], required=False,
                                         widget=forms.CheckboxSelectMultiple)
        pick = forms.ChoiceField(label="选择", choices=[("", "—"), ("1", "一")])
        secret = forms.CharField(widget=forms.HiddenInput, required=False)
        when = forms.DateField(label="日期", required=False)

    blank = Every()
    bound = Every({"name": "toolong<>", "kind": "z", "pick": "", "when": "x", "secret": "s"})
    assert not bound.is_valid()
    no_ids = Every(auto_id=False)
    return [blank, bound, no_ids]


@pytest.mark.parametrize("wide", [False, True])
@pytest.mark.parametrize("live", ["", "name-live"])
def test_a_field_is_written_as_the_template_wrote_it(wide, live):
    from django.template import Context, Template
    from django.template.loader import render_to_string

    oracle = Template(FIELD_TEMPLATE)
    for form in _oracle_forms():
        for f in form:
            want = oracle.render(Context({"f": f, "wide": wide, "live": live}))
            got = render_to_string("web/partials/field.html", {"f": f, "wide": wide, "live": live})
            assert got == want, (f.name, got, want)


def test_the_split_tables_rows_are_the_templates_they_replace():
    """The supervision page's split table is written in Python (a province's thousands of units
    through the template were a quarter of the page): cell for cell what the template wrote,
    the unit's name escaped, every kind of result (met, missed, by definition, nothing to
    measure, a rate with a decimal)."""
    import re

    from django.template import engines

    from xinfang.cases.rates import TargetResult
    from xinfang.web.present import unit_rates_html
    from xinfang.web.supervision import UnitRates

    def result(numerator, denominator, threshold=0.9, by_construction=False):
        return TargetResult(name="x", label="答复率", numerator=numerator,
                            denominator=denominator, threshold=threshold, seed="",
                            by_construction=by_construction)

    rows = [UnitRates('<b x="1">&\'</b>', [result(9, 10), result(1, 3), result(0, 0)]),
            UnitRates("将官池镇", [result(5, 5, by_construction=True), result(37, 40),
                                 result(2, 8, threshold=0.0)])]
    template = engines["django"].from_string(
        '{% load i18n web %}{% for row in unit_rates %}<tr><th scope="row">{{ row.unit }}</th>'
        '{% for r in row.results %}<td>{{ r.numerator }} / {{ r.denominator }} · '
        '{{ r.rate|percent }}{% if r.by_construction %} <span class="muted">'
        '{% translate "按定义" %}</span>{% elif r.met is False %} <span class="tag bad">'
        '{% translate "未达标" %}</span>'
        '{% endif %}</td>{% endfor %}</tr>{% endfor %}')
    want = template.render({"unit_rates": rows})
    got = str(unit_rates_html(rows))
    assert got.replace("\n", "") == want
    assert "&lt;b x=&quot;1&quot;&gt;" in got and "33.3%" in got and "92.5%" in got
    assert len(re.findall("未达标", got)) == 1 and "按定义" in got and "0 / 0 · —</td>" in got


CLOCKS_TEMPLATE = (Path(__file__).parent / "oracles" / "case_clocks.html").read_text(
    encoding="utf-8")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_case_pages_clocks_are_the_template_they_replace(language):
    """The case page's clocks are written in Python: what the template wrote (kept as the
    oracle), each kind of clock — running, provisional, stopped, explained — with values that
    need escaping; HTML's whitespace between and around tags aside."""
    import re

    from django.template import Context, Template
    from django.utils import translation
    from django.utils.safestring import mark_safe

    from xinfang.web.present import clock_items_html

    def norm(text):
        return re.sub(r" ?([<>]) ?", r"\1", re.sub(r"\s+", " ", str(text))).strip()

    views = [
        clock_view(clock(NOW + timedelta(days=2)), NOW),
        clock_view(clock(NOW - timedelta(hours=3), provisional=True,
                         explanation=["起算：<收到>", "截止 & 顺延", mark_safe("<b>已核</b>")]),
                   NOW),
        clock_view(clock(NOW + timedelta(days=1), status=Clock.Status.STOPPED, met=False,
                         stopped_at=NOW + timedelta(days=2)), NOW),
        clock_view(Clock(name="y", label="时限<\"甲\">", amount=1, unit="days", started_at=NOW,
                         due_at=sh(2026, 11, 26, 0, 0)), NOW),
    ]
    with translation.override(language):
        want = Template(CLOCKS_TEMPLATE).render(Context({"clocks": views}))
        got = clock_items_html(views)
    assert norm(got) == norm(want) and "&lt;收到&gt;" in got and "<b>已核</b>" in got
    assert got.count('<li class="clock-row') == 4 and "24:00" in got


def _actions_oracle() -> str:
    """The case page's actions as its template wrote them, with ``action_fields.html`` inlined
    (both kept under ``oracles/``)."""
    here = Path(__file__).parent / "oracles"
    fields = (here / "action_fields.html").read_text(encoding="utf-8")
    return (here / "case_actions.html").read_text(encoding="utf-8").replace(
        '{% include "oracles/action_fields.html" with form=a.form %}',
        "{% with form=a.form %}" + fields + "{% endwith %}")


@pytest.mark.django_db
def test_the_case_pages_actions_are_the_template_they_replace(jianan):
    """Every action each role is offered on a case in each state, blank and bound with
    errors, folded open or not, is written as the template wrote it (HTML's whitespace
    between and around tags aside): the rules' proposals of an assignment, the findings of
    the demands, the bare one-button forms, and none at all."""
    import re

    from django.template import Context, Template
    from django.utils import timezone

    from tests.scale import copies
    from xinfang.cases.choices import State
    from xinfang.web.forms.actions import action_form
    from xinfang.web.present import actions_html
    from xinfang.web.views.cases import offered_actions

    def norm(text):
        return re.sub(r" ?([<>]) ?", r"\1", re.sub(r"\s+", " ", str(text))).strip()

    oracle = Template(_actions_oracle())
    csrf = Template("{% csrf_token %}").render(Context({"csrf_token": "tok<en>"}))
    now = timezone.now()
    township = jianan.townships["将官池镇"]
    seen, checked = set(), 0
    for state in State.values:
        case = copies(jianan, 1, state=state, unit=township, signed_for=state != "assigned")[0]
        for role in ("clerk", "approver", "chief", "township", "township_head", "proxy"):
            m = jianan.member(role)
            actions = []
            for i, name in enumerate(offered_actions(case, m)):
                form = action_form(name, case=case, membership=m, now=now,
                                   data={} if i == 0 else None)
                if i == 0:
                    form.is_valid()
                    form.add_error(None, "<已有错误> & 另一条")
                actions.append({"name": name, "label": f"办<{name}>", "step": "办",
                                "form": form, "open": i == 1})
                seen.add((name, form.has_inputs))
            want = oracle.render(Context({"actions": actions, "case": case,
                                          "csrf_token": "tok<en>"}))
            got = actions_html(actions, case_pk=case.pk, csrf=csrf)
            assert norm(got) == norm(want), (state, role)
            checked += len(actions)
    names = {name for name, _ in seen}
    assert {"assign", "record_finding", "propose"} <= names and checked > 20
    assert {True, False} <= {inputs for _, inputs in seen}
    assert "规则建议" in str(actions_html(
        [{"name": "assign", "label": "交办", "step": "转", "open": False,
          "form": action_form("assign", case=copies(jianan, 1, state="signed_off")[0],
                              membership=jianan.member("clerk"), now=now)}],
        case_pk=1, csrf=""))


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_case_pages_instruments_are_the_template_they_replace(language):
    """The 文书下载 block is written in Python: what its template wrote (kept as the oracle)
    for an issued instrument with and without a correction, one still to be issued, one that
    cannot be yet (not shown), with values that need escaping."""
    import re

    from django.template import Context, Template
    from django.utils import translation

    from xinfang.documents.models import IssuedDocument
    from xinfang.documents.selectors import Available
    from xinfang.documents.templatetags.documents import instruments_html

    def norm(text):
        return re.sub(r" ?([<>]) ?", r"\1", re.sub(r"\s+", " ", str(text))).strip()

    oracle = (Path(__file__).parent / "oracles" / "case_documents.html").read_text("utf-8")
    rows = [
        Available("D1", "受理告知书", IssuedDocument(version=2, issued_at=NOW, reason="错<字>&"),
                  "", 2),
        Available("D2", "转送<函>", IssuedDocument(version=1, issued_at=NOW, reason=""), "", 1),
        Available("D3", "答复意见书", None, "", 0),
        Available("D4", "不予受理告知书", None, "本件已受理", 0),
    ]

    class Case:
        pk = 42

    with translation.override(language):
        want = Template(oracle).render(Context({"case": Case, "rows": rows,
                                                "csrf_token": "tok<en>"}))
        got = instruments_html(42, rows, csrf=Template("{% csrf_token %}").render(
            Context({"csrf_token": "tok<en>"})), may_issue=True)
    assert norm(got) == norm(want)
    assert "错&lt;字&gt;&amp;" in got and "D4" not in got and got.count("<tr>") == 4
