"""Every main list reads a fixed number of queries, however many rows it shows: the same count at
10 rows as at 100 (issue 9). A loop that asks the database per row — an N+1 — fails here."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.scale import copies
from tests.web.conftest import signed_in
from xinfang.cases.models import Case


def queries(client, url: str, params: dict | None = None) -> tuple[int, object]:
    client.get(url, params or {})  # the profile and calendar are cached on first use
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content[:500]
    return len(ctx.captured_queries), response


def count_at(jianan, rows: int, member: str, url: str, params=None, **kind) -> int:
    copies(jianan, rows, **kind)
    n, response = queries(signed_in(jianan.member(member)), url, params)
    return n


def same_at_10_and_100(jianan, member, url, params=None, *, sizes=(10, 100), **kind):
    """The queries of one page at 10 rows, then at 100 rows (90 more of the same kind)."""
    small = count_at(jianan, sizes[0], member, url, params, **kind)
    large = count_at(jianan, sizes[1] - sizes[0], member, url, params, **kind)
    return small, large


# A work queue bucket counts its cases only when it is full (30 rows), and the supervision page
# reads the answered notices only when fewer than 20 are unanswered: both compare two sizes past
# those thresholds, so the only difference left would be a query per row.
PAST_THE_BUCKET = (40, 100)


@pytest.mark.django_db
def test_the_ledger_page_reads_as_many_queries_for_100_rows_as_for_10(jianan):
    small, large = same_at_10_and_100(
        jianan,
        "clerk",
        reverse("web:ledger"),
        unit=jianan.townships["将官池镇"],
        state="in_progress",
        warned=True,
    )
    assert small == large


@pytest.mark.django_db
def test_the_ledger_page_sorted_by_due_with_filters_does_not_grow(jianan):
    params = {"sort": "due", "overdue": "true", "search": "危房", "category": "危房改造"}
    small, large = same_at_10_and_100(
        jianan, "clerk", reverse("web:ledger"), params, state="in_progress", overdue=True
    )
    assert small == large


@pytest.mark.django_db
def test_the_backlog_register_reads_as_many_queries_for_100_lines_as_for_10(jianan):
    """The register of backlog lines (L2), each line showing its case's main petitioners
    masked and, where the line names no responsible unit, the units leading the case."""
    from xinfang.cases.models import CasePetitioner
    from xinfang.registers.models import BacklogCase
    from xinfang.security.masking import mask_name

    def lines(n: int) -> list[Case]:
        cases = copies(jianan, n, state="in_progress", unit=jianan.townships["将官池镇"])
        BacklogCase.objects.bulk_create([BacklogCase(
            case=case, jurisdiction_id=case.jurisdiction_id, entry="unsettled",
            reason="受理后逾一个月仍未化解", person_name="张三明",
            designated_at=timezone.now()) for case in cases])
        return cases

    url = reverse("web:backlog")
    lines(10)
    small, _ = queries(signed_in(jianan.member("clerk")), url)
    lines(90)
    large, response = queries(signed_in(jianan.member("clerk")), url)
    assert small == large
    html = response.content.decode()
    names = {link.petitioner.name for link in CasePetitioner.objects.filter(
        case__in=BacklogCase.objects.values("case"), role="main").select_related("petitioner")}
    shown = re.findall(r'data-label="信访人姓名">([^<]*)<', html)
    assert len(shown) == 50 and set(shown) <= {mask_name(name) for name in names}
    assert not any(name in html for name in names)
    # the lead unit, in the responsible unit's column
    assert re.findall(r'data-label="责任单位">([^<]*)<', html) == ["将官池镇"] * 50


@pytest.mark.django_db
def test_the_api_list_reads_as_many_queries_for_100_rows_as_for_10(jianan):
    small, large = same_at_10_and_100(
        jianan, "clerk", "/api/cases/", {"page_size": "200"}, overdue=True
    )
    assert small == large


@pytest.mark.parametrize(
    "member,kind",
    [
        ("clerk", {"state": "registered"}),
        ("approver", {"state": "proposed", "warned": True}),
        ("chief", {"state": "awaiting_countersign"}),
        ("inspector", {"state": "in_progress", "overdue": True, "warned": True}),
        ("township", {"state": "assigned", "unit": "将官池镇"}),
        ("township", {"state": "in_progress", "unit": "将官池镇", "signed_for": True}),
        ("discipline", {"state": "in_progress", "transferred": True}),
    ],
)
@pytest.mark.django_db
def test_each_work_queue_reads_as_many_queries_for_100_rows_as_for_10(jianan, member, kind):
    kind = dict(kind)
    if "unit" in kind:
        kind["unit"] = jianan.townships[kind["unit"]]
    small, large = same_at_10_and_100(
        jianan, member, reverse("web:home"), sizes=PAST_THE_BUCKET, **kind
    )
    assert small == large


@pytest.mark.django_db
def test_the_supervision_page_reads_as_many_queries_for_100_rows_as_for_10(jianan):
    small, large = same_at_10_and_100(
        jianan,
        "approver",
        reverse("web:supervision"),
        sizes=PAST_THE_BUCKET,
        state="in_progress",
        overdue=True,
        warned=True,
    )
    assert small == large


@pytest.mark.django_db
def test_the_case_page_reads_as_many_queries_for_100_history_entries_as_for_10(jianan):
    few = copies(jianan, 1, events=10)[0]
    many = copies(jianan, 1, events=100)[0]
    client = signed_in(jianan.member("clerk"))
    n_few, page_few = queries(client, reverse("web:case", kwargs={"pk": few.pk}))
    n_many, page_many = queries(client, reverse("web:case", kwargs={"pk": many.pk}))
    assert page_many.content.decode().count("第99次电话联系") == 1  # the 100th entry is shown
    assert n_few == n_many


@pytest.mark.django_db
def test_a_handlers_queue_shows_its_rows_not_just_a_count(jianan):
    """The bucket the counts above measure really lists the copies (the test is not vacuous): the
    overview shows the first rows, the count and a link; the bucket alone lists them all."""
    from xinfang.web.queues import PER_BUCKET

    made = copies(jianan, PER_BUCKET + 2, state="assigned", unit=jianan.townships["将官池镇"])
    client = signed_in(jianan.member("township"))
    _, response = queries(client, reverse("web:home"))
    html = response.content.decode()
    assert html.count('href="/cases/') == PER_BUCKET
    assert f'<span class="count">{PER_BUCKET + 2}</span>' in html
    assert 'href="?bucket=sign_for"' in html
    _, alone = queries(client, reverse("web:home"), {"bucket": "sign_for"})
    listed = alone.content.decode()
    assert all(f'href="/cases/{case.pk}/"' in listed for case in made)
    assert "待办理" not in listed.split("</main>")[0].split("待签收", 1)[1]  # one bucket only


@pytest.mark.django_db
def test_one_bucket_pages_at_a_fixed_number_of_queries(jianan):
    """A bucket shown alone reads a page of rows: the same queries at 10 and at 100 cases, and the
    second page holds the rest."""
    from xinfang.web.queues import BUCKET_PAGE

    small, large = same_at_10_and_100(
        jianan, "clerk", reverse("web:home"), {"bucket": "propose"}, state="registered"
    )
    assert small == large
    client = signed_in(jianan.member("clerk"))
    first = client.get(reverse("web:home"), {"bucket": "propose"}).content.decode()
    second = client.get(reverse("web:home"), {"bucket": "propose", "page": 2}).content.decode()
    assert first.count('href="/cases/') == BUCKET_PAGE
    waiting = Case.objects.filter(state="registered").count()  # the copies and their templates
    assert second.count('href="/cases/') == min(BUCKET_PAGE, waiting - BUCKET_PAGE) > 0
    assert "bucket=propose&amp;page=2" in first


@pytest.mark.django_db
def test_a_queue_count_stops_at_its_cap(jianan, monkeypatch):
    from xinfang.web import queues

    copies(jianan, queues.PER_BUCKET + 5, state="registered")
    monkeypatch.setattr(queues, "QUEUE_COUNT_CAP", queues.PER_BUCKET + 1)
    html = signed_in(jianan.member("clerk")).get(reverse("web:home")).content.decode()
    assert f'<span class="count">{queues.PER_BUCKET + 1}+</span>' in html


@pytest.mark.django_db
def test_an_unknown_bucket_goes_back_to_the_queue(jianan):
    client = signed_in(jianan.member("township"))
    response = client.get(reverse("web:home"), {"bucket": "propose"})  # the clerk's, not theirs
    assert response.status_code == 302 and response["Location"] == reverse("web:home")


@pytest.mark.django_db
def test_the_supervision_statistics_follow_a_change_at_once(jianan, register):
    """The targets and counts are kept between reloads, but never after a case changed."""
    client = signed_in(jianan.member("approver"))
    register()
    first = client.get(reverse("web:supervision")).context["open_total"]
    assert client.get(reverse("web:supervision")).context["open_total"] == first  # kept
    register()
    assert client.get(reverse("web:supervision")).context["open_total"] == first + 1


@pytest.mark.django_db
def test_counts_stop_at_the_cap_and_say_so(jianan, monkeypatch):
    """Past the cap the ledger reads "N+" and the API says count_capped; below it, exact."""
    from xinfang.cases.paging import CappedPaginator

    copies(jianan, 7)
    client = signed_in(jianan.member("clerk"))
    body = client.get("/api/cases/").json()
    assert (body["count"], body["count_capped"]) == (8, False)
    monkeypatch.setattr(CappedPaginator, "cap", 5)
    body = client.get("/api/cases/?page_size=2&page=3").json()
    assert (body["count"], body["count_capped"]) == (5, True)
    assert len(body["results"]) == 2  # the pages past the count still read
    page = client.get(reverse("web:ledger")).content.decode()
    assert 'id="ledger-total">5+</span>' in page


@pytest.mark.django_db
def test_the_supervision_counts_stop_at_their_cap(jianan, monkeypatch):
    """The late list's and the notices' counts read at most COUNT_CAP + 1 rows and say "N+"."""
    from xinfang.web import supervision
    from xinfang.web.views import lists

    copies(jianan, 8, state="in_progress", overdue=True, warned=True)
    monkeypatch.setattr(lists, "COUNT_CAP", 5)
    monkeypatch.setattr(supervision, "COUNT_CAP", 5)
    html = signed_in(jianan.member("approver")).get(reverse("web:supervision")).content.decode()
    assert html.count('<span class="count">5+</span>') == 2  # the late cases and the notices


@pytest.mark.django_db
def test_the_case_page_reads_the_demands_once(jianan):
    """The page's list, the finding form and the letter's prefill share one read, by seq."""
    case = copies(jianan, 1)[0]
    client = signed_in(jianan.member("clerk"))
    url = reverse("web:case", kwargs={"pk": case.pk})
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    reads = [q["sql"] for q in ctx.captured_queries if 'SELECT "cases_demand"' in q["sql"]]
    assert len(reads) == 1, reads
    # read with the case (``db.together``): the demands' own statement, ordered by seq
    demands = reads[0].split('SELECT "cases_demand"', 1)[1].split(")", 1)[0]
    assert reads[0].startswith("WITH g(") and '"cases_demand"."seq"' in demands.split("ORDER BY")[1]


@pytest.mark.django_db
def test_the_case_page_reads_the_users_recusals_once(jianan):
    """The request's door read them; the action checks reuse that instead of asking again."""
    case = copies(jianan, 1)[0]
    client = signed_in(jianan.member("clerk"))
    client.get(reverse("web:case", kwargs={"pk": case.pk}))
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("web:case", kwargs={"pk": case.pk})).status_code == 200
    # One read of the recusal list (the lists' door); the case's own read tests them inside its
    # statement (``Door.apply_one``), and the action checks ask neither again.
    reads = [q["sql"] for q in ctx.captured_queries
             if q["sql"].startswith('SELECT "security_recusal"')]
    assert len(reads) <= 1, reads
    assert sum("security_recusal" in q["sql"] for q in ctx.captured_queries) <= 2


@pytest.mark.django_db
def test_the_queue_counts_its_full_buckets_in_one_statement(jianan):
    """Each full bucket is counted (to its cap), all of them in one statement; the totals are the
    door's own counts."""
    from django.utils import timezone

    from xinfang.cases.selectors import cases_for
    from xinfang.web.queues import PER_BUCKET, queue_for

    copies(jianan, PER_BUCKET + 3, state="registered")
    copies(jianan, PER_BUCKET + 5, state="signed_off")
    clerk = jianan.member("clerk")
    with CaptureQueriesContext(connection) as ctx:
        buckets = {b.key: b for b in queue_for(clerk, timezone.now())}
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"]]
    assert len(counts) == 1, counts
    own = cases_for(clerk).filter(jurisdiction=clerk.unit.jurisdiction() or clerk.unit)
    for key, state in (("propose", "registered"), ("assign", "signed_off")):
        assert buckets[key].total == own.filter(state=state).count() > PER_BUCKET


@pytest.mark.django_db
def test_a_county_clerks_watch_bucket_asks_nothing(jianan):
    """No office below a county: its "lower offices" bucket reads no case at all (it used to walk
    every case of the province to find none)."""
    from django.utils import timezone

    from xinfang.web.queues import queue_for

    copies(jianan, 3, state="in_progress")
    with CaptureQueriesContext(connection) as ctx:
        buckets = queue_for(jianan.member("clerk"), timezone.now())
    fetches = [q["sql"] for q in ctx.captured_queries
               if q["sql"].startswith('SELECT "cases_case"."id"')]
    assert [b.key for b in buckets][-1] == "watch" and buckets[-1].rows == []
    assert len(fetches) == len(buckets) - 1, fetches


@pytest.mark.django_db
def test_the_bell_is_one_statement_that_reads_no_unit_subtree(jianan):
    """The bell asks the door per notice (``Door.apply_one``): on a page that lists no cases it
    reads neither the unit subtree nor the recusal list first, nor every visible case."""
    from xinfang.cases.selectors import door_remember
    from xinfang.notify.selectors import unread_count

    copies(jianan, 1)
    clerk = jianan.member("clerk")
    door_remember(clerk)
    with CaptureQueriesContext(connection) as ctx:
        unread_count(clerk, cap=100)
    assert len(ctx.captured_queries) == 1, [q["sql"] for q in ctx.captured_queries]


@pytest.mark.django_db
def test_a_search_counts_to_its_own_cap_and_says_so(jianan, monkeypatch):
    """A search tests its cases one by one: the ledger counts it only to SEARCH_COUNT_CAP."""
    from xinfang.cases.paging import SearchedPaginator

    copies(jianan, 7)
    monkeypatch.setattr(SearchedPaginator, "cap", 3)
    client = signed_in(jianan.member("clerk"))
    searched = client.get(reverse("web:ledger"), {"search": "危房"}).content.decode()
    assert 'id="ledger-total">3+</span>' in searched
    plain = client.get(reverse("web:ledger")).content.decode()
    assert 'id="ledger-total">8</span>' in plain


@pytest.mark.django_db
def test_the_apis_search_counts_to_the_ledgers_search_cap(jianan, monkeypatch):
    """The API's count of a searched list stops where the ledger's does (at 1M a common term's
    count to 10,000 read 80,000 of a county's cases: 435 ms); a plain list keeps its cap."""
    from xinfang.cases.paging import SEARCH_COUNT_CAP, SearchedPaginator

    assert SearchedPaginator.cap == SEARCH_COUNT_CAP == 500
    copies(jianan, 7)
    monkeypatch.setattr(SearchedPaginator, "cap", 3)
    client = signed_in(jianan.member("clerk"))
    body = client.get("/api/cases/?search=危房&page_size=2").json()
    assert (body["count"], body["count_capped"], len(body["results"])) == (3, True, 2)
    body = client.get("/api/cases/?search=%20").json()  # blank: no search
    assert (body["count"], body["count_capped"]) == (8, False)
    body = client.get("/api/cases/").json()
    assert (body["count"], body["count_capped"]) == (8, False)



@pytest.mark.django_db
def test_the_case_page_asks_its_documents_and_its_discipline_offices_once(jianan):
    """The acceptance notice's check reads the documents the page read for its 文书 block; the
    discipline select finds its sole office among the rows it shows, not in a read of its own."""
    case = copies(jianan, 1, state="assigned", unit=jianan.townships["将官池镇"])[0]
    client = signed_in(jianan.member("clerk"))
    url = reverse("web:case", kwargs={"pk": case.pk})
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        html = client.get(url).content.decode()
    statements = [q["sql"] for q in ctx.captured_queries]
    # read with the case and its other rows (``db.together``), and not again
    documents = [q for q in statements if 'SELECT "cases_document"' in q]
    assert len(documents) == 1 and documents[0].startswith("WITH g("), documents
    offices = [q for q in statements if "\"org_unit\".\"kind\" = 'discipline'" in q]
    assert len(offices) == 1, offices
    office = jianan.county.children.get(kind="discipline")
    assert re.search(rf'<option value="{office.pk}" selected>', html)  # the sole one, chosen
    assert 'id="action-deliver_acceptance_notice"' in html
    assert 'id="action-transfer_to_discipline"' in html
    # once delivered, the check finds the notice among the page's documents and offers it no more
    from datetime import date

    from xinfang.cases.services import perform

    case.refresh_from_db()
    perform("deliver_acceptance_notice", case=case, by=jianan.member("clerk"),
            mode="in_person", deliverer="陈晓东", recipient="张三明",
            promised_reply=date(2026, 12, 24))
    assert 'id="action-deliver_acceptance_notice"' not in client.get(url).content.decode()
