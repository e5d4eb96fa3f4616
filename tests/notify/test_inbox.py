"""Notices written where events happen, and read through the permission door."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import register_in, sh
from tests.web.conftest import signed_in, walk
from xinfang.cases.errors import Refused
from xinfang.cases.models import Alert
from xinfang.cases.services import perform
from xinfang.cases.services.supervision import sweep
from xinfang.notify.admin_services import channel_create, notice_dismiss, notice_read
from xinfang.notify.models import ALERT_KINDS, Delivery, Kind, Notice, NoticeState
from xinfang.notify.outbox import fan_out
from xinfang.notify.selectors import inbox, unread_count
from xinfang.security.models import Recusal

pytestmark = pytest.mark.django_db


def test_assignment_reaches_lead_and_assisting_units_flagged_for_the_outbox(jianan):
    j = jianan
    channel_create(unit=j.townships["将官池镇"], name="镇钉钉群", format="webhook",
                   target="http://127.0.0.1:9/x", by=j.member("sysadmin"))
    case = walk(j, register_in(j), "assigned")
    notices = Notice.objects.filter(case=case, kind=Kind.ASSIGNED)
    assert {n.unit_id for n in notices} == {j.townships["将官池镇"].pk, j.bureaus["区民政局"].pk}
    assert all(n.role == "" and n.event_id for n in notices)
    # Every role of the township sees it; the bureau's handler sees its own.
    for key in ("township", "township_head", "proxy", "bureau"):
        assert [n.case_id for n in inbox(j.member(key))] == [case.pk], key
    assert not inbox(j.member("discipline")).exists()
    # The notices are written flagged for the outbox; the deliverer's fan-out makes the
    # township's channel's row (none for the bureau, which has no channel), once.
    assert all(n.outbox_pending for n in notices)
    assert fan_out() == 2 and fan_out() == 0
    deliveries = Delivery.objects.filter(notice__case=case)
    assert [d.notice.unit_id for d in deliveries] == [j.townships["将官池镇"].pk]
    assert deliveries.get().status == Delivery.Status.PENDING
    assert not Notice.objects.filter(outbox_pending=True).exists()


def test_a_refused_transition_writes_no_notice(jianan):
    j = jianan
    case = walk(j, register_in(j), "signed_off")
    with pytest.raises(Refused):
        perform("assign", case=case, by=j.member("clerk"), lead=j.townships["将官池镇"],
                assisting=[j.townships["将官池镇"]], receiver_name="陈晓东")
    assert not Notice.objects.exists()


def test_sweep_alerts_become_notices_once(jianan):
    j = jianan
    case = walk(j, register_in(j), "assigned")
    later = sh(2027, 6, 1, 9)
    sweep(at=later)
    alerts = Alert.objects.filter(case=case)
    assert alerts.exists()
    notices = Notice.objects.filter(kind__in=ALERT_KINDS)
    assert notices.count() == alerts.exclude(unit=None).count()
    sweep(at=later + timedelta(hours=1))  # again: nothing twice
    assert Notice.objects.filter(kind__in=ALERT_KINDS).count() == notices.count()
    overdue = Notice.objects.filter(kind=Kind.OVERDUE)
    assert overdue.exists() and all(n.needs_reason and n.clock_id for n in overdue)
    # The clerk (in the office under the county the alerts are addressed to) sees them.
    clerk_kinds = {n.kind for n in inbox(j.member("clerk"))}
    assert Kind.OVERDUE in clerk_kinds
    # The township handler sees those addressed to unit_handler at the lead unit.
    assert any(n.role == "unit_handler" for n in inbox(j.member("township")))


def test_inbox_goes_through_the_door_at_read_time(jianan):
    j = jianan
    case = walk(j, register_in(j), "assigned")
    township = j.member("township")
    assert unread_count(township) == 1
    # A recusal declared after the notice was written hides it.
    Recusal.objects.create(user=township.user, case=case, reason="亲属",
                           declared_at=sh(2026, 9, 20))
    township = type(township).objects.get(pk=township.pk)
    assert unread_count(township) == 0
    assert not inbox(township).exists()
    with pytest.raises(Refused):
        notice_dismiss(notice_id=Notice.objects.filter(unit=township.unit).get().pk, by=township)
    # Administrators never have an inbox.
    assert unread_count(j.member("sysadmin")) == 0


def test_read_and_dismiss_with_reason(jianan):
    j = jianan
    case = walk(j, register_in(j), "assigned")
    sweep(at=sh(2027, 6, 1, 9))
    clerk = j.member("clerk")
    before = unread_count(clerk)
    overdue = inbox(clerk).filter(kind=Kind.OVERDUE).first()
    assert notice_read(notice_ids=[overdue.pk], by=clerk, at=sh(2027, 6, 1, 10, 30)) == 1
    assert notice_read(notice_ids=[overdue.pk], by=clerk) == 0
    read = NoticeState.objects.get(notice=overdue, user=clerk.user)
    assert (read.read_at, read.dismissed_at, read.reason) == (sh(2027, 6, 1, 10, 30), None, "")
    assert unread_count(clerk) == before - 1
    # Another clerk of the same office still has it unread: the state is per user.
    with pytest.raises(Refused) as e:
        notice_dismiss(notice_id=overdue.pk, by=clerk)
    assert e.value.field == "reason"
    notice_dismiss(notice_id=overdue.pk, by=clerk, reason="已督促承办单位办结")
    state = NoticeState.objects.get(notice=overdue, user=clerk.user)
    assert state.dismissed_at and state.reason == "已督促承办单位办结"
    assert overdue.pk not in {n.pk for n in inbox(clerk)}
    assert overdue.pk in {n.pk for n in inbox(clerk, show="all")}
    from xinfang.audit.models import AuditEntry
    assert AuditEntry.objects.filter(action="notice_dismiss", object_id=str(case.pk)).exists()
    # Reading a notice outside the door does nothing.
    assert notice_read(notice_ids=[overdue.pk], by=j.member("bureau")) == 0


def _count_queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_bell_and_inbox_queries_are_flat(jianan):
    j = jianan
    walk(j, register_in(j), "assigned")
    township = j.member("township")
    from xinfang.cases.selectors import door_remember

    door_remember(township)
    unread_count(township)  # the request's first list reads the door's unit ids and recusals
    one_count = _count_queries(lambda: unread_count(township))
    one_list = _count_queries(lambda: list(inbox(township)))
    for n in range(8):
        walk(j, register_in(j, matter=f"第{n}件"), "assigned")
    door_remember(township)
    assert unread_count(township) == 9
    assert _count_queries(lambda: unread_count(township)) == one_count == 1
    assert _count_queries(lambda: list(inbox(township))) == one_list == 1


def _more_notices(j, n: int, *, apart: timedelta = timedelta(0)):
    """An assigned case's township handler, with ``n`` notices more ("第0条"…), each ``apart``
    after the one before; returns the handler."""
    case = walk(j, register_in(j), "assigned")
    township = j.member("township")
    one = Notice.objects.filter(unit=township.unit).first()
    Notice.objects.bulk_create([
        Notice(case=case, kind=one.kind, unit=township.unit, role=one.role, text=f"第{i}条",
               created_at=one.created_at + apart * i)
        for i in range(n)])  # fmt: skip
    return township


def test_the_bell_counts_to_its_cap_and_then_shows_99_plus(jianan):
    from xinfang.notify.context import BELL_CAP

    township = _more_notices(jianan, BELL_CAP + 5)
    total = unread_count(township)
    assert total == BELL_CAP + 6
    assert unread_count(township, cap=BELL_CAP) == BELL_CAP
    html = signed_in(township).get("/inbox/").content.decode()
    assert f'id="bell-count">{BELL_CAP - 1}+<' in html


def test_bell_in_header_counts_once_per_request(jianan, django_assert_max_num_queries):
    j = jianan
    walk(j, register_in(j), "assigned")
    client = signed_in(j.member("township"))
    page = client.get("/inbox/")
    html = page.content.decode()
    assert 'id="bell-count">1<' in html
    assert "已交办将官池镇（主办）" in html
    # An administrator's header has no bell.
    admin = signed_in(j.member("sysadmin")).get("/admin/channels/")
    assert 'id="bell"' not in admin.content.decode()


def test_inbox_page_queries_flat_and_one_bell_count(jianan):
    j = jianan
    walk(j, register_in(j), "assigned")
    client = signed_in(j.member("township"))
    client.get("/inbox/")

    def notice_counts(ctx):
        return [q for q in ctx.captured_queries
                if "notify_notice" in q["sql"] and "COUNT(" in q["sql"].upper()]

    with CaptureQueriesContext(connection) as one:
        assert client.get("/inbox/").status_code == 200
    for n in range(6):
        walk(j, register_in(j, matter=f"第{n}件"), "assigned")
    with CaptureQueriesContext(connection) as many:
        html = client.get("/inbox/").content.decode()
    assert 'id="bell-count">7<' in html
    assert len(many.captured_queries) == len(one.captured_queries)
    # The paginator's count and the bell's count; the bell's is computed once per request.
    with CaptureQueriesContext(connection) as work:
        assert client.get("/work/").status_code == 200
    assert len(notice_counts(work)) == 1


def test_supervision_order_rectification_and_rating_reach_their_units(jianan):
    from xinfang.documents.services import document_issue

    j = jianan
    case = walk(j, register_in(j), "in_progress")
    document_issue(case=case, code="D8", by=j.member("approver"),
                   params={"required_action": "三日内报送办理结果", "due_date": "2026年12月9日"})
    order = Notice.objects.get(kind=Kind.SUPERVISION_ORDER)
    assert order.unit == j.townships["将官池镇"] and order.needs_reason
    assert "三日内报送办理结果" in order.text and "2026年12月9日" in order.todo
    assert order.pk in {n.pk for n in inbox(j.member("township"))}
    # A letter sent back is a rectification request to the handling unit.
    case = perform("record_finding", case=case, by=j.member("township"),
                   findings={1: ("partly", "solved", "已核实")})
    case = perform("draft_letter", case=case, by=j.member("township"), body="经核查，部分属实。")
    case = perform("return_letter", case=case, by=j.member("approver"), reason="依据不充分")
    back = Notice.objects.get(kind=Kind.RECTIFICATION)
    assert back.unit == j.townships["将官池镇"] and "依据不充分" in back.text
    # A proposal sent back goes to the office's clerks.
    other = walk(j, register_in(j, matter="另一件"), "proposed")
    perform("return_proposal", case=other, by=j.member("approver"), reason="请补充核实")
    assert Notice.objects.filter(kind=Kind.RECTIFICATION, case=other).get().pk in {
        n.pk for n in inbox(j.member("clerk"))}
    # An unsatisfied rating asks the office to weigh a review.
    rated = walk(j, register_in(j, matter="第三件"), "delivered")
    perform("record_rating", case=rated, by=j.member("clerk"), rating="unsatisfied")
    rating = Notice.objects.filter(kind=Kind.RATING, case=rated)
    assert {n.unit_id for n in rating} == {j.county.pk, j.townships["将官池镇"].pk}
    assert all(n.needs_reason and "不满意" in n.text for n in rating)


def test_the_inbox_pages_by_counting_only_past_the_asked_page(jianan, monkeypatch):
    """The inbox shows no total, only whether there is a next page: it counts one row past the
    asked page, and a page past the end shows the last one."""
    from xinfang.notify import views

    township = _more_notices(jianan, 4, apart=timedelta(minutes=1))  # five with its own
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    client = signed_in(township)

    def shown(page):
        html = client.get("/inbox/", {"page": page} if page else {}).content.decode()
        return [f"第{i}条" for i in range(4) if f"第{i}条" in html], "下一页" in html

    assert shown(None) == (["第2条", "第3条"], True)
    assert shown(2) == (["第0条", "第1条"], True)
    assert shown(3) == ([], False)  # the assignment's own notice, last
    assert shown(9) == shown(3) and shown("x") == shown(None)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_inbox_rows_are_the_template_they_replaced(language):
    """An inbox page's rows written in Python (``inbox_rows_html``) and its "mark this page
    read" inputs are what the template's loops (kept under ``tests/web/oracles/``) wrote: a
    notice of a case, of a link, of neither; with a running, a stopped or no clock; unread,
    read, dismissed with and without a reason; asking a reason to dismiss or not; values that
    need escaping; times in the office's zone; in both languages."""
    import re
    from pathlib import Path
    from types import SimpleNamespace

    from django.template import Context, Template
    from django.utils import translation

    from xinfang.cases.models import Case
    from xinfang.notify.views import inbox_rows_html

    bad = '<b x="1">&\'</b>'
    at = sh(2026, 11, 25, 23, 30)
    case = Case(pk=9, number=f"N{bad}")

    def notice(pk, **kw):
        n = Notice(pk=pk, kind=kw.pop("kind", Kind.OVERDUE), text=bad, todo=bad,
                   created_at=at, **{k: v for k, v in kw.items()
                                     if k in ("case", "link", "needs_reason")})
        n.read_at, n.dismissed_at = kw.get("read_at"), kw.get("dismissed_at")
        n.dismiss_reason = kw.get("dismiss_reason", "")
        return n

    clock = {"clock": bad, "due_at": at, "left": "剩2天"}
    stopped = {"clock": "办理期限", "due_at": at, "left": ""}
    none = {"clock": "", "due_at": None, "left": ""}
    rows = [
        {"n": notice(1, case=case, needs_reason=True), **clock},
        {"n": notice(2, link=f"/practices/?a=1&b={bad}", kind="no-such-kind",
                     read_at=at), **stopped},
        {"n": notice(3, read_at=at, dismissed_at=at, dismiss_reason=bad), **none},
        {"n": notice(4, case=case, dismissed_at=at), **clock},
    ]
    back = f"/inbox/?show=all&x={bad}"
    token = "tok<en>"

    def norm(text) -> str:
        return re.sub(r" ?([<>]) ?", r"\1", re.sub(r"\s+", " ", str(text))).strip()

    oracle = Path(__file__).parent.parent / "web" / "oracles" / "inbox_rows.html"
    with translation.override(language):
        want = Template(oracle.read_text("utf-8")).render(Context({
            "rows": rows, "csrf_token": token,
            "request": SimpleNamespace(get_full_path=lambda: back)}))
        csrf = Template("{% csrf_token %}").render(Context({"csrf_token": token}))
        got = inbox_rows_html(rows, csrf=csrf, back=back)
    unread = "".join(f'<input type="hidden" name="notice" value="{r["n"].pk}">'
                     for r in rows if not r["n"].read_at)
    assert norm(f'<p id="unread">{unread}</p><table id="rows">{got}</table>') == norm(
        want.split("{% endcomment %}")[-1])
    assert "<b x" not in got and "2026-11-25 23:30" in got
