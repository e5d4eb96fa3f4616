"""Two administrators putting a template in force at once, on PostgreSQL: the second is told
plainly, not given a server error."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.documents.test_templates import office_template
from tests.racing import race
from xinfang.cases.errors import Refused
from xinfang.documents.models import DocumentTemplate
from xinfang.documents.services import template_replace

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="two at once need a real PostgreSQL (CI=true DATABASE_URL=…)"),
]


def test_two_templates_put_in_force_at_once_the_second_is_refused_by_name(jianan):
    admin = jianan.member("sysadmin")
    out = race(lambda: template_replace(code="D1", content=office_template(), by=admin),
               lambda: template_replace(code="D1", by=admin,
                                        content=office_template(letterhead="另一位管理员的信头")))
    assert out["second_waited"]
    assert isinstance(out["first"], DocumentTemplate) and out["first"].version == 1
    refused = out["second"]
    assert isinstance(refused, Refused), refused
    assert refused.field == "content" and "第1版" in str(refused)
    assert list(DocumentTemplate.objects.values_list("code", "version")) == [("D1", 1)]
