"""Every instrument filled from a real case state and read back with python-docx (issue 10)."""

from __future__ import annotations

import io

import pytest
from docx import Document as Docx

from tests.conftest import sh
from tests.documents.cases import MAIN, SECRET, issued, walk
from xinfang.cases.errors import Refused
from xinfang.cases.models import Case
from xinfang.documents.instruments import INSTRUMENTS
from xinfang.documents.models import Audience, Format, IssuedDocument
from xinfang.documents.selectors import audience_for, document_file
from xinfang.documents.services import document_correct, document_issue
from xinfang.web.admin_services import unit_update

pytestmark = pytest.mark.django_db


def text_of(data: bytes) -> str:
    doc = Docx(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def cells(data: bytes) -> list[list[str]]:
    table = Docx(io.BytesIO(data)).tables[0]
    return [[cell.text for cell in row.cells] for row in table.rows]


def docx(doc: IssuedDocument, audience: str = Audience.FULL) -> bytes:
    return bytes(doc.renditions.get(audience=audience, format=Format.DOCX).content)


@pytest.fixture
def closed(jianan):
    return walk(jianan, petitioners=[MAIN, SECRET])


def test_acceptance_notice_has_the_jianan_layout_case_number_and_query_code(jianan):
    case = walk(jianan, until="deliver_acceptance_notice")
    doc = document_issue(case=case, code="D1", by=jianan.member("clerk"), at=sh(2026, 9, 16))
    rows = cells(docx(doc))
    # seed 001: the six-column table, labels where Jianan's form has them
    assert rows[0][0] == "信访件编号" and rows[0][1] == case.number
    assert rows[0][2] == "信访人姓名" and rows[0][3] == "张三明"
    assert rows[0][4] == "联系电话" and rows[0][5] == "13812345678"
    assert rows[1][0] == "身份证号" and rows[1][2] == "住 址" and rows[1][3] == "将官池镇岗朱村3组"
    assert rows[3][0] == "信访日期" and rows[3][1] == "2026年9月14日" and rows[3][5] == "来访"
    assert rows[5][0] == "办理部门" and rows[5][1] == "将官池镇"
    assert "将于2026年9月24日（按办理时限要求不超过 10 天）前办结" in rows[6][1]
    assert "不应重复信访或越级上访" in rows[6][1]
    assert rows[7][0] == "送达时间" and rows[7][3] == "陈晓东"
    assert rows[8][0] == "信访人意见" and "信访人（签字）" in rows[8][1]
    text = text_of(docx(doc))
    assert f"查询码：{case.query_code}" in text
    # GB/T 9704 page
    section = Docx(io.BytesIO(docx(doc))).sections[0]
    mm = [
        round(v.mm)
        for v in (
            section.page_width,
            section.page_height,
            section.top_margin,
            section.bottom_margin,
            section.left_margin,
            section.right_margin,
        )
    ]
    assert mm == [210, 297, 37, 35, 28, 26]


def test_acceptance_notice_cannot_be_issued_before_the_step_that_issues_it(jianan):
    case = walk(jianan, until="sign_for")
    with pytest.raises(Refused, match="尚未出具受理告知书"):
        document_issue(case=case, code="D1", by=jianan.member("clerk"))
    assert not IssuedDocument.objects.exists()


def test_decision_letter_carries_the_body_and_the_profiles_review_notice(jianan):
    case = walk(jianan, until="issue_letter")
    doc = document_issue(case=case, code="D2", by=jianan.member("clerk"))
    rows = cells(docx(doc))
    assert rows[0][1] == case.number and rows[1][2] == "住址或单位"
    assert rows[4][0] == "办理单位" and rows[4][1] == "将官池镇"
    opinion = rows[5][1]
    assert "危房改造补助问题部分属实" in opinion
    assert "如对此处理意见不服，可以自收到之日起30日内向区乡村振兴局书面提出复查申请。" in opinion


def test_letter_prefill_states_each_demands_finding(jianan):
    from xinfang.documents.fill import letter_prefill

    case = walk(jianan, until="record_finding")
    body = letter_prefill(case)
    assert (
        "1. 关于“要求落实2025年危房改造补助”：经核查，部分属实。补助资金滞留镇财政所，已督促发放。"
        in body
    )


@pytest.mark.parametrize(
    "code,expect",
    [
        ("D1", ["信访事项受理告知书", "张三明"]),
        ("D2", ["信访事项处理意见书", "部分属实"]),
        ("D3", ["送 达 回 证", "信访事项处理意见书", "当面送达", "2026年9月30日 10:00", "已签收"]),
        ("D4", ["满意度评价表", "☑满意", "☐不满意", "补助已到位"]),
        ("D5", ["停访承诺书", "停访息诉协议", "今后不再就此事上访", "甲方：将官池镇"]),
        ("D7", ["交办单", "交将官池镇牵头", "同意", "区民政局", "陈晓东"]),
        ("D9-initial", ["初步调查报告", "补助已拨付至镇财政所"]),
        ("D9-investigation", ["调查处理报告", "已督促发放到户"]),
        ("D9-handling", ["办理情况报告", "9月25日发放到户", "带件下访"]),
        ("D9-closing", ["结案报告", "销号", "信访人评价：满意"]),
    ],
)
def test_every_instrument_fills_from_the_closed_case(closed, jianan, code, expect):
    doc = document_issue(case=closed, code=code, by=jianan.member("clerk"))
    text = text_of(docx(doc))
    assert closed.number in text
    for words in expect:
        assert words in text, (code, words)
    assert "{{" not in text and "{%" not in text


def test_supervision_order_needs_its_requirement_and_is_issued_by_a_leader(closed, jianan):
    with pytest.raises(Refused, match="督办单由"):
        document_issue(
            case=closed,
            code="D8",
            by=jianan.member("clerk"),
            params={"required_action": "x", "due_date": "y"},
        )
    with pytest.raises(Refused, match="请填写办结时限"):
        document_issue(
            case=closed,
            code="D8",
            by=jianan.member("approver"),
            params={"required_action": "三日内报送办理结果"},
        )
    first = document_issue(
        case=closed,
        code="D8",
        by=jianan.member("approver"),
        params={"required_action": "三日内报送办理结果", "due_date": "2026年10月9日"},
    )
    second = document_issue(
        case=closed,
        code="D8",
        by=jianan.member("approver"),
        params={"required_action": "再次督办", "due_date": "2026年10月12日"},
    )
    assert (first.version, second.version) == (1, 2)
    text = text_of(docx(first))
    assert "三日内报送办理结果" in text and "2026年10月9日" in text and "督  办  单" in text


def test_warning_notice_fills_from_the_third_repeat_petition(jurisdiction):
    from tests.conftest import register_in

    j = jurisdiction("lihai")
    register_in(j, at=sh(2026, 8, 3, 10), received_at=sh(2026, 8, 3, 9))
    register_in(j, at=sh(2026, 8, 20, 10), received_at=sh(2026, 8, 20, 9))
    case = register_in(j, at=sh(2026, 9, 21, 10), received_at=sh(2026, 9, 21, 9))
    notice = case.warning_notices.get()
    doc = document_issue(case=case, code="D6", by=j.member("clerk"))
    text = text_of(docx(doc))
    assert "信访事项预警提醒单" in text and "7个工作日" in text
    for reason in notice.reasons:
        assert str(reason) in text


def test_an_issued_document_is_frozen_and_a_correction_is_a_new_version(closed, jianan):
    clerk = jianan.member("clerk")
    first = document_issue(case=closed, code="D2", by=clerk)
    stored = docx(first)
    digest = first.renditions.get(audience=Audience.FULL, format=Format.DOCX).sha256
    # The letter row changes after issue (say, a raw fix): the issued file does not.
    letter = closed.documents.get(kind="decision_letter", status="issued")
    letter.body = "改过的正文"
    letter.save()
    again = document_issue(case=closed, code="D2", by=clerk)
    assert again.pk == first.pk and docx(again) == stored
    with pytest.raises(Refused, match="须写明理由"):
        document_correct(case=closed, code="D2", by=clerk, reason="  ")
    corrected = document_correct(case=closed, code="D2", by=clerk, reason="更正正文笔误")
    assert corrected.version == 2 and corrected.reason == "更正正文笔误"
    assert "改过的正文" in text_of(docx(corrected))
    first.refresh_from_db()
    kept = first.renditions.get(audience=Audience.FULL, format=Format.DOCX)
    assert bytes(kept.content) == stored and kept.sha256 == digest
    assert IssuedDocument.objects.filter(case=closed, code="D2").count() == 2


def test_two_requests_at_once_freeze_one_version(closed, jianan):
    a = document_issue(case=closed, code="D1", by=jianan.member("clerk"))
    b = document_issue(case=Case.objects.get(pk=closed.pk), code="D1", by=jianan.member("township"))
    assert a.pk == b.pk and IssuedDocument.objects.filter(code="D1").count() == 1


def test_a_confidential_petitioner_stays_masked_in_the_units_copy(closed, jianan):
    doc = document_issue(case=closed, code="D1", by=jianan.member("clerk"))
    full, unit, masked = (text_of(docx(doc, a)) for a in Audience.values)
    assert "李秀英" in full and "张三明" in full and closed.query_code in full
    assert "李秀英" not in unit and "13900001111" not in unit
    assert "张三明" in unit, "a petitioner who did not ask stays readable for the handling unit"
    assert closed.query_code not in unit
    assert "张三明" not in masked and "李秀英" not in masked


def test_downloads_go_through_the_permission_door(closed, jianan):
    township = jianan.member("township")
    issued(closed, "D1")
    row = document_file(by=township, case_id=closed.pk, code="D1")
    assert row.audience in (Audience.UNIT, Audience.MASKED)
    assert "李秀英" not in text_of(bytes(row.content))
    clerk_row = document_file(by=jianan.member("clerk"), case_id=closed.pk, code="D1")
    assert (
        clerk_row.audience == Audience.FULL
        and audience_for(closed, jianan.member("clerk")) == "full"
    )
    for outsider in (jianan.member("sysadmin"), jianan.member("discipline")):
        with pytest.raises(Case.DoesNotExist):
            document_file(by=outsider, case_id=closed.pk, code="D1")
    from xinfang.audit.models import AuditEntry

    assert AuditEntry.objects.filter(action="download", object_id=str(closed.pk)).count() == 2


def test_an_unknown_instrument_or_format_is_refused_by_name(closed, jianan):
    with pytest.raises(Refused, match="没有文书“D99”"):
        document_file(by=jianan.member("clerk"), case_id=closed.pk, code="D99")
    with pytest.raises(Refused, match="格式须为"):
        document_file(by=jianan.member("clerk"), case_id=closed.pk, code="D1", fmt="exe")


def test_the_table_lists_nine_forms_and_four_reports():
    assert sorted(INSTRUMENTS) == [
        "D1",
        "D2",
        "D3",
        "D4",
        "D5",
        "D6",
        "D7",
        "D8",
        "D9-closing",
        "D9-handling",
        "D9-initial",
        "D9-investigation",
    ]


def test_the_draft_letter_form_starts_from_the_findings_and_the_review_notice(jianan):
    from django.utils import timezone

    from xinfang.web.forms.actions import action_form

    case = walk(jianan, until="record_finding")
    form = action_form(
        "draft_letter", case=case, membership=jianan.member("township"), now=timezone.now()
    )
    assert "经核查，部分属实" in form.fields["body"].initial
    assert form.fields["review_body"].initial.startswith("如对此处理意见不服")
    assert form.fields["review_body"].required


def test_a_stored_file_edited_in_the_database_is_refused_not_served(closed, jianan):
    from xinfang.documents.models import Rendition
    from xinfang.documents.selectors import RenditionDamaged

    clerk = jianan.member("clerk")
    issued(closed, "D2")
    row = document_file(by=clerk, case_id=closed.pk, code="D2")
    forged = bytes(row.content).replace(b"word/document.xml", b"word/document.xmm")
    Rendition.objects.filter(pk=row.pk).update(content=forged)
    with pytest.raises(RenditionDamaged, match="D2 信访事项处理意见书 第1版（DOCX）的校验值不符"):
        document_file(by=clerk, case_id=closed.pk, code="D2")


def test_a_unit_renamed_after_issue_keeps_its_old_name_in_the_issued_document(jianan):
    # given: the acceptance notice issued while the lead township was 将官池镇
    case = walk(jianan, until="deliver_acceptance_notice")
    clerk = jianan.member("clerk")
    first = document_issue(case=case, code="D1", by=clerk, at=sh(2026, 9, 16))
    assert cells(docx(first))[5][1] == "将官池镇"
    # when: the township is renamed (撤镇设街道)
    town = jianan.townships["将官池镇"]
    unit_update(by=jianan.member("sysadmin"), unit=town, name="将官池街道",
                short_name=town.short_name, profile_code=town.profile_code)
    # then: the issued file is the one issued; a correction is filled with the new name
    again = document_issue(case=case, code="D1", by=clerk)
    assert again.pk == first.pk and cells(docx(again))[5][1] == "将官池镇"
    corrected = document_correct(case=case, code="D1", by=clerk, reason="单位更名")
    assert cells(docx(corrected))[5][1] == "将官池街道"
