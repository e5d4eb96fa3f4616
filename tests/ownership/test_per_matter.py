"""What follows a repeat is counted per matter (issue 14): a repeat is the same person and the
same matter, ``Case.repeat_of`` the earlier case of that matter and ``repeat_count`` its earlier
visits (set by registration's matching). Here the link is made as matching makes it."""

import io

import pytest
from django.db.models import F
from docx import Document as Docx

from tests.conftest import id_number, register_in, sh
from xinfang.cases.models import Case
from xinfang.cases.services import DemandInput, PetitionerInput, perform, sweep
from xinfang.registers.models import BacklogCase
from xinfang.reports.services import report_build, report_period

pytestmark = pytest.mark.django_db


def person(n):
    return [PetitionerInput(name=f"赵{n}林", id_number=id_number(f"41102319700101{n:03d}"),
                            phone=f"1370000{n:04d}", address="将官池镇岗朱村1组")]


def as_matched(case, *, earlier=None):
    """Registration's matching (helper ``match``): ``earlier`` the case of the same matter, or
    None for a new matter of a known person. The version moves, so the sweep looks again."""
    Case.objects.filter(pk=case.pk).update(
        repeat_of=earlier, matter_root_id=earlier.matter_id if earlier else None,
        repeat_count=(earlier.repeat_count + 1) if earlier else 0,
        version=F("version") + 1)
    case.refresh_from_db()
    return case


def test_004_s2_2_a_third_case_on_three_matters_raises_no_warning_notice(jurisdiction):
    # 沥海 "多次重复访（3次以上）" counts visits on one matter: three matters are no repeat
    j = jurisdiction("lihai")
    cases = []
    for d, matter, demand in ((3, "危房改造补助未到位", "要求落实2025年危房改造补助"),
                              (10, "低保评定不公", "要求重新评定低保"),
                              (17, "土地流转费拖欠", "要求村里付清土地流转费")):
        case = register_in(j, petitioners=person(1), matter=f"反映{matter}",
                           demands=[DemandInput(text=demand, category="危房改造")],
                           received_at=sh(2026, 8, d, 9), at=sh(2026, 8, d, 10))
        cases.append(case)
    # registration (issue 14 matching) takes each as a first petition of its own matter
    third = cases[-1]
    assert [c.repeat_count for c in cases] == [0, 0, 0]
    assert not third.warning_notices.exists()
    sweep(at=sh(2026, 8, 18))
    assert not third.warning_notices.exists()


def test_004_s2_2_the_third_visit_on_one_matter_raises_the_notice_at_the_sweep(jurisdiction):
    j = jurisdiction("lihai")
    a = register_in(j, petitioners=person(2), received_at=sh(2026, 8, 3, 9), at=sh(2026, 8, 3, 10))
    b = as_matched(register_in(j, petitioners=person(3), received_at=sh(2026, 8, 10, 9),
                               at=sh(2026, 8, 10, 10)), earlier=as_matched(a))
    c = register_in(j, petitioners=person(4), received_at=sh(2026, 8, 17, 9),
                    at=sh(2026, 8, 17, 10))
    assert not c.warning_notices.exists()  # another person's first petition, as registered
    c = as_matched(c, earlier=b)  # the clerk links it by hand to the same matter
    assert c.repeat_count == 2
    sweep(at=sh(2026, 8, 18))
    notice = c.warning_notices.get()
    assert notice.reasons == ["第3次信访"] and notice.follow_up.amount == 7
    assert c.ownership_items.count() == 5


def _leader_owned(j, case):
    approver = j.member("approver")
    return perform("set_leader_owner", case=case, by=approver, leader=approver.user)


def test_001_s2_3_a_new_matter_of_a_known_person_owned_by_a_leader_is_not_a_backlog_repeat(
        jianan):
    first = register_in(jianan, petitioners=person(5), received_at=sh(2026, 8, 3, 9),
                        at=sh(2026, 8, 3, 10))
    new_matter = as_matched(register_in(jianan, petitioners=person(5), matter="反映低保评定",
                                        received_at=sh(2026, 9, 1, 9), at=sh(2026, 9, 1, 10)))
    assert first.pk != new_matter.pk and new_matter.repeat_count == 0
    _leader_owned(jianan, new_matter)
    sweep(at=sh(2026, 9, 2))
    assert not BacklogCase.objects.filter(case=new_matter,
                                          entry=BacklogCase.Entry.LEADER_REPEAT).exists()


def test_001_s2_3_a_leader_owned_repeat_enters_with_the_visit_and_first_date_of_its_matter(
        jianan):
    first = register_in(jianan, petitioners=person(6), received_at=sh(2026, 5, 6, 9),
                        at=sh(2026, 5, 6, 10))
    second = as_matched(register_in(jianan, petitioners=person(6), received_at=sh(2026, 8, 3, 9),
                                    at=sh(2026, 8, 3, 10)), earlier=as_matched(first))
    third = as_matched(register_in(jianan, petitioners=person(6), received_at=sh(2026, 9, 1, 9),
                                   at=sh(2026, 9, 1, 10)), earlier=second)
    _leader_owned(jianan, third)
    line = BacklogCase.objects.get(case=third)
    assert line.entry == BacklogCase.Entry.LEADER_REPEAT
    assert "第3次信访" in line.reason
    assert line.first_petition_on.isoformat() == "2026-05-06"  # 初访时间: the matter's first


def _bulletin(j, period="2026-09"):
    built = report_build(kind="monthly", period=report_period("monthly", period),
                         by=j.member("approver"), via="web")
    doc = Docx(io.BytesIO(built.file.read()))
    return "\n".join(p.text for p in doc.paragraphs), [
        [[cell.text for cell in row.cells] for row in t.rows] for t in doc.tables]


def test_000_s11_4_the_monthly_bulletin_counts_repeats_per_matter(jianan):
    # 王: the 3rd and 4th visits on one matter in September; 李: a 2nd visit on another matter;
    # 张: a new matter of a known person (not a repeat)
    w1 = as_matched(register_in(jianan, petitioners=person(7), received_at=sh(2026, 7, 1, 9),
                                at=sh(2026, 7, 1, 10)))
    w2 = as_matched(register_in(jianan, petitioners=person(7), received_at=sh(2026, 8, 1, 9),
                                at=sh(2026, 8, 1, 10)), earlier=w1)
    w3 = as_matched(register_in(jianan, petitioners=person(7), received_at=sh(2026, 9, 2, 9),
                                at=sh(2026, 9, 2, 10)), earlier=w2)
    w4 = as_matched(register_in(jianan, petitioners=person(7), received_at=sh(2026, 9, 20, 9),
                                at=sh(2026, 9, 20, 10)), earlier=w3)
    l1 = as_matched(register_in(jianan, petitioners=person(8), received_at=sh(2026, 8, 5, 9),
                                at=sh(2026, 8, 5, 10)))
    l2 = as_matched(register_in(jianan, petitioners=person(8), received_at=sh(2026, 9, 5, 9),
                                at=sh(2026, 9, 5, 10)), earlier=l1)
    as_matched(register_in(jianan, petitioners=person(9), received_at=sh(2026, 8, 6, 9),
                           at=sh(2026, 8, 6, 10)))
    z2 = as_matched(register_in(jianan, petitioners=person(9), matter="反映低保评定",
                                received_at=sh(2026, 9, 6, 9), at=sh(2026, 9, 6, 10)))
    assert (w4.repeat_count, l2.repeat_count, z2.repeat_count) == (3, 1, 0)
    text, tables = _bulletin(jianan)
    assert "其中重复访3件（涉及2个信访事项）" in text
    kinds = {row[1]: row[4] for row in tables[-1][1:]}
    assert kinds[w3.number] == "重复访（第3次）" and kinds[w4.number] == "重复访（第4次）"
    assert kinds[l2.number] == "重复访（第2次）" and z2.number not in kinds
