"""Files handed to the imports by a clumsy or hostile hand: line endings of another system,
a cell too long for the CSV reader, control characters, workbooks built to exhaust the server.
Each is read or refused with a sentence naming where, never a server error."""

from __future__ import annotations

import pytest

from xinfang.imports.services import ledger_import

from .books import L0_HEAD

pytestmark = pytest.mark.django_db


def run(j, content, filename="台账.csv", **kw):
    kw.setdefault("dry_run", False)
    kw.setdefault("skip_invalid", False)
    return ledger_import(by=j.member("clerk"), content=content, filename=filename, **kw)


def csv_ledger(*rows: str, newline: str = "\n") -> bytes:
    lines = ["2022年信访台账", ",".join(L0_HEAD), *rows]
    return newline.join(lines).encode() + newline.encode()


ROW = "X-1,张三,将官池镇岗朱村,13812345678,反映问题,其他,区民政局,,2022.3.5,,"


def test_a_csv_saved_with_old_mac_line_endings_is_read(jianan):
    # given: Excel for Mac's "CSV (Macintosh)" ends lines with a lone CR
    content = csv_ledger(ROW, ROW.replace("X-1", "X-2"), newline="\r")
    # when
    out = run(jianan, content)
    # then
    assert not out.issues
    assert out.committed and out.count("created") == 2

