"""A job's file is handed to its user only while the rights it was read with still stand: not
after the membership it ran as has ended, nor after a recusal declared since it was started."""

from __future__ import annotations

import pytest

from tests.conftest import register_in
from tests.web.conftest import signed_in
from xinfang.jobs.models import Job
from xinfang.jobs.services import job_start
from xinfang.jobs.worker import Loop
from xinfang.org.models import Membership
from xinfang.security.services import recusal_declare
from xinfang.web.admin_services import membership_revoke

pytestmark = pytest.mark.django_db(transaction=True)

URLS = ("/jobs/{}/file", "/api/jobs/{}/file")


def exported(m) -> Job:
    job = job_start(kind="ledger_l0", by=m, params={"filters": ""})
    Loop(schedule=False, interval=0).drain()
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.content
    return job


def answers(client, job: Job) -> list[int]:
    return [client.get(url.format(job.pk)).status_code for url in URLS]


def test_a_file_is_withheld_once_the_membership_it_ran_as_has_ended(jianan):
    # given the clerk exported the county's ledger, then moved to the township (same account)
    j = jianan
    register_in(j)
    clerk = j.member("clerk")
    job = exported(clerk)
    moved = Membership.objects.create(user=clerk.user, unit=j.townships["将官池镇"],
                                      role="township")
    client = signed_in(moved)
    assert answers(client, job) == [200, 200]
    membership_revoke(by=j.member("secadmin"), membership=clerk)
    # then neither the page nor the API hands the county's file to the township's member
    assert answers(client, job) == [410, 410]
    assert "岗位已停用" in client.get(f"/jobs/{job.pk}/file").content.decode()
    assert "岗位已停用" in client.get(f"/api/jobs/{job.pk}/file").json()["detail"]
    assert "岗位已停用" in client.get(f"/jobs/{job.pk}/").content.decode()  # said, no link
    assert f"/jobs/{job.pk}/file" not in client.get(f"/jobs/{job.pk}/").content.decode()


def test_a_file_is_withheld_after_a_recusal_declared_since_and_a_new_export_is_not(jianan):
    j = jianan
    case = register_in(j)
    clerk = j.member("clerk")
    job = exported(clerk)
    client = signed_in(clerk)
    assert answers(client, job) == [200, 200]
    recusal_declare(user=clerk.user, case=case, reason="本人亲属", by=j.member("approver"))
    assert answers(client, job) == [410, 410]
    assert "回避" in client.get(f"/jobs/{job.pk}/file").content.decode()
    # an export made after the recusal reads the door as it stands: handed over
    again = exported(clerk)
    assert answers(client, again) == [200, 200]


def test_a_case_file_is_withheld_once_the_users_unit_is_named_a_respondent_of_it(jianan):
    # given the clerk made the case's file in the background
    from xinfang.cases.models import Respondent

    j = jianan
    case = register_in(j)
    clerk = j.member("clerk")
    job = job_start(kind="archive", by=clerk, params={"case_id": case.pk, "pdf": False})
    Loop(schedule=False, interval=0).drain()
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.content
    client = signed_in(clerk)
    assert answers(client, job) == [200, 200]
    # when the clerk's own unit is named a respondent of the case (the door keeps it out now)
    Respondent.objects.create(case=case, unit=clerk.unit, name=clerk.unit.name)
    # then the page and the API withhold the case file, saying why
    assert answers(client, job) == [410, 410]
    assert "不在您可以查看的范围内" in client.get(f"/jobs/{job.pk}/file").content.decode()


def test_a_ledger_file_is_withheld_once_one_of_its_cases_left_the_users_door(jianan):
    # given the clerk exported the county's ledger (two cases) in the background
    from xinfang.cases.models import Respondent
    from xinfang.jobs.files import ids_unpacked

    j = jianan
    first, second = register_in(j), register_in(j)
    clerk = j.member("clerk")
    job = exported(clerk)
    assert sorted(ids_unpacked(job.case_ids)) == sorted([first.pk, second.pk])
    client = signed_in(clerk)
    assert answers(client, job) == [200, 200]
    # when the clerk's unit is named a respondent of one of them (the door keeps it out now)
    Respondent.objects.create(case=second, unit=clerk.unit, name=clerk.unit.name)
    # then the file is withheld at download, on the page and the API, saying how many and what
    # to do
    assert answers(client, job) == [410, 410]
    said = client.get(f"/api/jobs/{job.pk}/file").json()["detail"]
    assert "有 1 件信访件现已不在您可以查看的范围内" in said and "重新导出" in said
    page = client.get(f"/jobs/{job.pk}/file").content.decode()
    assert "有 1 件信访件现已不在您可以查看的范围内" in page
    # (the job's page, polled, does not read each case again: its link meets the refusal above)
    assert f"/jobs/{job.pk}/file" in client.get(f"/jobs/{job.pk}/").content.decode()
    # and a new export, made through the door as it stands, holds the one case and is handed over
    again = exported(clerk)
    assert ids_unpacked(again.case_ids) == [first.pk]
    assert answers(client, again) == [200, 200]
    # the check read by range (ids close together) and by list (ids far apart) alike
    from xinfang.jobs.files import cases_out_of_sight

    assert cases_out_of_sight(clerk, [first.pk, second.pk]) == 1
    assert cases_out_of_sight(clerk, [first.pk, second.pk, first.pk + 10**6]) == 2


def test_the_ids_a_ledger_file_holds_are_kept_small_and_read_back_whole():
    from xinfang.jobs.files import ids_packed, ids_unpacked

    ids = list(range(1, 200_001, 2))  # 100,000 rows of a county's ledger
    packed = ids_packed(reversed(ids))
    assert ids_unpacked(packed) == ids and len(packed) < 10_000
    assert ids_unpacked(ids_packed([])) == []
