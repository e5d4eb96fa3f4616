"""The petitioner's page: progress by case number and query code, one rating, guesses limited."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from xinfang.web.views import public
from xinfang.web.views.public import CASE_LIMIT, FAIL_LIMIT

from .conftest import walk

pytestmark = pytest.mark.django_db


def ask(client, case, code=None):
    return client.post(
        reverse("web:public"), {"number": case.number, "code": code or case.query_code}
    )


def test_the_progress_is_told_in_plain_words_without_personal_data(jianan, register, client):
    case = walk(jianan, register(), "in_progress")
    response = ask(client, case, case.query_code.lower())  # typed in lower case
    html = response.content.decode()
    assert response.status_code == 200
    assert "有关单位正在调查核实" in html and "交有关单位办理" in html
    for private in [
        "张三明",
        "张*明",
        "138",
        "岗朱村",
        "陈晓东",
        "李文静",
        "将官池镇",
        case.matter,
    ]:
        assert private not in html, private
    assert 'name="rating"' not in html  # nothing to rate before the letter is delivered


def test_the_petitioner_rates_once_after_delivery(jianan, register, client):
    case = walk(jianan, register(), "delivered")
    html = ask(client, case).content.decode()
    assert 'name="rating"' in html
    response = client.post(
        reverse("web:public_rate"), {"rating": "basically", "reason": "基本解决"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.rating == "basically"
    event = case.events.order_by("-seq").first()
    assert event.type == "record_rating" and event.actor is None
    page = client.get(reverse("web:public")).content.decode()
    assert "您已评价：基本满意" in page and 'name="rating"' not in page
    again = client.post(reverse("web:public_rate"), {"rating": "unsatisfied"})
    assert again.status_code == 409
    case.refresh_from_db()
    assert case.rating == "basically"


def test_a_rating_needs_a_case_looked_up_first(client):
    response = client.post(reverse("web:public_rate"), {"rating": "satisfied"})
    assert response.status_code == 302 and response["Location"] == reverse("web:public")


def test_a_wrong_code_says_so_and_repeated_guessing_is_blocked(jianan, register, client):
    case = register()
    for _ in range(FAIL_LIMIT):
        response = ask(client, case, "WRONG234")
        assert response.status_code == 404 and "查询码不正确" in response.content.decode()
    blocked = ask(client, case)  # even the right code, while blocked
    assert blocked.status_code == 429 and "15分钟" in blocked.content.decode()
    assert 'class="card progress"' not in blocked.content.decode()


def test_one_persons_guessing_does_not_shut_the_service_hall(jianan, register, client):
    guessed, other = register(), register()
    for _ in range(FAIL_LIMIT):
        ask(client, guessed, "WRONG234")
    assert ask(client, other).status_code == 429  # the guesser is blocked
    neighbour = Client()  # the same address (a service hall), another visitor
    assert ask(neighbour, other).status_code == 200
    # but the guessed case stays blocked for everyone: a new cookie jar does not reset it
    assert ask(neighbour, guessed).status_code == 429


def test_a_case_cannot_be_guessed_from_many_addresses(jianan, register):
    case = register()
    for i in range(CASE_LIMIT):
        response = ask(Client(REMOTE_ADDR=f"198.51.100.{i + 1}"), case, "WRONG234")
        assert response.status_code == 404
    # a thirtieth address, even with the right code, waits the block out
    assert ask(Client(REMOTE_ADDR="198.51.100.30"), case).status_code == 429
    # another case is unaffected
    assert ask(Client(REMOTE_ADDR="198.51.100.30"), register()).status_code == 200


def test_a_mistyped_number_costs_half_a_wrong_code(jianan, register, client):
    case = register()
    typo = {"number": case.number.replace("号", "1号"), "code": case.query_code}
    for _ in range(FAIL_LIMIT):
        assert client.post(reverse("web:public"), typo).status_code == 404
    assert ask(client, case).status_code == 200  # ten typos: still let in
    for _ in range(FAIL_LIMIT):
        client.post(reverse("web:public"), typo)
    assert ask(client, case).status_code == 429  # twenty: blocked like ten wrong codes


def test_an_address_is_blocked_after_many_visitors_guesses(jianan, register, monkeypatch):
    from xinfang.web.views import public

    monkeypatch.setattr(public, "ADDRESS_LIMIT", 3)
    cases = [register() for _ in range(4)]
    for case in cases[:3]:
        ask(Client(REMOTE_ADDR="203.0.113.5"), case, "WRONG234")  # a new visitor each time
    assert ask(Client(REMOTE_ADDR="203.0.113.5"), cases[3]).status_code == 429
    assert ask(Client(REMOTE_ADDR="203.0.113.6"), cases[3]).status_code == 200


def test_no_sign_in_is_needed_and_staff_pages_stay_closed(client):
    assert client.get(reverse("web:public")).status_code == 200
    assert client.get(reverse("web:home")).status_code == 302


def test_the_review_right_is_told_and_the_invitation_goes_once_rated(jianan, register, client):
    case = walk(jianan, register(), "delivered")
    html = ask(client, case).content.decode()
    window = case.clocks.get(name="review_request_window")
    until = window.due_at.astimezone(timezone.get_current_timezone())
    assert f"自收到处理意见书之日起30日内（{until.year}年{until.month}月{until.day}日前）" in html
    assert "向区乡村振兴局（书面提出复查申请）提出复查请求" in html  # jianan's 附件6
    assert "欢迎您对办理结果作出评价" in html
    client.post(reverse("web:public_rate"), {"rating": "satisfied", "reason": ""})
    rated = client.get(reverse("web:public")).content.decode()
    assert "您已评价" in rated and "欢迎您对办理结果作出评价" not in rated


def test_the_case_is_forgotten_once_the_visitor_has_left_the_kiosk(
        jianan, register, client, monkeypatch):
    # given a petitioner who looked up a delivered case on the service hall's kiosk and left
    case = walk(jianan, register(), "delivered")
    ask(client, case)
    assert "查询其他信访件" in client.get(reverse("web:public")).content.decode()
    later = timezone.now() + public.IDLE + timedelta(seconds=1)
    monkeypatch.setattr(public.timezone, "now", lambda: later)
    # when the next visitor opens the page, or posts a rating, on the same browser
    page = client.get(reverse("web:public")).content.decode()
    rated = client.post(reverse("web:public_rate"), {"rating": "unsatisfied"})
    # then the case is not shown, and the rating is not taken
    assert "查询其他信访件" not in page and 'name="rating"' not in page
    assert 'name="code"' in page
    assert rated.status_code == 302 and rated["Location"] == reverse("web:public")
    case.refresh_from_db()
    assert not case.rating


def test_a_visitor_at_it_keeps_the_case_from_page_to_page(jianan, register, client, monkeypatch):
    case = walk(jianan, register(), "delivered")
    ask(client, case)
    start = timezone.now()
    for minutes in (8, 16):  # each page within IDLE of the last
        monkeypatch.setattr(public.timezone, "now", lambda m=minutes: start + timedelta(minutes=m))
        assert "查询其他信访件" in client.get(reverse("web:public")).content.decode()
