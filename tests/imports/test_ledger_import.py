"""Importing hand-filled ledgers: every messy spelling, the dry run naming sheet/row/column,
all or nothing, --skip-invalid, re-import, audit with SHA-256, encrypted identities."""

import hashlib
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from xinfang.audit.models import AuditEntry
from xinfang.cases import choices as c
from xinfang.cases.models import Case, Clock, Petitioner
from xinfang.imports.cells import read_date, read_mark, read_phone, split_locality
from xinfang.imports.models import ImportBatch, ImportedRow
from xinfang.imports.services import ImportRefused, ledger_import
from xinfang.registers.models import BacklogCase, ScreeningFinding
from xinfang.security.masking import mask_name
from xinfang.security.names import name_index

from .books import L0_HEAD, l0_bad_row, l0_book, l0_good_rows, mixed_book


def run(j, content, **kw):
    kw.setdefault("dry_run", False)
    kw.setdefault("skip_invalid", False)
    return ledger_import(by=j.member("clerk"), content=content, filename="台账.xlsx", **kw)


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("2022.3.5", date(2022, 3, 5)),
        ("2022年3月5日", date(2022, 3, 5)),
        ("2022/03/05", date(2022, 3, 5)),
        ("2022-3-5", date(2022, 3, 5)),
        ("20220305", date(2022, 3, 5)),
        (44630, date(2022, 3, 10)),
        ("3月5日", date(2022, 3, 5)),
        (" 2022 年 3 月 5 日 ", date(2022, 3, 5)),
        (None, None),
        ("", None),
    ],
)
def test_every_date_spelling(raw, expected):
    assert read_date(raw, year=2022) == expected


def test_a_date_without_year_and_no_title_year_is_refused():
    with pytest.raises(ValueError, match="没有年份"):
        read_date("3月5日", year=None)


@pytest.mark.parametrize(
    "raw,expected",
    [
        (13812345678, "13812345678"),
        (13812345678.0, "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("0374-5123456", "0374-5123456"),
        ("0374 5123456", "0374-5123456"),
        ("", ""),
    ],
)
def test_every_phone_spelling(raw, expected):
    assert read_phone(raw) == expected


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("是", True),
        ("√", True),
        ("✓", True),
        ("否", False),
        ("×", False),
        (None, None),
        ("", None),
        (" 是 ", True),
    ],
)
def test_every_yes_mark(raw, expected):
    assert read_mark(raw) == expected


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("将官池镇岗朱村", ("将官池镇", "岗朱村")),
        ("椹涧乡(镇)小河村(社区)", ("椹涧乡", "小河村")),
        ("五女店镇 魏庄村", ("五女店镇", "魏庄村")),
        ("将官池镇岗朱村3组", ("将官池镇", "岗朱村")),
        ("将官池镇", ("将官池镇", "")),
    ],
)
def test_locality_spellings(raw, expected):
    assert split_locality(raw) == expected


def test_dry_run_names_sheet_row_and_column_and_writes_nothing(jianan, capsys):
    content = l0_book(l0_good_rows() + [l0_bad_row()])
    before = Case.objects.count()
    out = run(jianan, content, dry_run=True)
    texts = [str(i) for i in out.issues]
    # the bad row is Excel row 11: title, block, blank, two header rows, five good rows
    assert (
        "2022年台账 第11行 D列（电话）：电话“12345”有误：手机号码应为11位数字，现为5位。" in texts
    )
    assert any(t.startswith("2022年台账 第11行 I列（交办时间）") and "不存在" in t for t in texts)
    assert any(t.startswith("2022年台账 第11行 F列（问题类别）") and "修路" in t for t in texts)
    assert len(texts) == 3  # the footnote and the signature line below are not rows
    assert out.count("new") == 5 and not out.committed
    assert Case.objects.count() == before and not ImportBatch.objects.exists()


def test_dry_run_command_exits_non_zero_and_lists_every_error(jianan, tmp_path, capsys):
    path = tmp_path / "台账.xlsx"
    path.write_bytes(l0_book(l0_good_rows() + [l0_bad_row()]))
    with pytest.raises(CommandError):
        call_command("import_ledger", str(path), "--as", "clerk", "--dry-run")
    err = capsys.readouterr().err
    assert "第11行 D列（电话）" in err and "第11行 I列（交办时间）" in err
    assert not Case.objects.filter(events__type="import").exists()


def test_all_or_nothing_by_default(jianan):
    out = run(jianan, l0_book(l0_good_rows() + [l0_bad_row()]))
    assert not out.committed
    assert not Case.objects.exists() and not ImportedRow.objects.exists()
    assert not AuditEntry.objects.filter(action="import").exists()


def test_skip_invalid_imports_the_good_rows_and_lists_the_bad(jianan, tmp_path, capsys):
    path = tmp_path / "台账.xlsx"
    path.write_bytes(l0_book(l0_good_rows() + [l0_bad_row()]))
    call_command("import_ledger", str(path), "--as", "clerk", "--skip-invalid")
    captured = capsys.readouterr()
    assert "第11行 D列（电话）" in captured.err
    assert Case.objects.count() == 5
    assert ImportedRow.objects.count() == 5


def test_l0_rows_become_cases_with_history_and_closed_clocks(jianan):
    content = l0_book()
    out = run(jianan, content)
    assert out.committed and out.count("created") == 5
    digest = hashlib.sha256(content).hexdigest()
    first = Case.objects.get(events__type="import", events__payload__ledger_number="建安2022-001")
    # registered through case_register: a number of the office, the register event, then import
    types = list(first.events.order_by("seq").values_list("type", flat=True))
    assert types[0] == "register" and types[-1] == "import"
    event = first.events.get(type="import")
    assert event.payload["file_sha256"] == digest and event.payload["row"] == 6
    assert (
        event.payload["handling_unit"] == "区住建局" and event.payload["handling"] == "已核实并补发"
    )
    assert event.mac  # sealed into the chain like every event
    assert first.state == c.State.CLOSED and first.closed_at.date() == date(2022, 4, 1)
    assert first.received_at.date() == date(2022, 3, 5) and first.year == 2022
    assert (
        not Clock.objects.filter(case=first, kind="deadline")
        .exclude(status=Clock.Status.STOPPED)
        .exists()
    )
    assert first.township == jianan.townships["将官池镇"]
    assert first.village == jianan.villages["岗朱村"]
    # an open row stays open, its clocks running from the received date
    open_case = Case.objects.get(events__payload__ledger_number="建安2022-002")
    assert open_case.state == c.State.REGISTERED
    # "3月8日" took its year from the title; an Excel serial number read as a date
    assert Case.objects.get(
        events__payload__ledger_number="建安2022-004"
    ).received_at.date() == date(2022, 3, 8)
    assert Case.objects.get(
        events__payload__ledger_number="建安2022-005"
    ).received_at.date() == date(2022, 3, 10)


def test_identities_are_encrypted_like_typed_ones(jianan):
    run(jianan, l0_book())
    person = Petitioner.objects.get(name_index=name_index("张三明"))
    assert person.name == "张三明" and person.phone == "13812345678"
    assert Petitioner.objects.filter(name_index=name_index("李四")).exists()  # "李 四" joined
    with connection.cursor() as cur:
        cur.execute("SELECT name, phone, address FROM cases_petitioner")
        stored = " ".join(str(v) for row in cur.fetchall() for v in row)
    for plain in ("张三明", "13812345678", "岗朱村"):
        assert plain not in stored


def test_importing_the_same_file_twice_creates_nothing_twice(jianan):
    content = l0_book()
    run(jianan, content)
    again = run(jianan, content)
    assert again.committed and again.count("created") == 0 and again.count("exists") == 5
    assert Case.objects.count() == 5
    # the same rows in another file (re-saved, one more row) are still known by their key
    more = l0_book(
        l0_good_rows()
        + [["建安2022-009", "新人", "", "", "新问题", "其他", "", "", "2022.6.1", "", ""]]
    )
    third = run(jianan, more)
    assert third.count("created") == 1 and third.count("exists") == 5
    assert Case.objects.count() == 6


def test_each_import_is_audited_with_the_file_sha256(jianan):
    content = l0_book()
    out = run(jianan, content)
    entry = AuditEntry.objects.get(action="import")
    assert entry.detail["sha256"] == hashlib.sha256(content).hexdigest()
    assert entry.detail["created"] == 5 and entry.actor_id == jianan.member("clerk").user_id
    assert entry.object_id == str(out.batch.pk)


def test_l1_and_l2_go_into_the_registers(jianan):
    out = run(jianan, mixed_book(), skip_invalid=True)
    codes = {s.name: s.layout.code if s.layout else None for s in out.reading.sheets}
    assert codes == {"L0": "L0", "排查": "L1", "积案": "L2", "说明": None}
    # the L1 row with a township not in the tree and a yes-mark "也许" is refused, by column
    texts = [str(i) for i in out.issues]
    assert any(t.startswith("排查 第8行 E列（是否脱贫户(监测对象)）") for t in texts), texts
    assert any(t.startswith("排查 第8行 F列") and "不存在镇" in t for t in texts), texts
    findings = ScreeningFinding.objects.order_by("screened_on")
    assert [f.screened_on for f in findings] == [
        date(2022, 5, 10),
        date(2022, 5, 11),
        date(2022, 5, 12),
    ]
    f = findings[0]
    assert f.person_name == "孙红" and f.contact == "0374-5123457"
    assert f.exited_or_monitored and f.solved is True and f.guided is None and f.stable is True
    assert f.township == jianan.townships["将官池镇"] and f.village == jianan.villages["岗朱村"]
    assert f.responsible_unit == jianan.bureaus["区民政局"]
    assert findings[1].solved is False and findings[1].guided is True
    backlog = BacklogCase.objects.order_by("first_petition_on")
    assert backlog.count() == 2
    b = backlog[0]
    assert b.entry == BacklogCase.Entry.IMPORTED and b.case is None
    assert b.person_name == "冯九" and b.contact == "13712345678"
    assert b.village == jianan.villages["大路陈村"] and b.owner_leader_text == "王建国"
    assert b.reason == "诉求过高" and b.guided is True and b.solved is False
    with connection.cursor() as cur:
        cur.execute("SELECT person_name, contact FROM registers_screeningfinding")
        assert "孙红" not in " ".join(str(v) for r in cur.fetchall() for v in r)
    assert run(jianan, mixed_book(), skip_invalid=True).count("created") == 0


def test_only_an_office_clerk_may_import(jianan):
    for key in ("township", "bureau", "approver", "sysadmin"):
        with pytest.raises(ImportRefused):
            ledger_import(
                by=jianan.member(key),
                content=l0_book(),
                filename="a.xlsx",
                dry_run=True,
                skip_invalid=False,
            )


def test_a_file_that_is_not_a_workbook_is_reported_not_raised(jianan):
    out = run(jianan, b"PK\x03\x04 not really a zip", dry_run=True)
    assert out.issues and "不是有效的 .xlsx" in str(out.issues[0])


def test_csv_ledger_in_gbk(jianan):
    text = (
        "2022年信访台账\n"
        + ",".join(L0_HEAD)
        + "\n"
        "X-1,张三,将官池镇岗朱村,13812345678,反映问题,其他,区民政局,,2022.3.5,,\n"
    )
    out = ledger_import(
        by=jianan.member("clerk"),
        content=text.encode("gbk"),
        filename="a.csv",
        dry_run=False,
        skip_invalid=False,
    )
    assert out.committed and out.count("created") == 1


def test_an_id_number_column_links_the_same_person_and_is_checked(jianan):
    from openpyxl import Workbook

    from tests.conftest import id_number

    from .books import save

    good = id_number("41102319800101123")
    wb = Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append(["2022年信访台账"])
    ws.append([*L0_HEAD, "身份证号"])
    base = ["", "张三明", "将官池镇岗朱村", "13812345678", "", "其他", "", "", "", "", ""]
    for i, (when, ident) in enumerate(
        [
            ("2022.3.1", good),
            ("2022.4.1", good.lower()),
            ("2022.5.1", good[:-1] + "0"),
            ("2022.6.1", 411023198001011230),
        ]
    ):
        row = list(base)
        row[0], row[4], row[8] = f"N{i}", f"问题{i}", when
        ws.append([*row, ident])
    out = run(jianan, save(wb), skip_invalid=True)
    texts = [str(i) for i in out.issues]
    assert any(t.startswith("台账 第5行 L列（身份证号）") and "校验位" in t for t in texts), texts
    assert any(t.startswith("台账 第6行 L列（身份证号）") and "数字" in t for t in texts), texts
    assert out.count("created") == 2
    assert Petitioner.objects.count() == 1  # the same ID number is the same person
    second = Case.objects.get(events__payload__ledger_number="N1")
    # 问题0 and 问题1 are two matters of one person: linked to her, not a repeat (issue 14)
    assert second.repeat_count == 0
    assert second.main_petitioner == Case.objects.get(
        events__payload__ledger_number="N0").main_petitioner
    with connection.cursor() as cur:
        cur.execute("SELECT id_number FROM cases_petitioner")
        assert good not in str(cur.fetchall())


def test_an_l2_row_of_a_case_imported_from_l0_is_tied_to_it(jianan):
    from openpyxl import Workbook

    from .books import save

    run(jianan, l0_book())
    wb = Workbook()
    ws = wb.active
    ws.title = "积案"
    ws.append(
        [
            "序号",
            "初访时间",
            "信访人姓名",
            "联系方式",
            "问题所属地",
            "反映问题",
            "问题类别",
            "积案原因",
            "包案人",
        ]
    )
    ws.append(
        [
            1,
            "2022.3.5",
            "张三明",
            "",
            "将官池镇岗朱村",
            "危房改造补助",
            "危房改造",
            "久拖未决",
            "王建国",
        ]
    )
    ws.append([2, "2022.3.5", "无此人", "", "将官池镇岗朱村", "另一问题", "其他", "原因", ""])
    out = run(jianan, save(wb))
    assert out.committed and out.count("created") == 2
    tied = BacklogCase.objects.get(reason="久拖未决")
    assert tied.case.events.filter(payload__ledger_number="建安2022-001").exists()
    assert tied.person_name == ""  # the person is the case's, not copied
    assert BacklogCase.objects.get(reason="原因").case is None


def test_a_ledger_pasted_together_from_word_and_wechat_links_the_person_on_file(jianan):
    # given 王𠀾 (a character of Extension B) registered at the counter
    from openpyxl import Workbook

    from tests.conftest import id_number, register_in
    from xinfang.cases.services import PetitionerInput

    from .books import save

    good = id_number("41102319800101123")
    first = register_in(jianan, petitioners=[PetitionerInput(name="王𠀾", id_number=good,
                                                             phone="13812345678")])

    # when a ledger lists her lined up with spaces, her number grouped by dashes and her
    # phone with Word's en dashes, a row with a letter O in the number, and her neighbour 赵𠀾,
    # lined up too, with no number
    wb = Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append(["2022年信访台账"])
    ws.append([*L0_HEAD, "身份证号"])
    base = ["", "王  𠀾", "将官池镇岗朱村", "138–1234–5678", "", "其他", "", "", "", "", ""]
    typos = good[:4] + "O" + good[5:]
    for i, (when, ident) in enumerate([("2022.3.1", f"{good[:6]}-{good[6:14]}-{good[14:]}"),
                                       ("2022.4.1", f"\u200b{good}"), ("2022.5.1", typos)]):
        row = list(base)
        row[0], row[4], row[8] = f"N{i}", f"问题{i}", when
        ws.append([*row, ident])
    ws.append(["N9", "赵 \u3000𠀾", "将官池镇岗朱村", "13912345678", "问题9", "其他", "", "",
               "2022.6.1", "", "", ""])
    out = run(jianan, save(wb), skip_invalid=True)

    # then both good rows are hers, her name as registered, and the typo is named by its place
    texts = [str(i) for i in out.issues]
    assert any(t.startswith("台账 第5行 L列（身份证号）") and "第5位“O”是字母" in t
               for t in texts), texts
    assert out.count("created") == 3
    assert Petitioner.objects.count() == 2
    assert Petitioner.objects.get(pk=first.main_petitioner.pk).name == "王𠀾"
    assert Case.objects.get(events__payload__ledger_number="N1").main_petitioner == (
        first.main_petitioner)
    # 赵𠀾 is stored as she is written, and masked whole: never 赵*𠀾
    neighbour = Petitioner.objects.exclude(pk=first.main_petitioner.pk).get()
    assert neighbour.name == "赵𠀾" and mask_name(neighbour.name) == "赵*"
