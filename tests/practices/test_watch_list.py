"""The watch list (seed 001 §二(一) 越级访苗头重点人员; 000 §十(二); 003 §二(三) 一人一策): a person
from a case, a named owner, a plan and a status, reviewed each month; the entry refers to the
encrypted petitioner and never copies the name; pages mask whom the reader may not reveal."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.urls import reverse

from tests.conftest import sh
from tests.web.conftest import signed_in
from xinfang.audit.models import AuditEntry
from xinfang.cases.models import CaseEvent
from xinfang.notify.models import Notice
from xinfang.notify.selectors import inbox
from xinfang.practices.models import PracticeFlag, WatchEntry
from xinfang.practices.services import Invalid, Refused, watch_add, watch_release, watch_review
from xinfang.practices.sweep import sweep

pytestmark = pytest.mark.django_db


def listed(j, case, *, owner="township", at=None, **extra):
    args = dict(
        by=j.member("clerk"),
        case_id=case.pk,
        petitioner_id=case.petitioner_links.get().petitioner_id,
        owner_id=j.member(owner).pk,
        reason="越级访苗头",
        plan="包村干部每周走访一次",
        status="watch",
        now=at or sh(2026, 10, 12, 9, 0),
    )
    args.update(extra)
    return watch_add(**args)


def test_a_person_is_listed_with_owner_plan_and_status_and_reviewed_each_month(jianan, fresh):
    j = jianan
    case = fresh()
    entry = listed(j, case)
    assert (entry.owner, entry.owner_unit, entry.status) == (
        j.member("township"),
        j.townships["将官池镇"],
        "watch",
    )
    # jianan: practices.watch_list.review = month — listed in October, reviewed by 30 November
    assert entry.review_due == date(2026, 11, 30)
    event = CaseEvent.objects.get(case=case, type="watch_listed")
    assert "陈晓东" in event.payload["owner"] and "赵" not in str(event.payload)
    review = watch_review(
        by=j.member("township"),
        entry_id=entry.pk,
        status="stable",
        note="已走访，情绪稳定",
        now=sh(2026, 11, 5, 10, 0),
    )
    entry.refresh_from_db()
    assert (review.period, entry.status, entry.review_due) == (
        "2026-11",
        "stable",
        date(2026, 12, 31),
    )
    with pytest.raises(Refused, match="已在重点人员名单"):
        listed(j, case)
    watch_release(by=j.member("clerk"), entry_id=entry.pk, reason="已息诉罢访")
    assert CaseEvent.objects.filter(case=case, type="watch_released").exists()
    listed(j, case)  # listed again once released: the old entry and its reviews stay
    assert WatchEntry.objects.count() == 2


def test_no_name_is_copied_into_the_watch_tables(jianan, fresh):
    entry = listed(jianan, fresh())
    with connection.cursor() as cur:
        cur.execute("SELECT * FROM practices_watchentry WHERE id = %s", [entry.pk])
        row = " ".join(str(v) for v in cur.fetchone())
    assert "赵" not in row and "1381234" not in row


def test_the_owner_must_be_someone_of_the_jurisdiction_and_only_the_office_lists(jianan, fresh):
    j = jianan
    case = fresh()
    with pytest.raises(Invalid) as e:
        listed(j, case, owner="city_clerk")
    assert set(e.value.errors) == {"owner"}
    with pytest.raises(Refused):
        listed(j, case, by=j.member("township"))
    with pytest.raises(Refused):
        listed(j, case, by=j.member("inspector"))
    with pytest.raises(Invalid) as e:
        listed(j, case, petitioner_id=fresh().petitioner_links.get().petitioner_id)
    assert set(e.value.errors) == {"petitioner"}


def test_a_missed_monthly_review_reaches_the_owners_inbox_once(jianan, fresh):
    j = jianan
    entry = listed(j, fresh(), at=sh(2026, 9, 20, 9, 0))
    assert entry.review_due == date(2026, 10, 31)
    assert sweep(at=sh(2026, 10, 31, 20, 0)).flagged.get("watch") is None
    assert sweep(at=sh(2026, 11, 1, 8, 0)).flagged["watch"] == 1
    assert sweep(at=sh(2026, 11, 1, 9, 0)).flagged.get("watch") is None  # once
    notice = Notice.objects.get(kind="watch")
    assert notice.case_id is None and notice.unit == j.townships["将官池镇"]
    assert "赵" not in notice.text and str(entry.pk) in notice.text
    assert [n for n in inbox(j.member("township")) if n.kind == "watch"] == [notice]
    assert [n for n in inbox(j.member("bureau")) if n.kind == "watch"] == []
    assert PracticeFlag.objects.get(kind="watch").key == f"watch:{entry.pk}:2026-10-31"
    # the review made, the next miss is another flag
    watch_review(
        by=j.member("township"),
        entry_id=entry.pk,
        status="stable",
        note="稳定",
        now=sh(2026, 11, 2, 9, 0),
    )
    assert sweep(at=sh(2027, 1, 1, 9, 0)).flagged["watch"] == 1


def test_the_list_masks_and_the_entry_reveals_only_to_whom_may(jianan, fresh):
    """A confidential person: the office of the jurisdiction reveals (with a reason, audited);
    the owning unit, without reach to a confidential person, never sees the identity."""
    j = jianan
    secret = listed(j, fresh(secret=True))
    plain = listed(j, fresh())
    office = signed_in(j.member("clerk"))
    html = office.get(reverse("practices:watch")).content.decode()
    assert f'id="watch-{secret.pk}"' in html and "赵" in html and secret.petitioner.name not in html
    url = reverse("practices:watch_entry", args=[secret.pk])
    page = office.post(url, {"action": "reveal", "v-reason": "复核稳控情况"})
    assert secret.petitioner.name in page.content.decode()
    assert AuditEntry.objects.filter(action="reveal", object_id=str(secret.petitioner_id)).exists()
    owner = signed_in(j.member("township"))
    assert secret.petitioner.name not in owner.get(url).content.decode()
    refused = owner.post(url, {"action": "reveal", "v-reason": "走访"})
    assert refused.status_code == 403 and secret.petitioner.name not in refused.content.decode()
    plain_url = reverse("practices:watch_entry", args=[plain.pk])
    assert (
        plain.petitioner.name
        in owner.post(plain_url, {"action": "reveal", "v-reason": "走访"}).content.decode()
    )
    inspector = signed_in(j.member("inspector"))
    assert inspector.post(plain_url, {"action": "reveal", "v-reason": "督查"}).status_code == 403
    # another unit: not even the entry
    assert signed_in(j.member("bureau")).get(url).status_code == 404
    api = signed_in(j.member("township")).get(reverse("practices_api:watch")).json()
    assert {r["id"] for r in api["results"]} == {secret.pk, plain.pk}
    assert secret.petitioner.name not in str(api) and plain.petitioner.name not in str(api)


def test_the_office_lists_a_person_and_the_owner_reviews_on_the_pages(jianan, fresh):
    j = jianan
    case = fresh()
    office = signed_in(j.member("clerk"))
    page = office.get(reverse("practices:watch"), {"case_number": case.number})
    person = case.petitioner_links.get().petitioner
    assert f'value="{person.pk}"' in page.content.decode()
    response = office.post(
        reverse("practices:watch"),
        {
            "case_number": case.number,
            "petitioner": person.pk,
            "owner": j.member("township").pk,
            "reason": "越级访苗头",
            "status": "watch",
            "plan": "每周走访",
        },
    )
    assert response.status_code == 302
    entry = WatchEntry.objects.get()
    bad = office.post(reverse("practices:watch"), {"case_number": case.number})
    assert bad.status_code == 400 and "owner_error" in bad.content.decode()
    owner = signed_in(j.member("township"))
    url = reverse("practices:watch_entry", args=[entry.pk])
    assert (
        owner.post(url, {"action": "review", "r-status": "stable", "r-note": "稳定"}).status_code
        == 302
    )
    entry.refresh_from_db()
    assert entry.status == "stable" and entry.reviews.count() == 1
    assert owner.post(url, {"action": "release", "x-reason": "x"}).status_code == 403


def test_the_watch_list_api_adds_and_reviews(jianan, fresh):
    j = jianan
    case = fresh()
    client = signed_in(j.member("clerk"))
    body = {
        "case": case.pk,
        "petitioner": case.petitioner_links.get().petitioner_id,
        "owner": j.member("township").pk,
        "reason": "重复访",
        "plan": "一人一策",
        "stability": "unstable",
    }
    created = client.post(reverse("practices_api:watch"), body, content_type="application/json")
    assert created.status_code == 201, created.content
    again = client.post(reverse("practices_api:watch"), body, content_type="application/json")
    assert again.status_code == 422 and again.json()["field"] == "petitioner"
    bad = client.post(
        reverse("practices_api:watch"), {**body, "stability": "x"}, content_type="application/json"
    )
    assert bad.status_code == 400 and "stability" in bad.json()["errors"]
    pk = created.json()["id"]
    review = signed_in(j.member("township")).post(
        reverse("practices_api:watch-reviews", args=[pk]),
        {"stability": "stable", "note": "稳定"},
        content_type="application/json",
    )
    assert review.status_code == 201 and review.json()["period"]
    assert (
        signed_in(j.member("bureau"))
        .post(
            reverse("practices_api:watch-reviews", args=[pk]),
            {"stability": "stable", "note": "x"},
            content_type="application/json",
        )
        .status_code
        == 404
    )


def test_the_watch_list_page_reads_a_flat_number_of_queries(
    jianan, fresh, django_assert_max_num_queries
):
    j = jianan
    client = signed_in(j.member("clerk"))
    for _ in range(2):
        listed(j, fresh())
    client.get(reverse("practices:watch"))
    from django.db import connection as conn
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(conn) as few:
        client.get(reverse("practices:watch"))
    for _ in range(8):
        listed(j, fresh())
    with CaptureQueriesContext(conn) as many:
        client.get(reverse("practices:watch"))
    assert len(many) == len(few)
    assert date.today() - timedelta(days=1) < date.today()


def test_a_notice_without_a_case_shows_in_the_inbox_and_is_dismissed_with_a_reason(jianan, fresh):
    j = jianan
    listed(j, fresh(), at=sh(2026, 9, 20, 9, 0))
    sweep(at=sh(2026, 11, 1, 8))
    notice = Notice.objects.get(kind="watch")
    client = signed_in(j.member("township"))
    page = client.get(reverse("notify:inbox")).content.decode()
    assert f'data-notice="{notice.pk}"' in page and notice.link in page
    response = client.post(
        reverse("notify:inbox_dismiss", args=[notice.pk]),
        {"reason": "已复核", "next": reverse("notify:inbox")},
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.filter(action="notice_dismiss").get()
    assert (entry.object_type, entry.object_id) == ("notice", str(notice.pk))
    # another unit cannot put it away: the notice is not addressed to it
    signed_in(j.member("bureau")).post(
        reverse("notify:inbox_dismiss", args=[notice.pk]), {"reason": "x"}
    )
    assert AuditEntry.objects.filter(action="notice_dismiss").count() == 1
