"""An output the command line cannot write — a directory that does not exist, a directory
named as the file — is refused naming the argument, before anything is built or audited: no
traceback, no export in the audit trail that left no file, nothing half written."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from tests.documents.cases import walk
from xinfang.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def commands(j, case, out: str) -> dict[str, tuple[list[str], str]]:
    clerk = j.member("clerk").user.username
    approver = j.member("approver").user.username
    return {
        "export_ledger": (["export_ledger", "l0", out, "--as", clerk], "out："),
        "report": (["report", "monthly", "--period", "2026-09", "--out", out,
                    "--as", approver], "--out："),
        "scores": (["scores", "bulletin", "--period", "2026-Q3", "--out", out,
                    "--as", approver], "--out："),
        "document": (["document", case.number, "D1", "--as", clerk, "--out", out], "--out："),
        "archive": (["archive", "build", case.number, "--as", clerk, "--out", out,
                     "--no-pdf"], "--out："),
    }


@pytest.mark.parametrize("name", ["export_ledger", "report", "scores", "document", "archive"])
@pytest.mark.parametrize("where", ["missing directory", "a directory"])
def test_an_output_that_cannot_be_written_is_refused_by_name_before_any_work(
        jianan, tmp_path, name, where):
    # given
    case = walk(jianan, until="issue_letter")
    out = tmp_path / "nowhere" / "out.bin" if where == "missing directory" else tmp_path
    argv, argument = commands(jianan, case, str(out))[name]
    exports = AuditEntry.objects.filter(action__in=["export", "download"]).count()
    before = sorted(p.name for p in tmp_path.iterdir())
    # when / then
    with pytest.raises(CommandError, match=argument):
        call_command(*argv)
    assert AuditEntry.objects.filter(action__in=["export", "download"]).count() == (
        exports)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no temporary file left


def test_the_weekly_folder_that_is_a_file_is_refused_by_name(jianan, tmp_path):
    walk(jianan, until="issue_letter")
    taken = tmp_path / "week"
    taken.write_text("not a folder")
    with pytest.raises(CommandError, match="target："):
        call_command("archive", "week", str(taken), "--as", jianan.member("clerk").user.username,
                     "--no-pdf")
    assert taken.read_text() == "not a folder"
