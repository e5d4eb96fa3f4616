"""Case numbers as people type them (issue 15): every bracket spelling, with or without 号, and the
serial alone within the current year, on /progress/ and in merge; and merge picks from a list."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import sh
from xinfang.cases import choices as c
from xinfang.cases.numbering import NumberSpelling, cases_numbered, read_number
from xinfang.web.views.public import CASE_LIMIT

from .conftest import signed_in

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "typed, parts",
    [
        ("建安信〔2026〕0032号", ("建安信", 2026, 32)),
        ("建安信[2026]0032号", ("建安信", 2026, 32)),
        ("建安信(2026)0032", ("建安信", 2026, 32)),
        ("建安信（2026）0032号", ("建安信", 2026, 32)),
        ("建安信【2026】32号", ("建安信", 2026, 32)),
        (" 建安信 〔2026〕 0032 号 ", ("建安信", 2026, 32)),
        ("建安信２０２６００３２", ("建安信", 2026, 32)),  # full-width digits
        ("〔2026〕0032号", (None, 2026, 32)),
        ("2026-0032", (None, 2026, 32)),
        ("0032", (None, None, 32)),
        ("32号", (None, None, 32)),
    ],
)
def test_a_number_is_read_as_prefix_year_and_serial(typed, parts):
    assert read_number(typed) == NumberSpelling(*parts)


@pytest.mark.parametrize("typed", ["", "建安信", "abc", "建安信〔2026〕"])
def test_what_cannot_be_a_number_reads_as_none(typed):
    assert read_number(typed) is None


def this_year_case(register):
    now = timezone.localtime()
    return register(at=sh(now.year, now.month, now.day, 8, 0) if now.hour >= 8 else None)


def spellings(case):
    year, serial = case.year, f"{case.seq:04d}"
    prefix = case.number.split("〔")[0]
    return [
        case.number,
        f"{prefix}[{year}]{serial}号",
        f"{prefix}({year}){serial}",
        f"{prefix}（{year}）{serial}号",
        f"{prefix}〔{year}〕{case.seq}",
        serial,
        str(case.seq),
    ]


def test_every_spelling_finds_the_case_and_no_other(jianan, register):
    first, second = this_year_case(register), this_year_case(register)
    assert first.year == timezone.localdate().year
    for typed in spellings(second):
        assert cases_numbered(typed) == [second], typed
    assert cases_numbered("建安信〔1999〕0001号") == []
    assert cases_numbered(f"别处信〔{first.year}〕{first.seq:04d}号") == []  # another prefix


def test_the_progress_page_accepts_every_spelling(jianan, register):
    case = this_year_case(register)
    for typed in spellings(case):
        client = Client()
        response = client.post(reverse("web:public"), {"number": typed, "code": case.query_code})
        assert response.status_code == 200, typed
        assert "已登记" in response.content.decode(), typed


def test_wrong_codes_under_different_spellings_count_against_one_case(jianan, register):
    case = this_year_case(register)
    forms = spellings(case)
    for i in range(CASE_LIMIT):
        Client(REMOTE_ADDR=f"10.0.0.{i + 1}").post(
            reverse("web:public"), {"number": forms[i % len(forms)], "code": "WRONG1"}
        )
    blocked = Client(REMOTE_ADDR="10.0.1.1").post(
        reverse("web:public"), {"number": case.number, "code": case.query_code}
    )
    assert blocked.status_code == 429


def merge_post(client, case, **fields):
    data = {"merge-version": case.version, "merge-note": "同一事项"}
    data.update({f"merge-{k}": v for k, v in fields.items()})
    return client.post(reverse("web:case_action", args=[case.pk, "merge"]), data)


def test_merge_offers_the_same_persons_cases_as_a_list(jianan, register):
    first, duplicate = this_year_case(register), this_year_case(register)
    client = signed_in(jianan.member("clerk"))
    form = client.get(reverse("web:case", args=[duplicate.pk])).content.decode()
    assert f'<option value="{first.pk}">{first.number}' in form
    response = merge_post(client, duplicate, pick=first.pk)
    assert response.status_code in (200, 302)
    duplicate.refresh_from_db()
    assert duplicate.state == c.State.MERGED and duplicate.merged_into_id == first.pk


@pytest.mark.parametrize("which", range(7))
def test_merge_accepts_a_typed_number_in_any_spelling(jianan, register, which):
    first, duplicate = this_year_case(register), this_year_case(register)
    clerk = signed_in(jianan.member("clerk"))
    response = merge_post(clerk, duplicate, into=spellings(first)[which])
    assert response.status_code in (200, 302)
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == first.pk


def test_merge_names_the_field_when_nothing_or_no_case_is_given(jianan, register):
    duplicate = this_year_case(register)
    client = signed_in(jianan.member("clerk"))
    nothing = merge_post(client, duplicate).content.decode()
    assert "请选择或填写要合并至的信访件" in nothing
    missing = merge_post(client, duplicate, into="建安信〔2026〕9999号").content.decode()
    assert "没有找到编号为“建安信〔2026〕9999号”的信访件" in missing
    duplicate.refresh_from_db()
    assert duplicate.state == c.State.REGISTERED
