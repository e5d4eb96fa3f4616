"""The person's page (issue 14): every case of theirs the user may see, grouped by matter, the
visits on each, the open warnings, the owning leader — through the door, masked, and never a
way for a handling unit to learn who a confidential person is."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.api.world import client_as, walk
from tests.conftest import id_number, register_in, sh
from tests.web.conftest import signed_in
from xinfang.cases.models import Case, Petitioner
from xinfang.cases.services import PetitionerInput
from xinfang.ownership.people import PersonNotFound, person_for

pytestmark = pytest.mark.django_db

ID = id_number("41102319750505123")


def wang(**extra):
    return [PetitionerInput(name="王秀兰", id_number=ID, phone="13912345678",
                            address="将官池镇岗朱村5组", **extra)]


def _link(case, earlier):
    """What matching does at registration (issue 14): the earlier case of the same matter."""
    Case.objects.filter(pk=case.pk).update(repeat_of=earlier, matter_root_id=earlier.matter_id,
                                           repeat_count=earlier.repeat_count + 1)


def _matters(j):
    """王秀兰: two visits on 危房改造, one first petition on 低保 (a new matter)."""
    a = register_in(j, petitioners=wang(), received_at=sh(2026, 8, 3, 9), at=sh(2026, 8, 3, 10))
    b = register_in(j, petitioners=wang(), received_at=sh(2026, 9, 1, 9), at=sh(2026, 9, 1, 10))
    c = register_in(j, petitioners=wang(), matter="反映低保评定不公",
                    received_at=sh(2026, 9, 14, 9), at=sh(2026, 9, 14, 10))
    _link(b, a)
    Case.objects.filter(pk=c.pk).update(repeat_of=None, matter_root=None, repeat_count=0)
    return a, b, c


def test_person_page_groups_the_cases_by_matter_with_the_visits_on_each(jianan):
    a, b, c = _matters(jianan)
    person = a.petitioner_links.get().petitioner
    found = person_for(jianan.member("clerk"), person.pk)
    groups = {m.root_id: [r.case.pk for r in m.cases] for m in found.matters}
    assert groups == {a.pk: [a.pk, b.pk], c.pk: [c.pk]}
    visits = {m.root_id: m.visits for m in found.matters}
    assert visits == {a.pk: 2, c.pk: 1}

    html = signed_in(jianan.member("clerk")).get(reverse("web:person", args=[person.pk]))
    text = html.content.decode()
    assert html.status_code == 200
    assert "共信访2次" in text and "共信访1次" in text and "涉及2个事项" in text
    assert "王*兰" in text and "王秀兰" not in text and ID not in text  # masked
    # each case's row: its link, the day received, which visit, the role, the state
    row = text[text.index(f'<a href="{reverse("web:case", args=[b.pk])}">{b.number}</a>'):]
    row = row[:row.index("</tr>")]
    for cell in ("2026-09-01", "第2次", "信访人", "已登记", ">—<"):
        assert cell in row, (cell, row)


def test_the_case_page_links_the_petitioner_to_their_page(jianan):
    a, _b, _c = _matters(jianan)
    person = a.petitioner_links.get().petitioner
    text = signed_in(jianan.member("clerk")).get(reverse("web:case", args=[a.pk])).content
    assert reverse("web:person", args=[person.pk]) in text.decode()


def test_person_page_shows_open_warnings_and_the_owning_leader(jurisdiction):
    j = jurisdiction("lihai")
    cases = [register_in(j, petitioners=wang(), received_at=sh(2026, 8, d, 9),
                         at=sh(2026, 8, d, 10)) for d in (3, 10, 17)]
    person = cases[0].petitioner_links.get().petitioner
    found = person_for(j.member("approver"), person.pk)
    assert [n.case_id for n in found.open_warnings] == [cases[2].pk]
    assert found.leaders == ["王建国"]
    assert len(found.pending_items) == 5
    text = signed_in(j.member("approver")).get(
        reverse("web:person", args=[person.pk])).content.decode()
    assert "预警提醒单待回复" in text and "包掌握情况" in text and "王建国" in text
    # the warned case's row says its warning waits for an answer; a leader's name is escaped
    row = text[text.index(f'{reverse("web:case", args=[cases[2].pk])}">{cases[2].number}</a>'):]
    assert '<span class="tag warn">待回复</span>' in row[:row.index("</tr>")]
    leader = cases[2].leader_owner
    leader.full_name = "王<b>建国"
    leader.save(update_fields=["full_name"])
    text = signed_in(j.member("approver")).get(
        reverse("web:person", args=[person.pk])).content.decode()
    assert "王&lt;b&gt;建国" in text and "王<b>建国" not in text


def test_only_the_cases_the_user_may_see(jianan):
    # the township sees the case assigned to it, not the other two of the same person
    assigned = walk(jianan, "in_progress", petitioners=wang())
    register_in(jianan, petitioners=wang(), matter="反映低保评定不公")
    person = assigned.petitioner_links.get().petitioner
    found = person_for(jianan.member("township"), person.pk)
    assert [r.case.pk for r in found.cases] == [assigned.pk]
    assert len(person_for(jianan.member("clerk"), person.pk).cases) == 2


def test_a_person_without_a_visible_case_is_not_found(jianan):
    case = register_in(jianan, petitioners=wang())  # not assigned: the township sees nothing
    person = case.petitioner_links.get().petitioner
    response = signed_in(jianan.member("township")).get(reverse("web:person", args=[person.pk]))
    assert response.status_code == 404
    missing = signed_in(jianan.member("township")).get(reverse("web:person", args=[999999]))
    assert missing.status_code == 404
    assert "王" not in response.content.decode().split("<main", 1)[-1]


# --- masking: a unit never learns a confidential person's identity through this page ----------


@pytest.mark.parametrize("how", ["person", "case"])
def test_a_confidential_person_is_not_shown_to_the_handling_unit(jianan, how):
    # given a confidential petitioner (asked for it as a person, or in this case) whose case the
    # township handles, and who has an ordinary case the township also handles
    flag = {"confidential": True} if how == "person" else {}
    secret = walk(jianan, "in_progress", petitioners=wang(**flag),
                  **({"confidential": True} if how == "case" else {}))
    person = secret.petitioner_links.get().petitioner
    assert Petitioner.objects.get(pk=person.pk).confidential or \
        secret.petitioner_links.get().confidential
    township = jianan.member("township")
    # then the page is "not found" for the township, web and API alike
    with pytest.raises(PersonNotFound):
        person_for(township, person.pk)
    url = reverse("web:person", args=[person.pk])
    page = signed_in(township).get(url)
    assert page.status_code == 404
    body = page.content.decode()
    assert ID not in body and "秀兰" not in body and "13912345678" not in body
    api = client_as(township).get(reverse("api:person", args=[person.pk]))
    assert api.status_code == 404 and ID not in api.content.decode()
    # the case page shows them masked and offers no link to their page
    case_page = signed_in(township).get(reverse("web:case", args=[secret.pk])).content.decode()
    assert url not in case_page and "王秀兰" not in case_page
    # the office that registered them sees the page, masked
    office = signed_in(jianan.member("clerk")).get(url)
    assert office.status_code == 200 and "王*兰" in office.content.decode()
    assert "王秀兰" not in office.content.decode()


def test_a_person_confidential_in_one_case_is_listed_to_a_unit_only_in_the_others(jianan):
    ordinary = walk(jianan, "in_progress", petitioners=wang())
    secret = walk(jianan, "in_progress", petitioners=wang(), confidential=True,
                  matter="反映村干部优亲厚友")
    person = ordinary.petitioner_links.get().petitioner
    assert secret.petitioner_links.get().petitioner_id == person.pk
    Petitioner.objects.filter(pk=person.pk).update(confidential=False)
    if not secret.petitioner_links.get().confidential:
        pytest.skip("registration records confidentiality on the person only")
    found = person_for(jianan.member("township"), person.pk)
    assert [r.case.pk for r in found.cases] == [ordinary.pk]
    assert {r.case.pk for r in person_for(jianan.member("clerk"), person.pk).cases} == {
        ordinary.pk, secret.pk}


def test_the_inspector_sees_ordinary_people_masked_and_never_a_confidential_one(jianan):
    plain = register_in(jianan, petitioners=wang())
    person = plain.petitioner_links.get().petitioner
    inspector = jianan.member("inspector")
    assert len(person_for(inspector, person.pk).cases) == 1
    Petitioner.objects.filter(pk=person.pk).update(confidential=True)
    with pytest.raises(PersonNotFound):
        person_for(inspector, person.pk)


def test_administrators_never_see_a_person(jianan):
    case = register_in(jianan, petitioners=wang())
    person = case.petitioner_links.get().petitioner
    response = signed_in(jianan.member("sysadmin")).get(reverse("web:person", args=[person.pk]))
    assert response.status_code == 403


# --- the API and the command line ------------------------------------------------------------


def test_api_person(jianan):
    a, b, c = _matters(jianan)
    person = a.petitioner_links.get().petitioner
    data = client_as(jianan.member("clerk")).get(reverse("api:person", args=[person.pk])).json()
    assert data["name"] == "王*兰" and data["id_number"] != ID
    assert [[x["number"] for x in m["cases"]] for m in data["matters"]] in (
        [[c.number], [a.number, b.number]], [[a.number, b.number], [c.number]])
    assert {m["visits"] for m in data["matters"]} == {1, 2}


def test_cli_person(jianan, capsys):
    import json

    from django.core.management import call_command

    a, b, c = _matters(jianan)
    person = a.petitioner_links.get().petitioner
    call_command("person", str(person.pk), "--as", jianan.member("clerk").user.username)
    data = json.loads(capsys.readouterr().out)
    assert data["name"] == "王*兰" and len(data["matters"]) == 2
    # each case's state and role as their labels (made once: ``choices.label_of``)
    from xinfang.cases.choices import PetitionerRole, State

    for row in (r for m in data["matters"] for r in m["cases"]):
        assert row["state_label"] == str(dict(State.choices)[row["state"]])
        assert row["role"] in {str(label) for label in PetitionerRole.labels}
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="没有这位信访人"):
        call_command("person", str(person.pk), "--as", jianan.member("township").user.username)


@pytest.mark.parametrize("ref", ["99999999999999999999999", "0", "-1"])
def test_cli_person_no_database_holds_is_not_found_not_a_traceback(jianan, ref):
    # an id past the 64-bit range reached the links' foreign key: OverflowError on SQLite
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="person：没有这位信访人"):
        call_command("person", ref, "--as", jianan.member("clerk").user.username)


# --- query counts flat -------------------------------------------------------------------------


def _visit(j, matter, earlier=None, day=1):
    case = register_in(j, petitioners=wang(), matter=matter, received_at=sh(2026, 2, day, 9),
                       at=sh(2026, 2, day, 10))
    Case.objects.filter(pk=case.pk).update(
        repeat_of=earlier, matter_root_id=earlier.matter_id if earlier else None,
        repeat_count=(earlier.repeat_count + 1) if earlier else 0)
    case.refresh_from_db()
    return case


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_person_page_queries_are_flat(jianan):
    # given a matter visited twice (each visit naming the one before) and a second matter
    first = _visit(jianan, "反映危房改造补助")
    last = _visit(jianan, "反映危房改造补助", earlier=first, day=2)
    _visit(jianan, "反映低保评定")
    person = first.petitioner_links.get().petitioner
    client = signed_in(jianan.member("clerk"))
    url = reverse("web:person", args=[person.pk])
    _queries(client, url)  # the first request of a session writes it
    small = _queries(client, url)
    # when the first matter is visited ten more times, a chain ten levels deeper, and new
    # matters are added
    for i in range(10):
        last = _visit(jianan, "反映危房改造补助", earlier=last, day=3 + i)
    for i in range(4):
        _visit(jianan, f"反映第{i}项问题", day=15 + i)
    # then the page costs the same
    assert _queries(client, url) == small
    found = person_for(jianan.member("clerk"), person.pk)
    assert sorted(m.visits for m in found.matters) == [1, 1, 1, 1, 1, 12]
    api = client_as(jianan.member("clerk"))
    with CaptureQueriesContext(connection) as ctx:
        assert api.get(reverse("api:person", args=[person.pk])).status_code == 200
    assert len(ctx.captured_queries) <= small + 5


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_persons_lists_are_the_template_they_replaced(language):
    """A person's pending 包案 items and matters written in Python (``pending_items_html``,
    ``matter_groups_html``) are what the page's loops (kept under ``tests/web/oracles/``)
    wrote: matters with and without a leader, a matter cut at 120 characters, values that need
    escaping, in both languages."""
    import re
    from pathlib import Path
    from types import SimpleNamespace

    from django.template import Context, Template
    from django.utils import translation

    from tests.conftest import sh
    from xinfang.cases.models import Case
    from xinfang.org.models import User
    from xinfang.ownership.models import OwnershipItem
    from xinfang.ownership.people import CaseRow, Matter
    from xinfang.web.present import matter_groups_html, pending_items_html, person_rows_html

    bad = '<b x="1">&\'</b>'
    leader = User(pk=2, username="lead", full_name=f"张{bad}")

    def case(pk, **kw):
        return Case(pk=pk, number=f"C{pk}{bad}", received_at=sh(2026, 11, 30, 23, 0),
                    state="in_progress", matter=kw.pop("matter", bad), **kw)

    matters = [
        Matter(root_id=1, cases=[CaseRow(case(1, matter="久" * 130 + bad), "main", 1),
                                 CaseRow(case(2, leader_owner=leader), "main", 3)]),
        Matter(root_id=4, cases=[CaseRow(case(4), "representative", 1)]),
    ]
    for m in matters:  # what the template's filter wrote (``person_rows_html``, unchanged)
        m.xf_rows = person_rows_html(m.cases)
    items = [OwnershipItem(case=case(1), label=bad, status=OwnershipItem.Status.PENDING),
             OwnershipItem(case=case(2), label="回访", status="no-such")]

    def norm(text) -> str:
        return re.sub(r" ?([<>]) ?", r"\1", re.sub(r"\s+", " ", str(text))).strip()

    oracle = Path(__file__).parent.parent / "web" / "oracles" / "person_lists.html"
    with translation.override(language):
        want = Template(oracle.read_text("utf-8")).render(Context({
            "person": SimpleNamespace(pending_items=items, matters=matters)}))
        got = (f'<ul id="items">{pending_items_html(items)}</ul>'
               f'<section id="matters">{matter_groups_html(matters)}</section>')
    assert norm(got) == norm(want.split("{% endcomment %}")[-1])
    assert "<b x" not in got and "久" * 120 not in got
