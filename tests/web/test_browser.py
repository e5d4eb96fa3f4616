"""One case from registration to archive in a real browser — clerk, approver and the township's
handler signing in in turn — and the petitioner's public page. Every page visited is saved as a
full-page screenshot in test-artifacts/screenshots/ (git-ignored), one more at phone width.

Drives Debian's Chromium (/usr/bin/chromium) through Playwright; never downloads a browser. Without
Chromium the tests are skipped — except in CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connections

from tests.conftest import id_number
from xinfang.cases.models import Case
from xinfang.security.auth import CONTENT_SECURITY_POLICY

from .conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {CHROMIUM} is missing: install Debian's chromium package.")
    pytest.skip(f"{CHROMIUM} is not installed (Debian package chromium); browser tests skipped.")


@contextmanager
def playwright_session():
    """Playwright's sync API; on leaving it, the database connections opened while it ran.

    Its event loop runs in this thread, and while a loop runs Django keeps a thread's
    connections per context (asgiref's ``Local``): the test's own ORM calls open connections of
    their own, which the test database's teardown never sees. Left open, the database could not
    be dropped at the end of the run ("being accessed by other users", lead12–lead51)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        try:
            yield p
        finally:
            connections.close_all()  # in that context: the ones it opened


@pytest.fixture
def chromium(monkeypatch):
    require_chromium()
    # Playwright's sync API runs an event loop in this thread; Django must still allow ORM use.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with playwright_session() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Visit:
    """A browser tab with the site's CSP enforced, numbered screenshots and a console watch."""

    def __init__(self, browser, base_url: str, viewport=DESKTOP):
        self.base = base_url
        self.context = browser.new_context(
            viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("response", self._response)
        # The live server runs the settings as they are; the browser is handed the site's policy
        # on every response so that any inline script or style would show up as a violation.
        self.page.route("**/*", self._with_csp)
        self.shot_number = 0

    def _console(self, message):
        # A form sent back with errors answers 400 and a wrong query code 404, on purpose; the
        # browser logs those as failed loads. Everything else logged as an error is a problem.
        if message.text.startswith("Failed to load resource"):
            return
        if message.type == "error" or "Content Security Policy" in message.text:
            self.problems.append(message.text)

    def _response(self, response):
        if response.status >= 400 and (response.request.resource_type != "document"):
            self.problems.append(f"{response.status} {response.url}")

    @staticmethod
    def _with_csp(route):
        response = route.fetch(max_redirects=0)  # let the browser follow redirects itself
        headers = {**response.headers, "content-security-policy": CONTENT_SECURITY_POLICY}
        route.fulfill(response=response, headers=headers)

    def go(self, path: str):
        self.page.goto(self.base + path)

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.shot_number += 1
        path = SHOTS / f"{self.shot_number:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def sign_in(self, username: str):
        self.go("/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", PASSWORD)
        self.submit("form button[type=submit]")
        if self.page.url.endswith("/account/totp/"):
            # an administrator's first sign-in: TOTP is required of the role, enrol it
            import pyotp

            assert self.page.locator(".totp-qr svg").count() == 1
            self.shot(f"totp-enrol-{username}")
            secret = self.page.inner_text(".totp-secret").strip()
            self.page.fill("#id_code", pyotp.TOTP(secret).now())
            self.submit("main form button[type=submit]")

    def submit(self, selector: str):
        """Click a submit button and wait for the page it leads to."""
        with self.page.expect_navigation():
            self.page.click(selector)

    def sign_out(self):
        self.submit("header form.logout button")
        assert self.page.url.endswith("/login/")

    def act(self, name: str, fill: dict[str, str] | None = None, *, select=None, check=()):
        """Open the action's form on the case page, fill it in and submit it."""
        page = self.page
        closed = page.eval_on_selector(f"#action-{name}", "e => e.tagName === 'DETAILS' && !e.open")
        if closed:
            page.click(f"#action-{name} > summary")
        for selector, value in (fill or {}).items():
            page.fill(selector, value)
        for selector, value in (select or {}).items():
            page.select_option(selector, value)
        for selector in check:
            page.check(selector)
        self.submit(f"form[data-action={name}] button[type=submit]")
        success = page.locator(".messages li")
        assert success.count(), (
            f"{name}: no confirmation; page says {page.inner_text('main')[:500]}"
        )

    def actions(self) -> list[str]:
        return self.page.eval_on_selector_all(
            "form[data-action]", "els => els.map(e => e.dataset.action)"
        )


def test_a_case_from_registration_to_archive_through_the_browser(
    chromium, live_server, jianan, register
):
    # given: 张三明 petitioned before, so registering him again offers the earlier case
    earlier = register()
    v = Visit(chromium, live_server.url)
    page = v.page

    # 接 — the clerk signs in, lands on the work queue and registers two petitioners, two demands
    v.go("/login/")
    v.shot("login")
    v.sign_in("clerk")
    assert page.url.endswith("/work/")
    assert "待拟办" in page.inner_text("main")
    v.shot("clerk-queue")
    v.submit("text=登记新信访件")
    v.shot("register-empty")

    page.select_option("#id_channel", "visit")
    page.fill("#id_matter", "反映2025年危房改造补助未到位，多次反映未解决")
    page.select_option("#id_township", label="将官池镇")
    page.wait_for_selector("#id_village option:text('岗朱村')", state="attached")
    page.select_option("#id_village", label="岗朱村")
    page.fill("#id_p-0-name", "张三明")
    right = id_number("41102319800101123")
    wrong = right[:-1] + ("1" if right[-1] != "1" else "2")  # a wrong check digit
    page.fill("#id_p-0-id_number", wrong)
    page.wait_for_selector("#p-0-id-check .bad")
    assert "校验位" in page.inner_text("#p-0-id-check")
    page.fill("#id_p-0-phone", "1381234567")
    page.wait_for_selector("#p-0-phone-check .bad")
    page.fill("#id_d-0-text", "要求落实2025年危房改造补助")
    page.select_option("#id_d-0-category", "危房改造")
    page.click("[data-add-row=d]")
    page.fill("#id_d-1-text", "要求公开补助发放名单")
    page.select_option("#id_d-1-category", "资金项目")
    page.click("[data-add-row=p]")
    page.fill("#id_p-1-name", "李秀英")
    page.select_option("#id_p-1-role", "companion")
    v.shot("register-live-checks")
    v.submit("form.register button[type=submit]")
    # nothing typed is lost; the bad fields are marked, in Chinese
    assert page.input_value("#id_p-1-name") == "李秀英"
    assert page.input_value("#id_d-1-text") == "要求公开补助发放名单"
    assert "校验位" in page.inner_text("#id_p-0-id_number_error")
    assert "手机号码" in page.inner_text("#id_p-0-phone_error")
    assert page.get_attribute("#id_p-0-id_number", "aria-invalid") == "true"
    v.shot("register-errors")

    page.fill("#id_p-0-id_number", right)
    page.wait_for_selector("#p-0-id-check .ok")
    page.wait_for_selector("#id_p-0-id_number_error", state="detached")  # the old mark goes
    page.wait_for_selector(f"#p-0-earlier :text('{earlier.number}')")
    page.fill("#id_p-0-phone", "13812345678")
    page.wait_for_selector("#p-0-phone-check .ok")
    v.shot("register-earlier-case")
    v.submit("form.register button[type=submit]")
    assert re.search(r"/cases/\d+/$", page.url)
    case = Case.objects.exclude(pk=earlier.pk).get()
    assert case.repeat_of == earlier and case.demands.count() == 2
    assert case.petitioner_links.count() == 2
    assert "张*明" in page.inner_text("#petitioners") and "张三明" not in page.content()
    v.shot("case-registered")

    # 转 — propose, sign off, assign
    v.act("propose", {"#id_propose-proposal": "交将官池镇牵头办理，区民政局协办"})
    v.shot("case-proposed")
    v.sign_out()
    v.sign_in("approver")
    assert case.number in page.inner_text("main")
    v.shot("approver-queue")
    v.submit(f"text={case.number}")
    assert "sign_off" in v.actions()
    v.act("sign_off", {"#id_sign_off-note": "同意"})
    v.shot("case-signed-off")
    v.sign_out()
    v.sign_in("clerk")
    v.go(f"/cases/{case.pk}/")
    page.click("#action-assign > summary")
    v.shot("assign-form")
    v.act(
        "assign",
        {"#id_assign-receiver_name": "陈晓东"},
        select={"#id_assign-lead": str(jianan.townships["将官池镇"].pk)},
    )
    v.shot("case-assigned")
    v.sign_out()

    # 办 — the township signs for the case, records findings, drafts the decision letter
    v.sign_in("township")
    assert case.number in page.inner_text("main")
    v.shot("township-queue")
    v.submit(f"text={case.number}")
    v.act("sign_for")
    v.act(
        "log_contact",
        {"#id_log_contact-note": "电话联系信访人，约定下访时间"},
        select={"#id_log_contact-kind": "phone"},
    )
    page.click("#action-record_finding > summary")
    page.select_option("#id_record_finding-finding_1", "partly")
    page.select_option("#id_record_finding-resolution_1", "solved")
    page.fill("#id_record_finding-note_1", "补助资金滞留镇财政所，已督促发放")
    page.select_option("#id_record_finding-finding_2", "true")
    page.select_option("#id_record_finding-resolution_2", "explained")
    v.shot("findings-form")
    v.act("record_finding")
    v.act(
        "draft_letter",
        {
            "#id_draft_letter-body": "经核查，你反映的问题部分属实。补助已于近日发放。",
            "#id_draft_letter-review_body": "如不服，可自收到之日起30日内申请复查。",
        },
    )
    v.shot("case-letter-drafted")
    v.sign_out()

    # 回 — the approver approves the letter; the clerk issues and delivers it
    v.sign_in("approver")
    v.go(f"/cases/{case.pk}/")
    v.act("approve_letter", {"#id_approve_letter-note": "同意"})
    v.sign_out()
    v.sign_in("clerk")
    v.go(f"/cases/{case.pk}/")
    v.act("issue_letter")
    v.act(
        "record_delivery",
        {"#id_record_delivery-recipient": "张三明"},
        select={"#id_record_delivery-mode": "in_person"},
        check=["#id_record_delivery-receipt_signed"],
    )
    v.shot("case-delivered")
    code = page.inner_text(".query-code").strip()
    v.sign_out()

    # the petitioner: progress in plain words, and one rating
    v.go("/progress/")
    v.shot("public-query")
    page.fill("#id_number", case.number)
    page.fill("#id_code", "WRONG123")
    v.submit("form button[type=submit]")
    assert "查询码不正确" in page.inner_text("main")
    page.fill("#id_number", case.number)
    page.fill("#id_code", code)
    v.submit("form button[type=submit]")
    text = page.inner_text("main")
    assert "处理意见书已送达" in text and "张" not in text and "陈晓东" not in text
    v.shot("public-progress")
    page.check("input[name=rating][value=satisfied]")
    v.submit("form.rating button[type=submit]")
    assert "您已评价：满意" in page.inner_text("main")
    assert page.locator("form.rating").count() == 0
    v.shot("public-rated")

    # 督 — the approver closes, the clerk archives
    v.sign_in("approver")
    v.go(f"/cases/{case.pk}/")
    v.act("close", {"#id_close-note": "同意销号"})
    v.sign_out()
    v.sign_in("clerk")
    v.go(f"/cases/{case.pk}/")
    v.act("archive")
    assert "已归档" in page.inner_text("h1")
    v.shot("case-archived")
    v.go("/ledger/")
    v.shot("ledger")
    case.refresh_from_db()
    assert case.state == "archived" and case.rating == "satisfied"
    assert v.problems == [], v.problems

    # the same case page at phone width
    phone = Visit(chromium, live_server.url, viewport=PHONE)
    phone.shot_number = v.shot_number
    phone.sign_in("clerk")
    phone.shot("phone-queue")
    phone.go(f"/cases/{case.pk}/")
    phone.shot("phone-case")
    width = phone.page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the case page scrolls sideways at phone width ({width}px)"
    assert phone.problems == [], phone.problems


def test_sign_in_and_the_skip_link_work_from_the_keyboard(chromium, live_server, jianan):
    v = Visit(chromium, live_server.url)
    page = v.page
    v.go("/login/")
    # the user name field has the focus; type, tab to the password, press Enter
    page.keyboard.type("inspector")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/work/")
    # the first Tab on a page reaches the skip link, which moves the focus to the content
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    assert v.problems == [], v.problems


# -- the ledger, supervision and administration pages ----------------------------------------------

NOTICE_BAD = "year 2027\nholiday 2027-02-30 元旦\nworkday 2027-02-22 春节\nnonsense\n"
NOTICE_GOOD = "year 2027\nholiday 2027-01-01 2027-01-03 元旦\nworkday 2027-02-20 春节\n"


def _office_with_cases(jianan, register):
    """A county with cases in several townships and categories, one assigned, one a repeat."""
    from tests.conftest import sh
    from xinfang.cases.services import DemandInput, PetitionerInput

    from .conftest import walk

    cases = []
    places = [("将官池镇", "岗朱村"), ("五女店镇", "魏庄村"), ("椹涧乡", "小河村")]
    categories = ["危房改造", "医疗保障", "资金项目", "教育保障", "民政救助"]
    for n in range(9):
        township, village = places[n % 3]
        cases.append(
            register(
                petitioners=[
                    PetitionerInput(
                        name=f"赵{n}强",
                        id_number=id_number(f"4110231980{n + 1:02d}15123"),
                        phone="13812345678",
                        address=f"{township}{village}",
                        exited_household=n % 2 == 0,
                    )
                ],
                demands=[
                    DemandInput(text=f"要求落实{categories[n % 5]}政策", category=categories[n % 5])
                ],
                township=jianan.townships[township],
                village=jianan.villages[village],
                received_at=sh(2026, 9, 10 + n, 9),
                at=sh(2026, 9, 10 + n, 10),
                key_case=n == 4,
                headcount=6 if n == 5 else 1,
            )
        )
    walk(jianan, cases[0], "in_progress")
    walk(jianan, cases[1], "assigned")
    register(at=sh(2026, 9, 20, 10))  # 张三明 twice: a repeat
    cases.append(register(at=sh(2026, 9, 21, 10)))
    return cases


def test_ledger_supervision_and_administration_pages(
    chromium, live_server, jianan, jurisdiction, register, monkeypatch
):
    from xinfang.web.forms import pick

    monkeypatch.setattr(pick, "PICK_LIMIT", 5)
    cases = _office_with_cases(jianan, register)
    kaijiang = jurisdiction("kaijiang")
    from tests.conftest import register_in

    for _ in range(3):
        register_in(kaijiang)
    v = Visit(chromium, live_server.url)
    v.shot_number = 50
    page = v.page

    # 台账 — the clerk filters the ledger and exports it, with a busy indicator meanwhile
    v.sign_in("clerk")
    v.go("/ledger/")
    assert f"{len(cases) + 1}" in page.inner_text("#ledger-total")
    v.shot("ledger")
    page.select_option("#f_township", label="五女店镇")
    page.fill("#f_search", "政策")
    v.submit("form.filters button[type=submit]")
    assert "township=" in page.url and "search=" in page.url
    numbers = page.eval_on_selector_all("table.ledger tbody tr", "rows => rows.length")
    assert numbers == 3, numbers
    v.shot("ledger-filtered")
    page.click("form.filters details.more > summary")
    page.check("#f_key_case")
    v.submit("form.filters button[type=submit]")
    assert "key_case=true" in page.url and "state=" not in page.url  # empty fields stay out
    assert page.inner_text("table.ledger tbody").count("重点信访件") == 1
    assert cases[4].number in page.inner_text("table.ledger tbody")
    page.uncheck("#f_key_case")
    v.submit("form.filters button[type=submit]")
    page.evaluate(  # hold the response so the indicator can be seen
        "() => { const f = window.fetch; window.fetch = (...a) =>"
        " new Promise(r => setTimeout(r, 600)).then(() => f(...a)); }"
    )
    with page.expect_download() as download:
        page.click("#export-l0")
        page.wait_for_selector(".download .busy", state="visible")
        v.shot("ledger-exporting")
    assert download.value.suggested_filename.endswith(".xlsx")
    page.wait_for_selector(".download .busy", state="hidden")
    assert page.locator(".download-error").is_hidden()

    # L1 — a screening finding recorded and turned into a case
    v.go("/ledger/screening/")
    page.fill("#id_s-screened_on", "2026-11-03")
    page.select_option("#id_s-township", label="椹涧乡")
    page.select_option("#id_s-village", label="小河村")
    page.fill("#id_s-person_name", "周大勇")
    page.fill("#id_s-contact", "13700001111")
    page.select_option("#id_s-category", "资金项目")
    page.fill("#id_s-problem", "反映产业帮扶资金分配不公，群众有意见")
    v.submit("#screening-form button[type=submit]")
    assert "周*勇" in page.inner_text("#screening-table")
    v.shot("screening")
    v.submit("[data-convert]")
    assert re.search(r"/cases/\d+/$", page.url) and "排查" in page.inner_text("main")
    v.sign_out()

    # L2 — the approver designates a backlog case
    v.sign_in("approver")
    v.go("/ledger/backlog/")
    page.fill("#id_b-number", cases[2].number)
    page.select_option("#id_b-owner_leader", label="王建国")
    page.fill("#id_b-reason", "诉求涉及多个部门，久拖未决")
    page.fill("#id_b-plan", "分管领导包案，民政、住建联合会商，每月回访")
    page.fill("#id_b-plan_deadline", "2026-12-31")
    v.submit("#backlog-form button[type=submit]")
    assert cases[2].number in page.inner_text("#backlog-table")
    v.shot("backlog")
    v.sign_out()

    # 督 — the inspector's supervision page with its charts
    v.sign_in("inspector")
    v.submit("header nav a:text('督查督办')")
    assert page.locator("#chart-category svg rect.bar").count() == 5
    assert page.locator("#chart-township svg rect.bar").count() == 3
    v.shot("supervision")
    v.sign_out()
    v.sign_in("kaijiang_chief")
    v.go("/supervision/")
    assert page.locator("#chart-targets svg line.threshold").count() >= 4
    v.shot("supervision-targets")
    v.go("/rules/profiles/")
    v.shot("rules-profile")
    v.sign_out()

    # 三员分立 — the system administrator: units, accounts, the calendar
    v.sign_in("sysadmin")
    assert page.url.endswith("/admin/units/")
    page.click("#unit-create > summary")
    page.fill("#id_u-name", "灵井镇")
    page.select_option("#id_u-level", "township")
    page.select_option("#id_u-kind", "township")
    # a province's units are picked by a search (forms.pick): five rows shown here, so the
    # county is found by typing, the options swapped in by htmx
    page.fill("input[name='u-parent__q']", "建安")
    page.wait_for_selector(f"#id_u-parent option[value='{jianan.county.pk}']", state="attached")
    page.select_option("#id_u-parent", str(jianan.county.pk))
    v.submit("#unit-create button[type=submit]")
    assert "已创建单位：灵井镇" in page.inner_text(".messages")
    v.shot("admin-units")
    v.go("/admin/users/")
    page.click("#user-create > summary")
    page.fill("#id_n-username", "lingjing")
    page.fill("#id_n-full_name", "孟凡")
    page.fill("#id_n-password1", "short")
    page.fill("#id_n-password2", "short")
    v.submit("#user-create button[type=submit]")
    assert page.locator("#id_n-password1_error").count() == 1
    v.shot("admin-users-error")
    page.fill("#id_n-password1", "Lingjing#2026a")
    page.fill("#id_n-password2", "Lingjing#2026a")
    v.submit("#user-create button[type=submit]")
    assert "已创建用户" in page.inner_text(".messages")
    v.go("/rules/calendar/")
    page.set_input_files(
        "#id_file",
        files=[{"name": "2027.txt", "mimeType": "text/plain", "buffer": NOTICE_BAD.encode()}],
    )
    v.submit("#calendar-form button[type=submit]")
    errors = page.inner_text("#notice-errors")
    assert "第2行" in errors and "第3行" in errors and "第4行" in errors
    v.shot("calendar-errors")
    page.set_input_files(
        "#id_file",
        files=[{"name": "2027.txt", "mimeType": "text/plain", "buffer": NOTICE_GOOD.encode()}],
    )
    page.click("#calendar-form button[type=submit]")
    page.wait_for_url("**/rules/calendar/")
    page.wait_for_selector(".messages")
    assert "已载入2027年节假日安排" in page.inner_text(".messages")
    v.shot("calendar-loaded")
    v.sign_out()

    # the security administrator grants the new account a role; the keys
    v.sign_in("secadmin")
    page.fill("#q", "lingjing")
    v.submit("form.inline-filter button[type=submit]")
    v.submit("text=管理角色")
    page.fill("input[name='g-unit__q']", "灵井")
    page.wait_for_selector("#id_g-unit option:text('灵井镇（建安区）')", state="attached")
    page.select_option("#id_g-unit", label="灵井镇（建安区）")
    page.select_option("#id_g-role", "unit_handler")
    v.submit("#grant-form button[type=submit]")
    assert "已授予" in page.inner_text(".messages")
    v.shot("admin-roles")
    v.go("/admin/keys/")
    v.shot("admin-keys")
    v.sign_out()

    # the auditor sees every change above, and a whole chain
    v.sign_in("auditor")
    page.select_option("#a_action", "permission_change")
    v.submit("form.filters button[type=submit]")
    table = page.inner_text("#audit-table")
    assert "新建单位" in table and "分配角色" in table and "灵井镇" in table
    v.submit("#verify-chain")
    assert "审计链完整" in page.inner_text("#verify-result")
    v.shot("audit-log")
    assert v.problems == [], v.problems

    # at phone width: the ledger and the supervision page stack without sideways scrolling
    phone = Visit(chromium, live_server.url, viewport=PHONE)
    phone.shot_number = v.shot_number
    phone.sign_in("approver")
    for path, name in [("/ledger/", "phone-ledger"), ("/supervision/", "phone-supervision")]:
        phone.go(path)
        phone.shot(name)
        width = phone.page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} scrolls sideways at phone width ({width}px)"
    assert phone.problems == [], phone.problems
