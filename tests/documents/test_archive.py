"""一案一档: build, verify, and a tampered file named."""

from __future__ import annotations

import json
import re
import zipfile

import pytest
from django.core.management import CommandError, call_command

from tests.documents.cases import issued, walk
from xinfang.documents.selectors import document_file

pytestmark = pytest.mark.django_db


def test_the_case_file_holds_the_issued_documents_and_a_tampered_one_is_named(jianan, tmp_path):
    case = walk(jianan)
    clerk = jianan.member("clerk")
    issued(case, "D1", "D2", "D3", "D9-closing", by=clerk)
    out = tmp_path / "case.zip"
    call_command(
        "archive", "build", case.number, "--as", clerk.user.username, "--out", str(out), "--no-pdf"
    )
    z = zipfile.ZipFile(out)
    manifest = json.loads(z.read("manifest.json"))
    paths = [f["path"] for f in manifest["files"]]
    assert paths[0] == "00-封面及卷内目录.docx" and manifest["case_version"] == case.version
    assert any("D1-信访事项受理告知书-v1.docx" in p for p in paths)
    assert "history/办理记录.docx" in paths and "ledger/台账.json" in paths
    call_command("archive", "verify", str(out))
    # tamper: one document's bytes changed, the manifest left as it was
    victim = next(p for p in paths if "D2-" in p)
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(tampered, "w") as t:
        for name in z.namelist():
            data = z.read(name)
            t.writestr(name, data + b"x" if name == victim else data)
    with pytest.raises(CommandError, match=victim.replace("(", r"\(")):
        call_command("archive", "verify", str(tampered))


def test_someone_outside_the_case_cannot_build_its_file(jianan, tmp_path):
    case = walk(jianan, until="issue_letter")
    with pytest.raises(CommandError, match="无权查看"):
        call_command(
            "archive",
            "build",
            case.number,
            "--as",
            jianan.member("discipline").user.username,
            "--out",
            str(tmp_path / "x.zip"),
        )


def test_the_case_page_serves_the_case_file_to_those_who_may_see_it(jianan):
    from tests.web.conftest import signed_in
    from xinfang.documents.archive import archive_verify

    case = walk(jianan, until="issue_letter")
    response = signed_in(jianan.member("clerk")).get(f"/cases/{case.pk}/archive.zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert archive_verify(response.content)["case"] == case.number
    assert (
        signed_in(jianan.member("discipline")).get(f"/cases/{case.pk}/archive.zip").status_code
        == 404
    )


def test_archive_verify_of_a_case_names_a_stored_document_edited_in_the_database(jianan):
    from xinfang.documents.models import Rendition

    case = walk(jianan, until="issue_letter")
    clerk = jianan.member("clerk")
    issued(case, "D1")
    row = document_file(by=clerk, case_id=case.pk, code="D1")
    call_command("archive", "verify", case.number, "--as", clerk.user.username)
    Rendition.objects.filter(pk=row.pk).update(content=bytes(row.content) + b"\0")
    with pytest.raises(CommandError, match="D1 信访事项受理告知书 第1版"):
        call_command("archive", "verify", case.number, "--as", clerk.user.username)


def test_archive_verify_of_a_mistyped_path_says_the_file_is_missing(jianan, tmp_path):
    # given a case file's path typed wrong (案卷 for 案件), and the folder it would be in
    typed = str(tmp_path / "案卷-0001.zp")
    # when it is verified, without --as or with it
    # then the file is said to be missing, named as it was typed, and no case is looked up
    with pytest.raises(CommandError, match="没有案卷文件“" + re.escape(typed) + "”") as e:
        call_command("archive", "verify", typed)
    assert "--as" in str(e.value)  # a case is verified with --as: the other reading, offered
    zipped = str(tmp_path / "missing.zip")
    clerk = jianan.member("clerk").user.username
    with pytest.raises(CommandError, match="没有案卷文件“" + re.escape(zipped) + "”。$"):
        call_command("archive", "verify", zipped, "--as", clerk)
    with pytest.raises(CommandError, match="“" + re.escape(str(tmp_path)) + "”不是文件"):
        call_command("archive", "verify", str(tmp_path))


@pytest.mark.libreoffice
def test_the_case_file_carries_each_document_and_the_history_as_pdf(jianan, tmp_path):
    from tests.documents.test_pdf import _need

    _need("soffice", "libreoffice-writer-nogui")
    case = walk(jianan, until="deliver_acceptance_notice")
    clerk = jianan.member("clerk")
    issued(case, "D1")
    out = tmp_path / "case.zip"
    call_command("archive", "build", case.number, "--as", clerk.user.username, "--out", str(out))
    paths = [f["path"] for f in json.loads(zipfile.ZipFile(out).read("manifest.json"))["files"]]
    assert "00-封面及卷内目录.pdf" in paths and "history/办理记录.pdf" in paths
    assert any(p.endswith("D1-信访事项受理告知书-v1.pdf") for p in paths)
    call_command("archive", "verify", str(out))


def test_the_weekly_report_back_folder_holds_one_case_file_per_closed_case(jianan, tmp_path):
    closed = walk(jianan)
    walk(jianan, until="issue_letter")  # not closed: not in the week's folder
    folder = tmp_path / "week"
    call_command(
        "archive",
        "week",
        str(folder),
        "--as",
        jianan.member("clerk").user.username,
        "--since",
        "2020-01-01",
        "--no-pdf",
    )
    files = sorted(p.name for p in folder.iterdir())
    assert files == [f"{closed.number}.zip"]
    call_command("archive", "verify", str(folder / files[0]))
