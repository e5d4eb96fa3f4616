"""A form sent twice does its work once (``security.once``), form by form: each of the creates
with no natural key (a supervision order, a bulletin, a meeting's record, a watch-list review, a
field visit, a campaign and its task, a backlog progress line, a push channel). Each test reads
the token from the page as drawn for a user who may use the form — on a page of several forms,
from inside that form — sends the form twice, and finds one row, one of each line of history,
audit and notice the write writes, and the second send sent where the first went."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from tests.conftest import register_in
from tests.oversight.conftest import close_in_kaijiang
from xinfang.audit.models import AuditEntry
from xinfang.cases.models import CaseEvent
from xinfang.notify.models import Channel, Kind, Notice
from xinfang.oversight.models import SupervisionBulletin, SupervisionOrder
from xinfang.practices.models import Campaign, CampaignTask, FieldVisit, Meeting, WatchReview
from xinfang.practices.services import campaign_create, watch_add
from xinfang.registers.models import BacklogProgress
from xinfang.registers.services import backlog_designate
from xinfang.security.models import SubmittedForm
from xinfang.security.once import FIELD, once_token

from .conftest import signed_in

pytestmark = pytest.mark.django_db

TOLD = "这份表单已经提交过，未再次办理"


def token_in(html: str, form: str) -> str:
    """The one-time token inside the page's form whose opening tag holds ``form`` (its id, its
    action); the page must have that form, and the form a token."""
    for chunk in html.split("<form")[1:]:
        tag, _, rest = chunk.partition(">")
        if form in tag:
            found = re.search(rf'name="{FIELD}" value="([^"]+)"', rest.split("</form>", 1)[0])
            assert found, f"the form {form} carries no token"
            return found.group(1)
    raise AssertionError(f"no form {form} on the page")


def written() -> dict[str, int]:
    """How many rows of what a write leaves besides its own: history, audit, notices, tokens."""
    return {model.__name__: model.objects.count()
            for model in (CaseEvent, AuditEntry, Notice, SubmittedForm)}


def sent_twice(client, url: str, data: dict):
    """The form sent, then sent again: the second does nothing and goes where the first went,
    told so. Returns the first answer."""
    first = client.post(url, data)
    assert first.status_code == 302, first.content.decode()
    assert SubmittedForm.objects.get(token=data[FIELD]).answer == first["Location"]
    before = written()
    second = client.post(url, data)
    assert written() == before  # no history, audit, notice or token of its own
    assert second.status_code == 302 and second["Location"] == first["Location"]
    assert TOLD in client.get(second["Location"]).content.decode()
    return first


def today() -> date:
    return timezone.localdate()


def audited(action: str, object_type: str) -> int:
    return AuditEntry.objects.filter(action=action, object_type=object_type).count()


# -- oversight --------------------------------------------------------------------------------


def test_a_supervision_order_sent_twice_is_issued_once_with_one_notice(jurisdiction):
    # given the order form on a closed case, as drawn for the inspector
    j = jurisdiction("kaijiang")
    case = close_in_kaijiang(j)
    client = signed_in(j.member("inspector"))
    url = f"{reverse('oversight:order_new')}?case={case.pk}"
    token = token_in(client.get(url).content.decode(), 'class="card" novalidate')
    notices = Notice.objects.filter(kind=Kind.SUPERVISION_ORDER).count()
    # when it is sent twice
    first = sent_twice(client, url, {"matter": "请报告凭证",
                                     "due_on": (today() + timedelta(days=5)).isoformat(),
                                     FIELD: token})
    # then one order, one line in the case's history, one notice to the unit, one audit entry
    order = SupervisionOrder.objects.get()
    assert first["Location"] == reverse("oversight:order", args=[order.pk])
    assert case.events.filter(type="supervision_order_issued").count() == 1
    assert Notice.objects.filter(kind=Kind.SUPERVISION_ORDER).count() == notices + 1
    assert audited("oversight", "supervision_order") == 1


def test_a_bulletin_sent_twice_is_issued_once(jurisdiction):
    client = signed_in(jurisdiction("kaijiang").member("inspector"))
    url = reverse("oversight:bulletin_new")
    token = token_in(client.get(url).content.decode(), 'class="card" novalidate')
    first = sent_twice(client, url, {
        "title": "2026年督查通报", "period_start": (today() - timedelta(days=30)).isoformat(),
        "period_end": today().isoformat(), "summary": "本期督办情况", FIELD: token})
    bulletin = SupervisionBulletin.objects.get()
    assert first["Location"] == reverse("oversight:bulletin", args=[bulletin.pk])
    assert audited("oversight", "supervision_bulletin") == 1


# -- practices --------------------------------------------------------------------------------


def test_a_meetings_record_sent_twice_is_recorded_once(jianan):
    client = signed_in(jianan.member("township_head"))
    url = reverse("practices:meetings")
    token = token_in(client.get(url).content.decode(), 'id="meeting-form"')
    first = sent_twice(client, url, {
        "rule": "hazard_screening", "held_on": (today() - timedelta(days=1)).isoformat(),
        "chaired_by": "刘海", "attendees": "各村支书", "measures": "逐户走访", FIELD: token})
    assert first["Location"] == url
    assert Meeting.objects.count() == 1
    assert audited("practice_change", "meeting") == 1


def test_a_watch_list_review_sent_twice_is_one_review(jianan):
    # given a person on the watch list, and the review form of the entry's page for its owner
    j, case = jianan, register_in(jianan)
    entry = watch_add(by=j.member("clerk"), case_id=case.pk,
                      petitioner_id=case.petitioner_links.get().petitioner_id,
                      owner_id=j.member("township").pk, reason="越级访苗头",
                      plan="包村干部每周走访一次", status="watch")
    client = signed_in(j.member("township"))
    url = reverse("practices:watch_entry", args=[entry.pk])
    token = token_in(client.get(url).content.decode(), 'id="review-form"')
    assert token.startswith("review.")
    # when the review is sent twice, then one review
    first = sent_twice(client, url, {"action": "review", "r-status": "stable", "r-note": "稳定",
                                     FIELD: token})
    assert first["Location"] == url
    assert WatchReview.objects.filter(entry=entry).count() == 1
    assert audited("practice_change", "watch_review") == 1


def test_a_field_visit_sent_twice_is_recorded_once(jianan):
    j = jianan
    client = signed_in(j.member("township"))
    url = reverse("practices:duty")
    token = token_in(client.get(url).content.decode(), 'id="field-visit-form"')
    assert token.startswith("visit.")
    first = sent_twice(client, url, {
        "action": "visit", "v-village": j.villages["岗朱村"].pk,
        "v-visited_on": (today() - timedelta(days=1)).isoformat(), "v-note": "下访",
        FIELD: token})
    assert first["Location"] == url
    assert FieldVisit.objects.count() == 1
    assert audited("practice_change", "field_visit") == 1


def test_a_campaign_sent_twice_is_deployed_once(jianan):
    j = jianan
    client = signed_in(j.member("clerk"))
    url = reverse("practices:campaigns")
    token = token_in(client.get(url).content.decode(), 'id="campaign-form"')
    first = sent_twice(client, url, {
        "name": "积案大会战", "goals": "积案清零", "starts_on": "2026-03-01",
        "ends_on": "2026-12-31", "units": [j.townships["将官池镇"].pk], FIELD: token})
    campaign = Campaign.objects.get()
    assert first["Location"] == reverse("practices:campaign", args=[campaign.pk])
    assert audited("practice_change", "campaign") == 1


def a_campaign(j) -> Campaign:
    return campaign_create(by=j.member("clerk"), name="涉贫信访舆情专项整治", goals="五项活动",
                           starts_on=date(2026, 3, 1), ends_on=date(2026, 12, 31),
                           unit_ids=[j.townships["将官池镇"].pk])


def test_a_campaigns_task_sent_twice_is_added_once(jianan):
    j = jianan
    campaign = a_campaign(j)
    client = signed_in(j.member("clerk"))
    url = reverse("practices:campaign", args=[campaign.pk])
    token = token_in(client.get(url).content.decode(), 'id="task-form"')
    assert token.startswith("task.")
    first = sent_twice(client, url, {
        "action": "task", "t-unit": j.townships["将官池镇"].pk, "t-title": "一案一策",
        "t-due_on": "2026-11-30", FIELD: token})
    assert first["Location"] == url
    assert CampaignTask.objects.filter(campaign=campaign).count() == 1
    assert audited("practice_change", "campaign_task") == 1


# -- the backlog register and the push channels -----------------------------------------------


def test_a_backlog_lines_progress_sent_twice_is_recorded_once_on_that_line(jianan):
    # given two backlog lines, each with its own progress form and token on the register
    j = jianan
    approver = j.member("approver")
    lines = [backlog_designate(by=approver, case=register_in(j), owner_leader=approver.user,
                               reason="诉求超出政策", plan="包案走访",
                               plan_deadline=date(2026, 12, 31)) for _ in range(2)]
    client = signed_in(j.member("clerk"))
    page = client.get(reverse("web:backlog")).content.decode()
    url = reverse("web:backlog_progress", args=[lines[1].pk])
    token = token_in(page, f'action="{url}"')
    assert token != token_in(page, reverse("web:backlog_progress", args=[lines[0].pk]))
    # when the second line's progress is sent twice
    first = sent_twice(client, url, {"text": "已上门走访，情绪稳定", FIELD: token})
    # then one progress, on that line, one line of its case's history, one audit entry
    assert first["Location"] == f"{reverse('web:backlog')}#backlog-{lines[1].pk}"
    assert list(BacklogProgress.objects.values_list("backlog", flat=True)) == [lines[1].pk]
    assert lines[1].case.events.filter(type="backlog_progress").count() == 1
    assert AuditEntry.objects.filter(action="register_change", object_type="backlog",
                                     detail__change="progress").count() == 1


def test_a_push_channel_sent_twice_is_added_once(jianan):
    j = jianan
    client = signed_in(j.member("sysadmin"))
    url = reverse("notify:channels")
    token = token_in(client.get(url).content.decode(), 'id="channel-form"')
    first = sent_twice(client, url, {
        "unit": j.townships["将官池镇"].pk, "name": "镇群", "format": "webhook",
        "target": "http://127.0.0.1:9/hook", "is_active": "on", FIELD: token})
    channel = Channel.objects.get()
    assert first["Location"] == reverse("notify:channel", args=[channel.pk])
    assert audited("channel_create", "channel") == 1


# -- pages of several forms, and the token itself ---------------------------------------------


def test_a_form_drawn_again_with_its_errors_keeps_its_token_and_the_pages_other_forms_new_ones(
        jianan):
    # given the campaign page (its task form, report form and tasks' progress forms)
    j = jianan
    campaign = a_campaign(j)
    client = signed_in(j.member("clerk"))
    url = reverse("practices:campaign", args=[campaign.pk])
    token = token_in(client.get(url).content.decode(), 'id="task-form"')
    task = {"action": "task", "t-unit": j.townships["将官池镇"].pk, "t-title": "一案一策",
            FIELD: token}
    # when the task is refused (due after the campaign ends)
    refused = client.post(url, {**task, "t-due_on": "2027-06-30"})
    # then nothing done, the token not spent, and the task form drawn again carries it alone
    assert refused.status_code == 400
    assert not CampaignTask.objects.exists() and not SubmittedForm.objects.exists()
    html = refused.content.decode()
    assert token_in(html, 'id="task-form"') == token and html.count(token) == 1
    # when another form of the page is sent with its errors, the task form is a new filling
    other = client.post(url, {"action": "report", "p-summary": ""})
    assert other.status_code == 400
    fresh = token_in(other.content.decode(), 'id="task-form"')
    assert fresh != token and fresh.startswith("task.")
    # and the task corrected, sent twice with its kept token, is added once
    sent_twice(client, url, {**task, "t-due_on": "2026-11-30"})
    assert CampaignTask.objects.count() == 1


A_TASKS_TOKEN = "task." + "A" * 32


@pytest.mark.parametrize("sent", [
    "",  # no token
    "task.short",  # too short
    "task." + "A" * 33,  # too long
    "task." + "A" * 31 + "=",  # not of the alphabet
    "Task." + "A" * 32,  # a name not of lower letters
    "A" * 32,  # no form's name (an older page's token)
    "review." + "A" * 32,  # another form's
    "." + "A" * 32,  # the page's one form's, not the task's
])
def test_once_token_draws_a_fresh_token_for_a_malformed_or_another_forms(sent):
    request = RequestFactory().post("/", {FIELD: sent})
    drawn = once_token(request, "task")
    assert drawn != sent
    assert re.fullmatch(r"task\.[A-Za-z0-9_-]{32}", drawn)
    assert once_token(request, "task") != drawn  # fresh each time


def test_once_token_keeps_the_forms_own_token_sent_back_and_not_on_a_get():
    assert once_token(RequestFactory().post("/", {FIELD: A_TASKS_TOKEN}), "task") == A_TASKS_TOKEN
    assert once_token(RequestFactory().post("/", {FIELD: A_TASKS_TOKEN}), "") != A_TASKS_TOKEN
    assert once_token(RequestFactory().get("/", {FIELD: A_TASKS_TOKEN}), "task") != A_TASKS_TOKEN
