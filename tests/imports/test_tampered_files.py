"""Files handed to the imports by a clumsy or hostile hand: line endings of another system,
a cell too long for the CSV reader, control characters, workbooks built to exhaust the server.
Each is read or refused with a sentence naming where, never a server error."""

from __future__ import annotations

import pytest

from xinfang.cases.models import Case
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


def test_a_csv_cell_longer_than_the_reader_takes_is_named_by_its_line(jianan):
    long_row = ROW.replace("反映问题", "很长" * 70_000)
    out = run(jianan, csv_ledger(ROW, long_row), dry_run=True)
    assert [str(i) for i in out.issues] == [
        "台账.csv：CSV 第4行有一格超过131072个字符，无法读取；请检查该行的引号是否成对"
    ]
    assert not Case.objects.exists()


def test_control_characters_pasted_into_a_cell_are_left_out(jianan):
    # given: a NUL and a bell pasted into a name and a problem (PostgreSQL refuses NUL in text)
    content = csv_ledger(ROW.replace("张三", "张\x00三\x07").replace("反映问题", "反映\x00问题"))
    # when
    out = run(jianan, content)
    # then
    assert not out.issues and out.committed
    case = Case.objects.get()
    assert case.petitioner_links.get().petitioner.name == "张三"
    assert case.matter == "反映问题"
