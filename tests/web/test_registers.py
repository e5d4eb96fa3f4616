"""The three registers beside the ledger: screening findings (L1) and turning one into a case,
backlog cases with owner, plan and progress (L2), the staff roster (L3) — each per jurisdiction."""

from datetime import date

import pytest
from django.urls import reverse

from xinfang.registers.models import BacklogCase, ScreeningFinding, StaffRosterEntry
from xinfang.registers.services import Finding, screening_record
from xinfang.security.names import name_index

from .conftest import signed_in

pytestmark = pytest.mark.django_db


def finding(j, name="周大勇", **extra):
    return screening_record(
        by=j.member("clerk"),
        finding=Finding(
            screened_on=date(2026, 10, 12),
            township=j.townships["椹涧乡"],
            village=j.villages["小河村"],
            person_name=name,
            contact="13700001111",
            problem="反映产业帮扶资金分配不公",
            category="资金项目",
            **extra,
        ),
    )


def test_the_screening_register_shows_its_own_jurisdictions_rows_masked(jianan, jurisdiction):
    # given a finding here and one in another county's office
    ours = finding(jianan)
    other = jurisdiction("lihai")
    theirs = finding(other, name="钱多多")
    # when
    response = signed_in(jianan.member("inspector")).get(reverse("web:screening"))
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="finding-{ours.pk}"' in html and f'id="finding-{theirs.pk}"' not in html
    assert "周*勇" in html and "周大勇" not in html and "137****1111" in html
    assert "椹涧乡小河村" in html
    assert 'id="screening-form"' not in html  # inspectors read, never write
    assert "data-convert" not in html


def test_a_clerk_records_a_finding_from_the_form(jianan):
    j = jianan
    client = signed_in(j.member("clerk"))
    response = client.post(
        reverse("web:screening"),
        {
            "s-screened_on": "2026-11-02",
            "s-township": j.townships["五女店镇"].pk,
            "s-village": j.villages["魏庄村"].pk,
            "s-person_name": "孙桂兰",
            "s-contact": "13600002222",
            "s-problem": "反映低保评定不公",
            "s-category": "民政救助",
            "s-is_new": "on",
        },
    )
    assert response.status_code == 302
    row = ScreeningFinding.objects.get(name_index=name_index("孙桂兰"))
    assert row.jurisdiction == j.county and row.month == date(2026, 11, 1)
    assert row.recorded_by == j.member("clerk").user


def test_a_finding_with_a_village_of_another_township_is_refused_on_the_form(jianan):
    j = jianan
    response = signed_in(j.member("approver")).post(
        reverse("web:screening"),
        {
            "s-screened_on": "2026-11-02",
            "s-township": j.townships["五女店镇"].pk,
            "s-village": j.villages["岗朱村"].pk,
            "s-person_name": "孙桂兰",
            "s-problem": "反映低保评定不公",
            "s-category": "民政救助",
        },
    )
    assert response.status_code == 400
    assert "所选村（社区）不属于所选乡镇" in response.content.decode()
    assert not ScreeningFinding.objects.exists()


def test_a_finding_is_turned_into_a_case_by_the_clerk(jianan):
    # given
    row = finding(jianan)
    client = signed_in(jianan.member("clerk"))
    page = client.get(reverse("web:screening")).content.decode()
    assert f'data-convert="{row.pk}"' in page
    # when
    response = client.post(reverse("web:screening_convert", args=[row.pk]))
    # then
    row.refresh_from_db()
    assert row.case is not None and row.case.channel == "screening"
    assert response.status_code == 302 and response["Location"] == f"/cases/{row.case.pk}/"
    page = client.get(reverse("web:screening")).content.decode()
    assert row.case.number in page and f'data-convert="{row.pk}"' not in page
    # and a second press is refused in words, not a server error
    again = client.post(reverse("web:screening_convert", args=[row.pk]), follow=True)
    assert "已转为信访件" in again.content.decode()


@pytest.mark.parametrize("member", ["approver", "inspector", "township", "sysadmin"])
def test_only_the_clerk_may_turn_a_finding_into_a_case(member, jianan):
    row = finding(jianan)
    response = signed_in(jianan.member(member)).post(
        reverse("web:screening_convert", args=[row.pk])
    )
    assert response.status_code == 403
    row.refresh_from_db()
    assert row.case is None


def test_a_finding_of_another_jurisdiction_is_not_found(jianan, jurisdiction):
    theirs = finding(jurisdiction("lihai"))
    response = signed_in(jianan.member("clerk")).post(
        reverse("web:screening_convert", args=[theirs.pk])
    )
    assert response.status_code == 404


def test_a_leader_designates_a_backlog_case_and_the_clerk_records_progress(jianan, register):
    j = jianan
    case = register()
    approver = j.member("approver")
    # when the approver designates it
    response = signed_in(approver).post(
        reverse("web:backlog"),
        {
            "b-number": case.number,
            "b-owner_leader": approver.user.pk,
            "b-reason": "诉求超出政策，反复信访",
            "b-plan": "分管领导包案，每月走访一次",
            "b-plan_deadline": "2026-12-31",
        },
    )
    assert response.status_code == 302
    backlog = BacklogCase.objects.get(case=case)
    assert backlog.owner_leader == approver.user
    # and the clerk adds progress
    clerk = signed_in(j.member("clerk"))
    page = clerk.get(reverse("web:backlog")).content.decode()
    assert f'id="backlog-{backlog.pk}"' in page and 'id="backlog-form"' not in page
    response = clerk.post(
        reverse("web:backlog_progress", args=[backlog.pk]), {"text": "已上门走访，情绪稳定"}
    )
    assert response.status_code == 302
    assert backlog.progress.get().text == "已上门走访，情绪稳定"
    page = clerk.get(reverse("web:backlog")).content.decode()
    assert "已上门走访，情绪稳定" in page and "诉求超出政策" in page
    # the supervision page lists it too
    sup = signed_in(j.member("inspector")).get(reverse("web:supervision")).content.decode()
    assert case.number in sup.split('id="backlog"', 1)[1]


def test_each_backlog_line_shows_its_cells_escaped_and_the_keepers_their_forms(jianan, register):
    """The register's rows (``present.backlog_rows_html``): a resolved line of a case with its
    plan, deadline, three-in-place answers and progress; an imported line without a case; text
    escaped; the keep link and progress form (with its own field ids and CSRF input) for a
    keeper alone."""
    import re

    from django.utils import timezone

    from xinfang.registers.models import BacklogProgress

    j, case = jianan, register()
    line = BacklogCase.objects.create(
        case=case, jurisdiction=j.county, entry=BacklogCase.Entry.DESIGNATED, reason="久拖<未决>",
        plan="每月走访", plan_deadline=date(2026, 12, 31), solved=True, guided=False,
        stable=True, resolved_at=timezone.now(), outcome="已息诉 & 罢访",
        designated_at=timezone.now(), problem="危房" * 40)
    BacklogProgress.objects.create(backlog=line, by=j.member("clerk").user,
                                   at=timezone.now(), text="<b>上门</b>走访")
    imported = BacklogCase.objects.create(
        jurisdiction=j.county, entry=BacklogCase.Entry.IMPORTED, person_name="马小红",
        reason="补助未兑现", owner_leader_text="王建国（副区长）", responsible_unit_text="区住建局",
        locality_text="将官池镇岗朱村", first_petition_on=date(2022, 3, 5),
        designated_at=timezone.now())
    page = signed_in(j.member("clerk")).get(reverse("web:backlog")).content.decode()
    ours = page.split(f'<tr id="backlog-{line.pk}">', 1)[1].split("</tr>", 1)[0]
    tag = '<span class="tag ok">已化解</span>'
    assert f'<a href="/cases/{case.pk}/">{case.number}</a>{tag}' in ours
    assert "久拖&lt;未决&gt;" in ours and "化解时限 2026-12-31" in ours
    assert "化解结果：已息诉 &amp; 罢访" in ours and "解决 是 · 引导 否 · 救助 — · 依法 —" in ours
    assert "&lt;b&gt;上门&lt;/b&gt;走访" in ours
    assert "危房" * 22 in ours and "危房" * 24 not in ours  # cut at 48 with the ellipsis
    assert f'data-keep="{line.pk}"' in ours and f'id="id_bp{line.pk}_text"' in ours
    assert f'for="id_bp{line.pk}_text"' in ours and 'name="csrfmiddlewaretoken"' in ours
    assert f'action="/ledger/backlog/{line.pk}/progress/"' in ours
    theirs = page.split(f'<tr id="backlog-{imported.pk}">', 1)[1].split("</tr>", 1)[0]
    cells = dict(re.findall(r'<td data-label="([^"]+)"[^>]*>(.*?)</td>', theirs))
    assert cells["信访人姓名"] == "马*红" and cells["初访时间"] == "2022-03-05"
    assert (cells["包案人"], cells["责任单位"], cells["问题所属地"]) == (
        "王建国（副区长）", "区住建局", "将官池镇岗朱村")
    assert cells["编号"] == '<div class="cell-stack"><span class="muted">导入</span></div>'
    # an inspector reads the register without keeping it: no keep link, no form
    seen = signed_in(j.member("inspector")).get(reverse("web:backlog")).content.decode()
    assert f'<tr id="backlog-{line.pk}">' in seen
    assert "data-keep" not in seen and "id_bp" not in seen and "inline-form" not in seen


def test_a_backlog_case_number_outside_the_office_is_refused(jianan):
    approver = jianan.member("approver")
    response = signed_in(approver).post(
        reverse("web:backlog"),
        {
            "b-number": "建安信〔2026〕9999号",
            "b-owner_leader": approver.user.pk,
            "b-reason": "x",
            "b-plan": "y",
            "b-plan_deadline": "2026-12-31",
        },
    )
    assert response.status_code == 400
    assert "没有这个编号的信访件" in response.content.decode()


@pytest.mark.parametrize("member", ["clerk", "inspector"])
def test_only_leaders_designate_backlog_cases(member, jianan, register):
    case = register()
    response = signed_in(jianan.member(member)).post(
        reverse("web:backlog"), {"b-number": case.number}
    )
    assert response.status_code == 403
    assert not BacklogCase.objects.exists()


def test_the_roster_is_kept_per_unit_of_the_jurisdiction(jianan, jurisdiction):
    j = jianan
    other = jurisdiction("lihai")
    client = signed_in(j.member("clerk"))
    data = {
        "r-unit": j.townships["将官池镇"].pk,
        "r-leader_name": "刘海",
        "r-leader_position": "副镇长",
        "r-leader_mobile": "13500003333",
        "r-clerk_name": "陈晓东",
        "r-clerk_mobile": "13500004444",
    }
    assert client.post(reverse("web:roster"), data).status_code == 302
    data["r-leader_position"] = "党委副书记"
    assert client.post(reverse("web:roster"), data).status_code == 302  # an update, not a second
    entry = StaffRosterEntry.objects.get()
    assert entry.leader_position == "党委副书记"
    # a unit of another jurisdiction is not among the choices
    theirs = dict(data, **{"r-unit": other.townships["将官池镇"].pk})
    response = client.post(reverse("web:roster"), theirs)
    assert response.status_code == 400 and StaffRosterEntry.objects.count() == 1
    # the edit link fills the form
    page = client.get(reverse("web:roster") + f"?unit={entry.unit_id}").content.decode()
    assert 'value="党委副书记"' in page
    # the other office does not see our line
    page = signed_in(other.member("clerk")).get(reverse("web:roster")).content.decode()
    assert "党委副书记" not in page
