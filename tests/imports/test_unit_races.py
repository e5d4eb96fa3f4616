"""Two imports of the unit tree at once on PostgreSQL (two previews of one file confirmed by two
administrators, or one confirmation sent twice): each missing unit is created once."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.racing import race
from xinfang.audit.models import AuditEntry
from xinfang.imports.units import UnitsOutcome, units_import
from xinfang.org.models import Unit

from .test_units_and_pages import units_xlsx

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="two requests at once need a real PostgreSQL (DATABASE_URL=…)"),
]

FILE = [
    ["河南省/许昌市/建安区/新设镇", "乡镇"],
    ["河南省/许昌市/建安区/新设镇/东村", "村"],
    ["河南省/许昌市/建安区/新设镇/西村", "村"],
]


def test_one_file_imported_twice_at_once_creates_each_unit_once(jianan):
    # given a file naming a township and two villages the tree does not hold
    content = units_xlsx(FILE)

    def confirm():
        return units_import(content=content, filename="u.xlsx", by=jianan.member("sysadmin"),
                            dry_run=False)

    # when two confirmations run at once
    out = race(confirm, confirm)
    # then the units exist once; the second import found them there and created nothing
    assert isinstance(out["first"], UnitsOutcome) and isinstance(out["second"], UnitsOutcome)
    assert Unit.objects.filter(name="新设镇").count() == 1
    assert Unit.objects.filter(name__in=["东村", "西村"]).count() == 2
    assert len(out["first"].created) == 3 and out["second"].created == []
    assert [e.detail["created"] for e in AuditEntry.objects.filter(
        object_type="unit_import").order_by("id")] == [out["first"].created, []]
