"""The inbox's page read among the newest notices sent (``selectors._newest``): the same rows
as the whole inbox, in the same order, whatever the window holds — notices hidden by the door,
dismissed or read — and its counts capped on the API (issue 9)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import register_in
from tests.notify.test_api import api as api_client
from tests.web.conftest import signed_in, walk
from xinfang.notify import api, selectors
from xinfang.notify.models import Notice, NoticeState
from xinfang.notify.selectors import inbox, inbox_newest
from xinfang.security.models import Recusal

pytestmark = pytest.mark.django_db


@pytest.fixture
def crowded(jianan):
    """The township handler with 24 notices, newest first: on a case it may see, on a case it
    recused from (hidden), and on no case; some read, some dismissed."""
    j = jianan
    seen = walk(j, register_in(j), "assigned")
    hidden = walk(j, register_in(j, matter="另一件"), "assigned")
    township = j.member("township")
    start = timezone.now() - timedelta(days=1)
    cases = [seen, hidden, None]
    made = Notice.objects.bulk_create([
        Notice(case=cases[i % 3], kind="assignment", unit=township.unit, role=township.role,
               text=f"第{i}条", created_at=start + timedelta(minutes=i))
        for i in range(24)])  # fmt: skip
    Recusal.objects.create(user=township.user, case=hidden, reason="本人亲属")
    for n in made[20:23]:  # the newest but one: dismissed, then read
        NoticeState.objects.create(notice=n, user=township.user, dismissed_at=timezone.now(),
                                   reason="已处理")
    NoticeState.objects.create(notice=made[19], user=township.user, read_at=timezone.now())
    return township


@pytest.mark.parametrize("window", [2, 5, 200])
@pytest.mark.parametrize("show", ["open", "unread", "all"])
def test_a_page_read_among_the_newest_is_the_whole_inboxs_page(crowded, monkeypatch, window,
                                                               show):
    monkeypatch.setattr(selectors, "WINDOW", window)
    whole = [n.pk for n in inbox(crowded, show=show)]
    assert len(whole) > 8
    for upto in range(1, len(whole) + 3):
        rows, holds = inbox_newest(crowded, show=show, upto=upto)
        got = [n.pk for n in rows[:upto]]
        assert got == whole[:upto], (show, window, upto)
        assert not holds or len(got) == upto  # known to hold them: the page counts no more


def test_the_newest_are_read_per_unit_and_role_in_one_statement(crowded, monkeypatch):
    monkeypatch.setattr(selectors, "WINDOW", 4)
    with CaptureQueriesContext(connection) as q:
        newest = selectors._newest_sent(crowded, 4)
    assert len(q.captured_queries) == 1 and "UNION ALL" in q.captured_queries[0]["sql"]
    assert newest == list(Notice.objects.filter(unit=crowded.unit).order_by(
        "-created_at", "-pk").values_list("pk", flat=True)[:4])


def test_the_pages_of_a_window_are_the_whole_inboxs_and_their_statements_flat(crowded,
                                                                                monkeypatch):
    from xinfang.notify import views

    monkeypatch.setattr(selectors, "WINDOW", 2)
    monkeypatch.setattr(views, "PAGE_SIZE", 3)
    client = signed_in(crowded)
    whole = [n.text for n in inbox(crowded)]

    def shown(page):
        html = client.get("/inbox/", {"page": page}).content.decode()
        return [t for t in whole if f"{t}<" in html or f"{t} " in html]

    pages = [shown(p) for p in range(1, 6)]
    assert [t for page in pages for t in page][:15] == whole[:15]
    with CaptureQueriesContext(connection) as one:
        client.get("/inbox/", {"page": 2})
    Notice.objects.bulk_create([
        Notice(case=None, kind="assignment", unit=crowded.unit, role=crowded.role,
               text=f"新{i}条", created_at=timezone.now() + timedelta(minutes=i))
        for i in range(12)])  # fmt: skip
    with CaptureQueriesContext(connection) as more:
        client.get("/inbox/", {"page": 2})
    assert len(more.captured_queries) == len(one.captured_queries)
    # the window's test counted the page's rows: the paginator does not count them again (one
    # count besides the bell's)
    counts = [q["sql"] for q in more.captured_queries
              if "notify_notice" in q["sql"] and q["sql"].startswith("SELECT COUNT(*)")]
    assert len(counts) == 2, counts


def test_the_api_counts_to_its_cap_and_says_so(crowded, monkeypatch):
    monkeypatch.setattr(selectors, "WINDOW", 2)
    client = api_client(crowded)
    whole = [n.pk for n in inbox(crowded)]
    unread = len([n for n in inbox(crowded, show="unread")])
    body = client.get("/api/inbox/", {"page_size": 4, "page": 2}).json()
    assert [r["id"] for r in body["results"]] == whole[4:8]
    assert body["count"] == len(whole) and body["count_capped"] is False
    assert body["unread"] == unread and body["unread_capped"] is False
    monkeypatch.setattr(api, "COUNT_CAP", 5)
    body = client.get("/api/inbox/", {"page_size": 2}).json()
    assert [r["id"] for r in body["results"]] == whole[:2]
    assert (body["count"], body["count_capped"]) == (5, True)
    assert (body["unread"], body["unread_capped"]) == (5, True)
    # counted to the asked page's end at least: every page stays reachable, the last included
    last = (len(whole) + 3) // 4
    body = client.get("/api/inbox/", {"page_size": 4, "page": last}).json()
    assert [r["id"] for r in body["results"]] == whole[4 * (last - 1):]
    assert (body["count"], body["count_capped"], body["next"]) == (len(whole), False, None)
    body = client.get("/api/inbox/", {"page_size": 4, "page": 2}).json()
    assert [r["id"] for r in body["results"]] == whole[4:8]
    assert (body["count"], body["count_capped"]) == (8, True) and body["next"]


def test_marking_read_answers_the_capped_count(crowded, monkeypatch):
    """Marking read answers the unread count as the list does: exact up to its cap, and whether
    there are more — one capped COUNT, not every unread notice tested through the door."""
    client = api_client(crowded)
    unread = [n.pk for n in inbox(crowded, show="unread")]
    body = client.post("/api/inbox/read/", {"ids": unread[:1]},
                       content_type="application/json").json()
    assert body == {"marked": 1, "unread": len(unread) - 1, "unread_capped": False}
    monkeypatch.setattr(api, "COUNT_CAP", 3)
    with CaptureQueriesContext(connection) as asked:
        body = client.post("/api/inbox/read/", {"ids": unread[1:2]},
                           content_type="application/json").json()
    assert len(unread) - 2 > 3
    assert body == {"marked": 1, "unread": 3, "unread_capped": True}
    counts = [q["sql"] for q in asked.captured_queries
              if q["sql"].startswith("SELECT COUNT(*)") and "notify_notice" in q["sql"]]
    assert len(counts) == 1 and "LIMIT 4" in counts[0], counts
    # the list says the same
    body = client.get("/api/inbox/").json()
    assert (body["unread"], body["unread_capped"]) == (3, True)
