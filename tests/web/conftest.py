"""Cases at every stage for the web tests, and a signed-in client per member of the demo
jurisdiction (the 13 keys of ``xinfang.demo.org.build_jurisdiction``)."""

from datetime import date

import pytest
from django.test import Client

from tests.conftest import id_number, sh
from xinfang.cases import choices as c
from xinfang.cases.services import DemandInput, PetitionerInput, perform

MEMBERS = [
    "clerk",
    "approver",
    "chief",
    "inspector",
    "township",
    "township_head",
    "proxy",
    "bureau",
    "discipline",
    "city_clerk",
    "sysadmin",
    "secadmin",
    "auditor",
]
ADMINS = ["sysadmin", "secadmin", "auditor"]
PASSWORD = "Xinfang#2026demo"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The public page counts failed guesses in the cache, which outlives a test."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def signed_in(m, client: Client | None = None) -> Client:
    """A test client signed in as ``m.user`` and acting as membership ``m``."""
    client = client or Client()
    client.force_login(m.user)
    session = client.session
    session["membership_id"] = m.pk
    session.save()
    return client


def walk(j, case, stage: str):
    """Take a registered case through the services up to ``stage``."""
    clerk, approver, township = j.member("clerk"), j.member("approver"), j.member("township")
    steps = [
        ("proposed", "propose", clerk, {"proposal": "交将官池镇办理"}),
        ("signed_off", "sign_off", approver, {"note": "同意"}),
        (
            "assigned",
            "assign",
            clerk,
            {
                "lead": j.townships["将官池镇"],
                "assisting": [j.bureaus["区民政局"]],
                "receiver_name": "陈晓东",
            },
        ),
        ("in_progress", "sign_for", township, {}),
        ("found", "record_finding", township, {"findings": {1: ("partly", "solved", "已核实")}}),
        ("letter_drafted", "draft_letter", township, {"body": "经核查，你反映的问题部分属实。"}),
        ("letter_approved", "approve_letter", approver, {}),
        ("letter_issued", "issue_letter", clerk, {}),
        (
            "delivered",
            "record_delivery",
            clerk,
            {
                "mode": "in_person",
                "delivered_at": sh(2026, 10, 9, 10),
                "deliverer": "陈晓东",
                "recipient": "张三明",
                "receipt_signed": True,
            },
        ),
        ("rated", "record_rating", township, {"rating": "satisfied"}),
        ("closed", "close", approver, {"note": "同意销号"}),
        ("archived", "archive", clerk, {}),
    ]
    for name, transition, by, params in steps:
        case = perform(transition, case=case, by=by, **params)
        if name == stage:
            return case
    raise AssertionError(f"no stage {stage}")


@pytest.fixture
def stages(jianan, register):
    """One case per stage worth a page, each with its own petitioner."""
    j = jianan
    people = iter(range(10, 99))

    def fresh(**overrides):
        n = next(people)
        person = PetitionerInput(
            name=f"王{n}号",
            id_number=id_number(f"411023198001{n:02d}123"),
            phone="13812345678",
            address="将官池镇岗朱村3组",
        )
        return register(petitioners=[person], **overrides)

    cases = {"registered": fresh()}
    for stage in [
        "proposed",
        "signed_off",
        "assigned",
        "in_progress",
        "letter_drafted",
        "letter_issued",
        "delivered",
        "archived",
    ]:
        cases[stage] = walk(j, fresh(), stage)
    extension = walk(j, fresh(), "found")
    cases["extension"] = perform(
        "request_extension",
        case=extension,
        by=j.member("township"),
        reason="需补办手续",
        progress_report="资金已到账",
        expected_completion=date(2026, 12, 30),
    )
    transferred = walk(j, fresh(concerns_misconduct=True), "in_progress")
    cases["transferred"] = perform(
        "transfer_to_discipline",
        case=transferred,
        by=j.member("approver"),
        unit=j.discipline,
        reason="反映村干部截留补助",
        receiver_name="吴刚",
    )
    cases["confidential"] = walk(j, fresh(confidential=True), "in_progress")
    cases["referred"] = walk(
        j, fresh(source_level=c.SourceLevel.PROVINCE, source_office="河南省乡村振兴局"), "rated"
    )
    cases["declined"] = perform(
        "decline",
        case=fresh(),
        by=j.member("clerk"),
        reason="不属于涉贫信访",
        guidance="已引导至镇农经站",
    )
    register()  # 张三明's first petition; the next is his second (a repeat, with a warning)
    cases["repeat"] = register(demands=[DemandInput(text="再次要求补助", category="危房改造")])
    return cases
