"""A switched-off township, village or responsible unit (乡镇撤并) named by a registration made
other than by its form — a ledger's import, a screening finding made a case, the ``match``
command's ``--register`` — is refused by name and by row, as the registration form refuses it;
nothing of the rest is lost."""

import io
import json
from datetime import date

import pytest
from django.core.management import call_command

from xinfang.cases.errors import Refused
from xinfang.cases.models import Case
from xinfang.org.models import Unit
from xinfang.registers.models import BacklogCase, ScreeningFinding
from xinfang.registers.services import screening_to_case

from .books import mixed_book
from .test_ledger_import import run

pytestmark = pytest.mark.django_db


def switch_off(unit):
    # switched off by hand or before the units page asked (doctor's case): no refusal to pass
    Unit.objects.filter(pk=unit.pk).update(is_active=False)


def test_the_ledger_import_refuses_rows_filed_under_a_switched_off_village(jianan):
    # given 岗朱村 merged away (its L0 and L1 rows name it)
    switch_off(jianan.villages["岗朱村"])
    # when the ledger is imported, its good rows kept
    out = run(jianan, mixed_book(), skip_invalid=True)
    # then each row naming it is refused with its sheet, row and column, and its name
    texts = [str(i) for i in out.issues]
    named = [t for t in texts if "“岗朱村”已停用，请改为现行的村（社区）" in t]
    assert any(t.startswith("排查 第") for t in named), texts
    assert any(t.startswith("L0 第") for t in named), texts
    assert not ScreeningFinding.objects.filter(village__name="岗朱村").exists()
    assert not Case.objects.filter(village__name="岗朱村").exists()
    assert ScreeningFinding.objects.exists() and Case.objects.exists()  # the rest went in


def test_a_backlog_row_in_the_care_of_a_switched_off_unit_is_refused_when_written(jianan):
    # given the bureau an L2 row names as 责任单位 switched off (the preview does not read it)
    bureau = Unit.objects.get(name="区农业农村局", path__startswith=jianan.county.path)
    switch_off(bureau)
    out = run(jianan, mixed_book(), skip_invalid=True)
    texts = [str(i) for i in out.issues]
    assert any(t.startswith("积案 第") and "“区农业农村局”已停用，请改为现行的单位" in t
               for t in texts), texts
    assert list(BacklogCase.objects.values_list("person_name", flat=True)) == ["卫十"]


def finding(j, **kw):
    row = ScreeningFinding(jurisdiction=j.county, month=date(2026, 9, 1),
                           screened_on=date(2026, 9, 3), township=j.townships["将官池镇"],
                           village=j.villages["岗朱村"], person_name="孙红",
                           problem="反映危房改造补助未到位", category="危房改造",
                           recorded_by=j.member("clerk").user, **kw)
    row.save(force_insert=True)
    return row


def test_a_screening_finding_under_a_switched_off_place_is_not_made_a_case(jianan):
    row = finding(jianan)
    switch_off(jianan.villages["岗朱村"])
    with pytest.raises(Refused, match="“岗朱村”已停用，请改为现行的村（社区）：请先修改") as e:
        screening_to_case(by=jianan.member("clerk"), finding=row)
    assert e.value.field == "village"
    row.refresh_from_db()
    assert row.case_id is None and not Case.objects.exists()


def match(member, lines, *args):
    out = io.StringIO()
    text = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines)
    call_command("match", "--as", member.user.username, *args, stdin=io.StringIO(text),
                 stdout=out)
    return [json.loads(x) for x in out.getvalue().splitlines()]


LINE = {"name": "王秀澜", "phone": "139 1234 5678", "township": "将官池镇", "village": "岗朱村",
        "matter": "要求发放2025年危房改造补助", "category": "危房改造", "channel": "visit",
        "received_at": "2026-09-20T09:30:00+08:00"}


def test_the_match_command_registers_nothing_under_a_switched_off_township(jianan):
    switch_off(jianan.townships["将官池镇"])
    clerk = jianan.member("clerk")
    # matching alone still reads the place (its past cases are filed under it)
    assert "candidates" in match(clerk, [LINE])[0]
    results = match(clerk, [LINE, LINE | {"township": "五女店镇", "village": "魏庄村"}],
                    "--register")
    assert results[0]["errors"] == {"township": "“将官池镇”已停用，请改为现行的乡镇（街道）"}
    assert "registered" in results[1]  # the next line goes on
    assert Case.objects.count() == 1
