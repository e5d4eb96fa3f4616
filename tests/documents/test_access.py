"""The documents from the case page, the API and the command line, through the one door."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from tests.api.world import client_as
from tests.documents.cases import MAIN, SECRET, issued, walk
from tests.documents.test_instruments import text_of
from tests.web.conftest import signed_in
from xinfang.audit.models import AuditEntry
from xinfang.documents.models import IssuedDocument

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(jianan):
    return walk(jianan, until="record_pledge", petitioners=[MAIN, SECRET])


def test_the_case_page_offers_the_issuable_documents(case, jianan):
    # given the letter frozen by its step's task, the notice's task not run yet
    issued(case, "D2")
    page = signed_in(jianan.member("clerk")).get(reverse("web:case", kwargs={"pk": case.pk}))
    html = page.content.decode()
    assert page.status_code == 200
    # then the frozen one is offered by links, the other by a button that posts
    assert f'href="/cases/{case.pk}/documents/D2.pdf"' in html
    assert f'<form method="post" action="/cases/{case.pk}/documents/D1.docx"' in html
    assert 'data-document="D1-issue"' in html and 'data-document="D1-docx"' not in html
    assert "D9-closing" not in html, "not closed: no closing report offered"


def test_a_download_of_a_document_not_frozen_yet_freezes_nothing_and_offers_to_issue_it(
        case, jianan):
    # given the acceptance notice, ready but not frozen (its step's task has not run)
    url = f"/cases/{case.pk}/documents/D1.docx"
    # when the link is followed (a GET: a prefetch, a bookmark, a link from another site)
    page = signed_in(jianan.member("clerk")).get(url)
    api = client_as(jianan.member("clerk")).get(f"/api/cases/{case.pk}/documents/D1/docx/")
    # then nothing is frozen or audited as issued; the page offers the POST, the API names it
    assert page.status_code == 409 and "尚未出具" in page.content.decode()
    assert 'method="post"' in page.content.decode()
    assert api.status_code == 422
    assert f"POST /api/cases/{case.pk}/documents/D1/issue/" in api.json()["detail"]
    assert not IssuedDocument.objects.filter(case=case).exists()
    assert not AuditEntry.objects.filter(action="document_issue").exists()


def test_the_issue_action_over_the_api_freezes_once_in_the_callers_name(case, jianan):
    api = client_as(jianan.member("clerk"))
    first = api.post(f"/api/cases/{case.pk}/documents/D1/issue/")
    assert first.status_code == 201 and first.json()["version"] == 1
    again = api.post(f"/api/cases/{case.pk}/documents/D1/issue/")
    assert again.status_code == 200 and again.json()["version"] == 1
    doc = IssuedDocument.objects.get(case=case, code="D1")
    assert doc.issued_by == jianan.member("clerk").user
    assert AuditEntry.objects.filter(action="document_issue", actor=doc.issued_by).count() == 1
    closing = api.post(f"/api/cases/{case.pk}/documents/D9-closing/issue/")
    assert closing.status_code == 422 and "尚未销号" in closing.json()["detail"]
    outsider = client_as(jianan.member("discipline"))
    assert outsider.post(f"/api/cases/{case.pk}/documents/D2/issue/").status_code == 404
    assert not IssuedDocument.objects.filter(case=case, code="D2").exists()


def test_the_clerk_downloads_the_acceptance_notice_from_the_case_page(case, jianan):
    # the page's button issues it (a POST), then the file is downloaded
    clerk = signed_in(jianan.member("clerk"))
    issuing = clerk.post(f"/cases/{case.pk}/documents/D1.docx")
    assert issuing.status_code == 302 and issuing.url == f"/cases/{case.pk}/documents/D1.docx"
    response = clerk.get(issuing.url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    text = text_of(response.content)
    assert "信访事项受理告知书" in text and case.number in text and "李秀英" in text


def test_a_document_not_yet_issued_is_refused_with_the_step_it_waits_for(case, jianan):
    response = signed_in(jianan.member("clerk")).get(f"/cases/{case.pk}/documents/D9-closing.docx")
    assert response.status_code == 409 and "尚未销号" in response.content.decode()


def test_someone_outside_the_case_gets_a_404_not_the_document(case, jianan, jurisdiction):
    other = jurisdiction("lihai")
    for m in (jianan.member("discipline"), other.member("clerk")):
        assert signed_in(m).get(f"/cases/{case.pk}/documents/D1.docx").status_code == 404
        assert client_as(m).get(f"/api/cases/{case.pk}/documents/D1/docx/").status_code == 404
    assert signed_in(jianan.member("sysadmin")).get(
        f"/cases/{case.pk}/documents/D1.docx"
    ).status_code in (302, 403)
    assert not IssuedDocument.objects.exists(), "a refused reader froze nothing"


def test_the_handling_unit_gets_its_copy_over_the_api(case, jianan):
    api = client_as(jianan.member("township"))
    listing = api.get(f"/api/cases/{case.pk}/documents/").json()
    assert {r["code"] for r in listing} >= {"D1", "D2", "D5"}
    d2 = next(r for r in listing if r["code"] == "D2")
    assert d2["waiting_for"] == "" and d2["version"] is None
    issued(case, "D1")
    response = api.get(f"/api/cases/{case.pk}/documents/D1/docx/")
    assert response.status_code == 200 and len(response["X-Content-SHA256"]) == 64
    text = text_of(response.content)
    assert "张三明" in text and "李秀英" not in text and case.query_code not in text
    assert api.get(f"/api/cases/{case.pk}/documents/D9-closing/docx/").status_code == 422


@pytest.mark.parametrize("version", ["\u00b2", "v1", "0", "-1", "1.0"])
def test_a_version_that_is_no_number_is_refused_naming_it_not_the_latest_served(
        case, jianan, version):
    # "²" passed isdigit() and failed int(): a 500; "v1" was read as no version at all, and a
    # client asking for the first version was sent the latest without a word
    api = client_as(jianan.member("clerk"))
    response = api.get(f"/api/cases/{case.pk}/documents/D1/docx/", {"version": version})
    assert response.status_code == 400 and "version" in response.json()["errors"]
    page = signed_in(jianan.member("clerk")).get(f"/cases/{case.pk}/documents/D1.docx",
                                                 {"version": version})
    assert page.status_code == 400 and "版本" in page.content.decode()
    assert not IssuedDocument.objects.filter(case=case, code="D1").exists(), "nothing frozen"


def test_the_schema_documents_the_document_version_parameter(jianan):
    schema = client_as(jianan.member("clerk")).get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/cases/{id}/documents/{code}/{fmt}/"]["get"]
    assert "version" in {p["name"] for p in operation["parameters"]}
    assert "400" in operation["responses"]


def test_a_correction_over_the_api_needs_a_reason_and_keeps_both_versions(case, jianan):
    api = client_as(jianan.member("clerk"))
    issued(case, "D2")
    assert api.get(f"/api/cases/{case.pk}/documents/D2/docx/").status_code == 200
    bad = api.post(f"/api/cases/{case.pk}/documents/D2/corrections/", {"reason": ""}, format="json")
    assert bad.status_code == 422 and bad.json()["field"] == "reason"
    ok = api.post(
        f"/api/cases/{case.pk}/documents/D2/corrections/", {"reason": "日期笔误"}, format="json"
    )
    assert ok.status_code == 201 and ok.json()["version"] == 2
    first = api.get(f"/api/cases/{case.pk}/documents/D2/docx/?version=1")
    assert first.status_code == 200
    assert IssuedDocument.objects.filter(case=case, code="D2").count() == 2


@pytest.mark.parametrize("ref", ["\u00b2", "\u2460", "99999999999999999999999"])
def test_the_command_answers_a_case_reference_that_is_no_id_as_not_found(
        case, jianan, tmp_path, ref):
    # "²" and "①" pass isdigit() and fail int(): a ValueError traceback
    with pytest.raises(CommandError, match="没有信访件"):
        call_command("document", ref, "D1", "--as", jianan.member("clerk").user.username,
                     "--out", str(tmp_path / "d1.docx"))


def test_the_command_writes_the_document_as_the_user_may_see_it(case, jianan, tmp_path):
    out = tmp_path / "d1.docx"
    call_command(
        "document",
        case.number,
        "D1",
        "--as",
        jianan.member("township").user.username,
        "--out",
        str(out),
    )
    text = text_of(out.read_bytes())
    assert case.number in text and "李秀英" not in text
    with pytest.raises(CommandError, match="无权查看"):
        call_command(
            "document",
            case.number,
            "D1",
            "--as",
            jianan.member("discipline").user.username,
            "--out",
            str(out),
        )
    with pytest.raises(CommandError, match="没有文书“D0”"):
        call_command(
            "document",
            str(case.pk),
            "D0",
            "--as",
            jianan.member("clerk").user.username,
            "--out",
            str(out),
        )


def test_a_pdf_not_yet_made_is_answered_at_once_with_pdf_in_progress(case, jianan, monkeypatch):
    from xinfang.documents import pdf

    monkeypatch.setattr(pdf, "soffice", lambda: "/usr/bin/soffice")
    issued(case, "D2")
    page = signed_in(jianan.member("clerk")).get(f"/cases/{case.pk}/documents/D2.pdf")
    assert page.status_code == 202 and "PDF 生成中" in page.content.decode()
    assert page["Refresh"] == "3"
    api = client_as(jianan.member("clerk")).get(f"/api/cases/{case.pk}/documents/D2/pdf/")
    assert api.status_code == 202 and api.json()["status"] == "pending"


def test_without_libreoffice_the_pdf_link_says_so_in_chinese(case, jianan, monkeypatch):
    from xinfang.documents import pdf

    monkeypatch.setattr(pdf, "soffice", lambda: None)
    issued(case, "D2")
    page = signed_in(jianan.member("clerk")).get(f"/cases/{case.pk}/documents/D2.pdf")
    assert page.status_code == 409 and "未安装 LibreOffice" in page.content.decode()
    assert (
        signed_in(jianan.member("clerk")).get(f"/cases/{case.pk}/documents/D2.docx").status_code
        == 200
    )


def test_an_inspector_downloads_an_issued_document_but_does_not_issue_one(case, jianan):
    # given the acceptance notice ready but not frozen, the letter frozen by its step's task
    issued(case, "D2")
    inspector = jianan.member("inspector")
    page = signed_in(inspector).get(reverse("web:case", kwargs={"pk": case.pk}))
    html = page.content.decode()
    # then the inspector's case page offers the frozen one and no button to issue the other
    assert page.status_code == 200 and 'data-document="D2-docx"' in html
    assert 'data-document="D1-issue"' not in html and "也可以现在出具" not in html
    # and an issue asked for anyway, on the page or the API, is refused and freezes nothing
    refused = signed_in(inspector).post(f"/cases/{case.pk}/documents/D1.docx")
    assert refused.status_code == 409 and "经办人" in refused.content.decode()
    api = client_as(inspector).post(f"/api/cases/{case.pk}/documents/D1/issue/")
    assert api.status_code == 422 and api.json()["field"] == "code"
    assert not IssuedDocument.objects.filter(case=case, code="D1").exists()
    # an issued one is the inspector's to read: asked again, it is handed back unchanged
    again = client_as(inspector).post(f"/api/cases/{case.pk}/documents/D2/issue/")
    assert again.status_code == 200 and again.json()["version"] == 1
