"""A form sent twice does its work once (``security.once``): the registration form first, the
clerk's double click on 登记 that registered the same visit as two cases."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import id_number
from xinfang.cases.models import Case
from xinfang.jobs.periodic import prune
from xinfang.org.models import Membership, User
from xinfang.security.models import SubmittedForm
from xinfang.security.once import FIELD, KEEP, form_once_prune

from .conftest import signed_in
from .test_flows import case_url, registration_data

pytestmark = pytest.mark.django_db


def token_of(html: str) -> str:
    return re.search(rf'name="{FIELD}" value="([^"]+)"', html).group(1)


def test_the_registration_form_sent_twice_registers_one_case(jianan):
    # given the form as drawn for the clerk, filled in
    client = signed_in(jianan.member("clerk"))
    token = token_of(client.get(reverse("web:register")).content.decode())
    data = {**registration_data(jianan), FIELD: token}
    # when it is sent twice (a double click)
    first = client.post(reverse("web:register"), data)
    second = client.post(reverse("web:register"), data, follow=True)
    # then one case, and the second send lands on it, told so
    case = Case.objects.get()
    assert first["Location"] == case_url(case)
    assert second.redirect_chain == [(case_url(case), 302)]
    assert "这份表单已经提交过，未再次办理" in second.content.decode()
    assert SubmittedForm.objects.get().answer == case_url(case)


def test_a_form_drawn_again_with_its_errors_keeps_its_token_and_registers_once_corrected(jianan):
    client = signed_in(jianan.member("clerk"))
    token = token_of(client.get(reverse("web:register")).content.decode())
    bad = id_number("41102319800101123")[:-1] + "Y"
    data = {**registration_data(jianan), FIELD: token}
    refused = client.post(reverse("web:register"), {**data, "p-0-id_number": bad})
    # nothing done, the token not spent, and the form drawn again carries it
    assert refused.status_code == 400 and not Case.objects.exists()
    assert not SubmittedForm.objects.exists()
    assert token_of(refused.content.decode()) == token
    assert client.post(reverse("web:register"), data).status_code == 302
    assert client.post(reverse("web:register"), data).status_code == 302
    assert Case.objects.count() == 1


def test_each_drawing_of_the_form_is_a_new_filling(jianan):
    client = signed_in(jianan.member("clerk"))
    tokens = {token_of(client.get(reverse("web:register")).content.decode()) for _ in range(2)}
    for token in tokens:
        client.post(reverse("web:register"), {**registration_data(jianan), FIELD: token})
    assert Case.objects.count() == 2


def test_a_form_sent_without_a_token_is_done_as_before(jianan):
    client = signed_in(jianan.member("clerk"))
    assert client.post(reverse("web:register"), registration_data(jianan)).status_code == 302
    assert Case.objects.count() == 1 and not SubmittedForm.objects.exists()


def test_another_users_token_is_not_theirs_to_replay(jianan):
    # given the clerk's spent token, sent by another clerk of the office with their own form
    clerk = jianan.member("clerk")
    client = signed_in(clerk)
    token = token_of(client.get(reverse("web:register")).content.decode())
    client.post(reverse("web:register"), {**registration_data(jianan), FIELD: token})
    user = User.objects.create(username="clerk_b", full_name="王二")
    other = Membership.objects.create(user=user, unit=clerk.unit, role=clerk.role)
    page = signed_in(other).post(reverse("web:register"),
                                 {**registration_data(jianan), FIELD: token}, follow=True)
    # then nothing done twice, and not led to the first clerk's case
    assert Case.objects.count() == 1
    assert page.redirect_chain == [(reverse("web:register"), 302)]


def test_spent_tokens_are_forgotten_after_a_week_by_the_hourly_prune(jianan):
    client = signed_in(jianan.member("clerk"))
    token = token_of(client.get(reverse("web:register")).content.decode())
    client.post(reverse("web:register"), {**registration_data(jianan), FIELD: token})
    assert form_once_prune(now=timezone.now()) == 0
    SubmittedForm.objects.update(at=timezone.now() - KEEP - timedelta(minutes=1))
    assert prune()["submitted_forms"] == 1
    assert not SubmittedForm.objects.exists()
