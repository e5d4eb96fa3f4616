"""The case page's sections written in Python (``web.case_sections``) are what their templates
wrote: the templates they replaced are kept under ``oracles/`` and rendered beside them, for
every branch, with values that need escaping, in both languages."""

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.utils import translation

from tests.conftest import sh
from xinfang.cases.models import (
    Assignment,
    Attachment,
    CasePetitioner,
    Delivery,
    Document,
    Petitioner,
    Signature,
)
from xinfang.org.models import Unit, User
from xinfang.web.case_sections import (
    assignments_html,
    attachments_html,
    documents_html,
    oversight_links_html,
    petitioners_html,
)
from xinfang.web.forms.misc import RevealForm, UploadForm

NOW = sh(2026, 11, 25, 10, 0)
ORACLES = Path(__file__).parent / "oracles"
TOKEN = "tok<en>"
LANGUAGES = pytest.mark.parametrize("language", ["zh-hans", "en"])


def norm(text) -> str:
    return re.sub(r" ?([<>]) ?", r"\1", re.sub(r"\s+", " ", str(text))).strip()


def oracle(name: str, **context) -> str:
    text = (ORACLES / name).read_text("utf-8")
    return Template(text).render(Context({"csrf_token": TOKEN, **context}))


def csrf() -> str:
    return Template("{% csrf_token %}").render(Context({"csrf_token": TOKEN}))


class Case:
    pk = 42


def _rows():
    def row(pk, *, revealed=False, may_reveal=True, confidential=False, url="", form=None,
            **person):
        p = Petitioner(pk=pk, **person)
        return {"link": CasePetitioner(role="representative" if pk == 2 else "main"), "p": p,
                "may_reveal": may_reveal, "confidential": confidential, "person_url": url,
                "revealed": revealed, "name": "王<*>", "id_number": "4107**********1234",
                "phone": "" if pk == 3 else "138****0000", "address": "岗朱村 & 东头",
                "reveal_form": form or RevealForm(initial={"petitioner": pk},
                                                  auto_id=f"id_rv{pk}_%s")}

    refused = RevealForm({"petitioner": "2"}, auto_id="id_rv2_%s")  # no reason: its error
    assert not refused.is_valid()
    return [
        row(1, gender="m", birth_year=1962, exited_household=True, monitored_household=True,
            url="/people/1/?a=1&b=<2>"),
        row(2, confidential=True, form=refused, monitored_household=True),
        row(3, revealed=True, gender="f"),
        row(4, may_reveal=False, confidential=True, exited_household=True),
    ]


@LANGUAGES
def test_the_petitioners_cards_are_the_template_they_replace(language):
    with translation.override(language):
        rows = _rows()
        want = "".join(oracle("petitioner_card.html", row=r, case=Case) for r in rows)
        got = petitioners_html(rows, 42, csrf())
        assert norm(got) == norm(want)
        assert norm(petitioners_html([], 42, csrf())) == norm(
            '<p class="empty">' + translation.gettext("无") + "</p>")
    assert "王&lt;*&gt;" in got and "&amp;b=&lt;2&gt;" in got and "<*>" not in got
    assert got.count('class="reveal"') == 2 and got.count(" open>") == 1


def _documents_and_signatures():
    clerk = User(username="clerk<1>", full_name="")
    draft = Document(kind="decision_letter", status="superseded", body="第一段\n\n第二<段>",
                     data={"review_notice": "如不服<可>申请复查"}, created_at=NOW,
                     created_by=clerk, approved_at=NOW, issued_at=NOW)
    draft.delivery_rows = [
        (Delivery(mode="in_person", delivered_at=NOW, deliverer="李<四>", receipt_signed=True),
         "王*"),
        (Delivery(mode="phone", delivered_at=NOW, deliverer="赵六", refused=True,
                  witness="村<干部>"), "张*"),
        (Delivery(mode="online", delivered_at=NOW, deliverer="钱七"), "<刘>*"),
    ]
    plain = Document(kind="acceptance_notice", status="issued", body="", data={},
                     created_at=NOW, created_by=User(username="u", full_name="周<八>"))
    plain.delivery_rows = []
    listed = Document(kind="delivery_receipt", status="draft", body="正文", data=[],
                      created_at=NOW, created_by=clerk)
    listed.delivery_rows = []
    signatures = [Signature(stage="sign_off", role="approver", user=clerk, at=NOW, note="同意<>"),
                  Signature(stage="letter", role="", user=clerk, at=NOW, note="")]
    return [draft, plain, listed], signatures


@LANGUAGES
def test_the_assignments_documents_and_signatures_are_the_template_they_replace(language):
    unit = Unit(name="将官池<镇>")
    assignments = [
        Assignment(unit=unit, role="lead", status="active", assigned_at=NOW,
                   receiver_name="张<三>", responsible_person="李&四", signed_for_at=NOW,
                   signed_for_by=User(username="w", full_name="王<五>")),
        Assignment(unit=unit, role="assist", status="ended", assigned_at=NOW,
                   receiver_name="赵六"),
    ]
    documents, signatures = _documents_and_signatures()
    with translation.override(language):
        written = []
        for a, d, s in [(assignments, documents, signatures), ([], documents, []),
                        (assignments, [], signatures), ([], [], [])]:
            want = oracle("case_assignments_documents.html", assignments=a, documents=d,
                          signatures=s)
            written.append(assignments_html(a) + documents_html(d, s))
            assert norm(written[-1]) == norm(want)
    assert "<刘>" not in written[0] and "村&lt;干部&gt;" in written[0]
    assert "如不服&lt;可&gt;申请复查" in written[0] and written[-1] == ""


@LANGUAGES
def test_the_attachments_and_the_upload_form_are_the_template_they_replace(language):
    attachments = [
        Attachment(pk=5, original_name="照片<1>.jpg", size=1234567, uploaded_at=NOW,
                   uploaded_by=User(username="u<2>", full_name=""), description="现场 & 照片"),
        Attachment(pk=6, original_name="a.pdf", size=12, uploaded_at=NOW,
                   uploaded_by=User(username="u", full_name="孙九")),
    ]
    bound = UploadForm({"description": "x" * 201}, {})
    assert not bound.is_valid()
    bound.add_error(None, "上传失败<请重试>")
    with_file = UploadForm({"description": "说明"},
                           {"file": SimpleUploadedFile("a.txt", b"x")})
    with translation.override(language):
        for listed in (attachments, []):
            for form in (UploadForm(), bound, with_file, None):
                want = oracle("case_attachments.html", case=Case, attachments=listed,
                              may_upload=form is not None, upload_form=form)
                got = attachments_html(42, listed, form, csrf())
                assert norm(got) == norm(want), (listed, form)


@pytest.mark.parametrize("role", ["inspector", "clerk", "approver", "chief", "unit_handler",
                                  "proxy_agent", "line_head", "discipline"])
def test_the_oversight_links_are_the_template_they_replace(role):
    class Membership:
        pass

    m = Membership()
    m.role = role
    assert norm(oversight_links_html(42, role)) == norm(
        oracle("oversight_links.html", membership=m, case=Case))


def _choice(model, field, i=0):
    return model._meta.get_field(field).choices[i][0]


def _cases():
    from xinfang.cases.models import Case as CaseModel

    def case(**kw):
        base = {"number": "建安信〔2026〕1<号>", "state": _choice(CaseModel, "state", 3),
                "kind": _choice(CaseModel, "kind"), "channel": _choice(CaseModel, "channel", 1),
                "matter_type": _choice(CaseModel, "matter_type"), "received_at": NOW,
                "registered_at": NOW, "headcount": 1, "matter": "第一行<b>\n第二行 & 完"}
        return CaseModel(**{**base, **kw})

    township, village = Unit(pk=7, name="将官池<镇>"), Unit(pk=8, name="岗朱村")
    every = case(
        accepted_at=NOW, headcount=12, township=township, village=village,
        source_level=_choice(CaseModel, "source_level", 2), source_office="市<信访局>",
        source_reference="交〔2026〕3号", repeat_count=3, level_skipping=True, collective=True,
        extreme_behaviour=True, key_case=True, confidential=True, exited_household=True,
        monitored_household=True, concerns_misconduct=True, transferred_to_discipline=True,
        repeat_of=case(number="旧<1>"), review_of=case(number="原<2>"),
        merged_into=case(number="并<3>"), proposal="建议一\n建议<二>", decline_reason="不属<于>",
        guidance="向法院 & 起诉", reply_mode_required="written",
        leader_owner=User(username="l", full_name="包<案>"), rating=_choice(CaseModel, "rating"),
        rating_at=NOW, reported_back_at=NOW, closed_at=NOW, archived_at=NOW,
        query_code="AB<12>")
    return [every, case(), case(township=township), case(transferred_to_discipline=True),
            case(source_level=_choice(CaseModel, "source_level", 0), repeat_count=1)]


@LANGUAGES
def test_the_case_head_and_summary_are_the_template_they_replace(language):
    from xinfang.cases.models import Respondent
    from xinfang.web.case_sections import case_head_html, summary_html

    respondents = [Respondent(name="某<局>", position="局长&"),
                   Respondent(name="某村", position="")]
    written = []
    with translation.override(language):
        for case in _cases():
            for actions, instruction, code, people in [
                    ([1], "请<督办>", True, respondents), ([], "", False, [])]:
                want = oracle("case_summary.html", case=case, actions=actions,
                              leader_instruction=instruction, show_query_code=code,
                              respondents=people)
                got = case_head_html(case, bool(actions)) + summary_html(
                    case, leader_instruction=instruction, show_query_code=code,
                    respondents=people)
                assert norm(got) == norm(want), case.number
                written.append(got)
    assert "AB&lt;12&gt;" in written[0] and "包&lt;案&gt;" in written[0]
    assert "第一行&lt;b&gt;<br>第二行" in written[0] and "AB&lt;12&gt;" not in written[1]


@LANGUAGES
def test_the_demands_and_warnings_are_the_template_they_replace(language):
    from xinfang.cases.models import Demand, WarningNotice
    from xinfang.web.case_sections import demands_html, warnings_html

    demands = [
        Demand(text="申请<危房>改造", category="住房&安全", finding=_choice(Demand, "finding"),
               resolution_class=_choice(Demand, "resolution_class"), finding_note="已<核实>"),
        Demand(text="其他", category="其他", finding=_choice(Demand, "finding", 1)),
        Demand(text="未认定", category="x"),
    ]
    warnings = [
        WarningNotice(issued_at=NOW, reasons=["超期<3天>", "重复"], to_roles=["clerk", "x<y>"],
                      answered_at=NOW, cause="原因<一>", measures="措施&二"),
        WarningNotice(issued_at=NOW, reasons=[], to_roles=[]),
    ]
    with translation.override(language):
        for d, w in [(demands, warnings), ([], [])]:
            want = oracle("case_demands_warnings.html", demands=d, warnings=w)
            assert norm(demands_html(d) + warnings_html(w)) == norm(want)
