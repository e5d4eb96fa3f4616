"""The living demo (a few dozen cases at every step, some late, some repeated) renders for every
role: what the tests prove is what the demo shows."""

import pytest
from django.urls import reverse
from django.utils import timezone

from xinfang.cases.selectors import cases_for
from xinfang.cases.services import sweep
from xinfang.demo.cases import load_cases

from .conftest import MEMBERS, signed_in
from .test_access import ACCESS

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_the_demo_renders_for_every_role(jianan):
    now = timezone.now()
    load_cases(jianan, now=now)
    sweep(at=now)
    for member in MEMBERS:
        m = jianan.member(member)
        client = signed_in(m)
        for name, allowed in ACCESS.items():
            expected = 200 if member in allowed else 403
            assert client.get(reverse(name)).status_code == expected, (member, name)
        if member in ("clerk", "township", "discipline"):
            for case in cases_for(m):
                response = client.get(reverse("web:case", args=[case.pk]))
                assert response.status_code == 200, (member, case.number)
