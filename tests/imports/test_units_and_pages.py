"""The unit tree from a file (command and admin pages) and the ledger import pages."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from openpyxl import Workbook

from xinfang.audit.models import AuditEntry
from xinfang.cases.models import Case
from xinfang.imports.models import ImportBatch
from xinfang.imports.units import units_import
from xinfang.org.choices import Level, UnitKind
from xinfang.org.models import Unit
from xinfang.web.admin_services import unit_set_active

from .books import l0_bad_row, l0_book, l0_good_rows

PASSWORD = "Xinfang#2026demo"


def units_xlsx(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "单位"
    ws.append(["建安区单位树"])
    ws.append(["单位路径", "类型"])
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


TREE = [
    # children before parents on purpose: parents are created first whatever the order
    ["河南省/许昌市/建安区/张潘镇/古城村", "村"],
    ["河南省/许昌市/建安区/张潘镇", "乡镇"],
    ["河南省/许昌市/建安区", "县区"],
    [" 河南省 / 许昌市 / 建安区 / 建安区信访局", "信访机构"],
    ["河南省/许昌市/建安区/区财政局", "部门"],
]


def test_units_import_creates_missing_units_under_their_parents(jianan):
    outcome = units_import(content=units_xlsx(TREE), filename="u.xlsx", by=None, dry_run=False)
    assert outcome.ok, outcome.errors
    assert sorted(outcome.created) == sorted(
        [
            "河南省/许昌市/建安区/张潘镇/古城村",
            "河南省/许昌市/建安区/张潘镇",
            "河南省/许昌市/建安区/建安区信访局",
            "河南省/许昌市/建安区/区财政局",
        ]
    )
    village = Unit.objects.get(name="古城村")
    assert village.level == Level.VILLAGE and village.parent.name == "张潘镇"
    assert village.parent.parent == jianan.county  # existing units kept, not duplicated
    office = Unit.objects.get(name="建安区信访局")
    assert office.kind == UnitKind.PETITION_OFFICE and office.level == Level.COUNTY
    assert village.path.startswith(jianan.county.path)
    entry = AuditEntry.objects.get(object_type="unit_import")
    assert len(entry.detail["sha256"]) == 64 and len(entry.detail["created"]) == 4
    count = Unit.objects.count()
    again = units_import(content=units_xlsx(TREE), filename="u.xlsx", by=None, dry_run=False)
    assert again.ok and again.created == [] and Unit.objects.count() == count


def test_units_import_reads_each_parents_children_once(jianan):
    # a province's tree is tens of thousands of rows: the existing units are looked up by
    # parent, one query each, not one per row
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def reads(villages: int) -> int:
        rows = [[f"河南省/许昌市/建安区/将官池镇/村{i}", "村"] for i in range(villages)]
        with CaptureQueriesContext(connection) as q:
            outcome = units_import(content=units_xlsx(rows), filename="u.xlsx", by=None,
                                   dry_run=True)
        assert outcome.ok and len(outcome.created) == villages, outcome.errors
        return sum(1 for x in q.captured_queries
                   if x["sql"].startswith('SELECT') and '"org_unit"' in x["sql"])

    assert reads(3) == reads(30)
    # and the first made of two units with one name is the one found, as before
    town = Unit.objects.get(name="将官池镇")
    first = Unit.objects.create(name="重名村", level=Level.VILLAGE, kind=UnitKind.VILLAGE,
                                parent=town)
    Unit.objects.create(name="重名村", level=Level.VILLAGE, kind=UnitKind.VILLAGE, parent=town)
    outcome = units_import(content=units_xlsx([["河南省/许昌市/建安区/将官池镇/重名村/一组",
                                                "村"]]), filename="u.xlsx", by=None,
                           dry_run=False)
    assert outcome.ok, outcome.errors
    assert Unit.objects.get(name="一组").parent == first


def test_units_dry_run_and_errors_by_row(jianan, tmp_path, capsys):
    bad = TREE + [
        ["河南省/许昌市/无此区/某镇", "乡镇"],
        ["河南省/许昌市/建安区/某村", "村庄"],
        ["河南省/许昌市/建安区/将官池镇", "村"],
    ]
    path = tmp_path / "u.xlsx"
    path.write_bytes(units_xlsx(bad))
    count = Unit.objects.count()
    with pytest.raises(CommandError):
        call_command("units", "import", str(path), "--dry-run")
    err = capsys.readouterr().err
    assert "单位 第8行：上级单位“河南省/许昌市/无此区”不存在" in err
    assert "单位 第9行 B列（类型）：“村庄”不是有效类型" in err
    assert "单位 第10行" in err and "已存在" in err
    assert Unit.objects.count() == count
    path.write_bytes(units_xlsx(TREE))
    call_command("units", "import", str(path), "--dry-run")
    assert "将新建 4 个单位" in capsys.readouterr().out and Unit.objects.count() == count
    call_command("units", "import", str(path))
    assert Unit.objects.count() == count + 4


def test_units_csv(jianan):
    csv = "单位路径,类型\n河南省/许昌市/建安区/新镇,乡镇\n".encode("gbk")
    assert units_import(content=csv, filename="u.csv", by=None, dry_run=False).created == [
        "河南省/许昌市/建安区/新镇"
    ]


def login(client, j, key):
    client.login(username=j.member(key).user.username, password=PASSWORD)


def test_units_pages_upload_preview_confirm(client, jianan):
    login(client, jianan, "sysadmin")
    upload = io.BytesIO(units_xlsx(TREE))
    upload.name = "单位.xlsx"
    r = client.post(reverse("imports:units_upload"), {"file": upload})
    assert r.status_code == 302
    preview = client.get(r.url)
    body = preview.content.decode()
    assert "将新建" in body and "古城村" in body and "已存在，保持不变" in body
    assert not Unit.objects.filter(name="古城村").exists()
    done = client.post(r.url)
    assert done.status_code == 302 and Unit.objects.filter(name="古城村").exists()
    # a clerk may not reach the unit import
    client.logout()
    login(client, jianan, "clerk")
    assert client.get(reverse("imports:units_upload")).status_code == 403


def test_ledger_pages_preview_every_error_then_confirm(client, jianan):
    login(client, jianan, "clerk")
    upload = io.BytesIO(l0_book(l0_good_rows() + [l0_bad_row()]))
    upload.name = "台账.xlsx"
    r = client.post(reverse("imports:ledger_upload"), {"file": upload})
    assert r.status_code == 302
    body = client.get(r.url).content.decode()
    assert "2022年台账 第11行 D列（电话）" in body and "将新建" in body
    assert "张*明" in body and "张三明" not in body  # the preview masks
    assert not Case.objects.exists()
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.PENDING and "张三明" not in batch.content
    # another clerk's session cannot confirm this upload
    other = jianan.member("city_clerk")
    client.logout()
    client.login(username=other.user.username, password=PASSWORD)
    assert client.post(reverse("imports:ledger_confirm", args=[batch.pk])).status_code == 404
    client.logout()
    login(client, jianan, "clerk")
    # all or nothing: with a bad row and no skip, nothing is written
    client.post(reverse("imports:ledger_confirm", args=[batch.pk]))
    assert not Case.objects.exists()
    upload.seek(0)
    r = client.post(reverse("imports:ledger_upload"), {"file": upload})
    pk = int(r.url.rstrip("/").split("/")[-1])
    client.post(reverse("imports:ledger_confirm", args=[pk]), {"skip_invalid": "1"})
    assert Case.objects.count() == 5
    assert ImportBatch.objects.get(pk=pk).content == ""
    page = client.get(reverse("imports:ledger_upload")).content.decode()
    assert "台账.xlsx" in page  # listed among recent imports


def test_ledger_pages_refuse_those_who_are_not_office_clerks(client, jianan):
    login(client, jianan, "township")
    assert client.get(reverse("imports:ledger_upload")).status_code == 403


def test_a_tampered_or_foreign_upload_is_refused(jianan):
    from xinfang.imports.uploads import UploadRefused, upload_for, upload_hold
    from xinfang.security.crypto import get_keyring

    clerk = jianan.member("clerk")
    batch = upload_hold(
        by=clerk, kind=ImportBatch.Kind.LEDGER, filename="a.xlsx", content=l0_book()
    )
    ImportBatch.objects.filter(pk=batch.pk).update(content=get_keyring().encrypt("b3RoZXI="))
    with pytest.raises(UploadRefused, match="改动"):
        upload_for(by=clerk, pk=batch.pk, kind=ImportBatch.Kind.LEDGER)
    with pytest.raises(UploadRefused):
        upload_for(by=jianan.member("city_clerk"), pk=batch.pk, kind=ImportBatch.Kind.LEDGER)
    with pytest.raises(UploadRefused, match="只能导入"):
        upload_hold(by=clerk, kind=ImportBatch.Kind.LEDGER, filename="a.xls", content=b"x")


def test_an_imported_case_page_says_where_it_came_from(client, jianan):
    from xinfang.imports.services import ledger_import

    content = l0_book()
    ledger_import(
        by=jianan.member("clerk"),
        content=content,
        filename="台账.xlsx",
        dry_run=False,
        skip_invalid=False,
    )
    case = Case.objects.get(events__payload__ledger_number="建安2022-001")
    login(client, jianan, "clerk")
    body = client.get(reverse("web:case", args=[case.pk])).content.decode()
    assert "从历史台账导入" in body and "文件SHA-256" in body and "台账编号" in body
    assert "建安2022-001" in body and "ledger_number" not in body


def test_the_preview_reads_in_a_fixed_number_of_queries(client, jianan):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login(client, jianan, "clerk")
    counts = []
    # the first page of a session fills per-process caches (profile, calendar): warm up once
    for rows in (l0_good_rows()[:1], l0_good_rows()[:1], l0_good_rows() * 20):
        upload = io.BytesIO(l0_book(rows))
        upload.name = "台账.xlsx"
        url = client.post(reverse("imports:ledger_upload"), {"file": upload}).url
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[1] == counts[2], counts


def test_an_existing_unit_of_another_kind_is_kept(jianan):
    rows = [["河南省/许昌市/建安区/建安区乡村振兴局", "信访机构"]]
    outcome = units_import(content=units_xlsx(rows), filename="u.xlsx", by=None, dry_run=False)
    assert outcome.ok and outcome.created == []
    assert "乡村振兴局" in outcome.rows[0].note
    jianan.office.refresh_from_db()
    assert jianan.office.kind == UnitKind.POVERTY_OFFICE


def test_units_import_refuses_anyone_but_the_system_administrator(jianan):
    from xinfang.imports.units import UnitsRefused

    with pytest.raises(UnitsRefused):
        units_import(
            content=units_xlsx(TREE), filename="u.xlsx", by=jianan.member("clerk"), dry_run=True
        )


# -- the tree changed since (乡镇撤并): moved, merged away, switched off -------------------------


def test_a_village_moved_in_the_file_is_not_moved_but_made_anew_and_said_so(
        jianan, tmp_path, capsys, client):
    # given: 霍庄村 written under 五女店镇 (merged there), as a county's new tree would have it
    village = jianan.villages["霍庄村"]
    content = units_xlsx([["河南省/许昌市/建安区/五女店镇/霍庄村", "村"]])
    path = tmp_path / "u.xlsx"
    path.write_bytes(content)
    # when: previewed on the page, then imported from the command line
    login(client, jianan, "sysadmin")
    upload = io.BytesIO(content)
    upload.name = "单位.xlsx"
    preview = client.get(client.post(reverse("imports:units_upload"), {"file": upload}).url)
    assert "将新建（同名单位已在“将官池镇”下，导入不移动单位" in preview.content.decode()
    call_command("units", "import", str(path))
    # then: the unit the cases and members know stays where it was; the new one is said
    out = capsys.readouterr().out
    assert ("已新建：河南省/许昌市/建安区/五女店镇/霍庄村（同名单位已在“将官池镇”下，"
            "导入不移动单位：此处新建，原单位保持不变）") in out
    moved = Unit.objects.get(name="霍庄村", parent=jianan.townships["五女店镇"])
    assert moved.pk != village.pk
    kept = Unit.objects.get(pk=village.pk)
    assert (kept.parent_id, kept.path) == (jianan.townships["将官池镇"].pk, village.path)


def test_no_unit_is_made_under_a_switched_off_township(jianan):
    j = jianan
    sysadmin = j.member("sysadmin")
    for name in ("椹涧村", "小河村"):
        unit_set_active(by=sysadmin, unit=j.villages[name], active=False)
    unit_set_active(by=sysadmin, unit=j.townships["椹涧乡"], active=False)
    count = Unit.objects.count()
    rows = [["河南省/许昌市/建安区/椹涧乡/椹涧村", "村"],
            ["河南省/许昌市/建安区/椹涧乡/新河村", "村"]]
    outcome = units_import(content=units_xlsx(rows), filename="u.xlsx", by=sysadmin,
                           dry_run=False)
    assert outcome.errors == [
        "单位 第4行：上级单位“河南省/许昌市/建安区/椹涧乡”已停用，不能在其下新建单位"]
    assert outcome.rows[0].status == "exists"
    assert outcome.rows[0].note == "已存在，已停用（导入不启用单位），保持不变"
    assert Unit.objects.count() == count
    assert not Unit.objects.get(pk=j.villages["椹涧村"].pk).is_active
