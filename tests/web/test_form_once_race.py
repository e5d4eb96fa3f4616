"""The registration form sent twice at once, on PostgreSQL: the second send waits on the first's
token, then finds it spent — one case, and both answers lead to it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from tests.racing import race
from xinfang.cases.models import Case
from xinfang.security.once import FIELD

from .conftest import signed_in
from .test_flows import case_url, registration_data
from .test_form_once import token_of

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="two sends at once need a real PostgreSQL (CI=true DATABASE_URL=…)"),
]


def test_the_registration_form_sent_twice_at_once_registers_one_case(jianan):
    clerk = jianan.member("clerk")
    first, second = signed_in(clerk), signed_in(clerk)
    token = token_of(first.get(reverse("web:register")).content.decode())
    data = {**registration_data(jianan), FIELD: token}
    out = race(lambda: first.post(reverse("web:register"), data),
               lambda: second.post(reverse("web:register"), data))
    assert out["second_waited"]
    case = Case.objects.get()
    assert out["first"]["Location"] == case_url(case)
    assert out["second"]["Location"] == case_url(case)
