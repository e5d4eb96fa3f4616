"""Cases for the oversight tests: a closed kaijiang case (reviewed on seven points), an assigned
lihai case (proxied), a reported-back henan case (verified)."""

import pytest

from tests.conftest import register_in, sh
from tests.web.conftest import walk
from xinfang.cases import choices as c


@pytest.fixture
def kaijiang(jurisdiction):
    return jurisdiction("kaijiang")


@pytest.fixture
def lihai(jurisdiction):
    return jurisdiction("lihai")


@pytest.fixture
def henan(jurisdiction):
    return jurisdiction("henan")


def close_in_kaijiang(j, **overrides):
    """A kaijiang case handled by 区民政局 and closed with the full case file (§五(四))."""
    from xinfang.cases.services import perform

    clerk, approver, bureau = j.member("clerk"), j.member("approver"), j.member("bureau")
    case = register_in(j, at=sh(2026, 9, 17, 10), received_at=sh(2026, 9, 17, 9), **overrides)
    steps = [
        ("propose", clerk, sh(2026, 9, 17, 11), {"proposal": "交区民政局化解"}),
        ("sign_off", approver, sh(2026, 9, 17, 15), {}),
        ("assign", clerk, sh(2026, 9, 17, 16), {"lead": j.bureaus["区民政局"],
                                                "receiver_name": "周明"}),
        ("sign_for", bureau, sh(2026, 9, 21, 10), {}),
        ("deliver_acceptance_notice", bureau, sh(2026, 9, 22, 10),
         {"mode": "in_person", "deliverer": "周明", "recipient": "张三明"}),
        ("submit_report", bureau, sh(2026, 9, 29, 9), {"kind": "handling", "text": "办理情况报告"}),
        ("record_finding", bureau, sh(2026, 9, 29, 10),
         {"findings": {1: ("true", "solved", "补助已发放")}}),
        ("draft_letter", bureau, sh(2026, 9, 29, 11), {"body": "经核查……"}),
        ("approve_letter", approver, sh(2026, 9, 29, 15), {}),
        ("issue_letter", clerk, sh(2026, 9, 29, 16), {}),
        ("record_delivery", clerk, sh(2026, 9, 30, 10),
         {"mode": "in_person", "delivered_at": sh(2026, 9, 30, 9), "deliverer": "周明",
          "recipient": "张三明", "receipt_signed": True}),
        ("record_rating", bureau, sh(2026, 9, 30, 11), {"rating": "satisfied"}),
        ("record_pledge", bureau, sh(2026, 9, 30, 11, 30), {"text": "不再上访"}),
        ("close", approver, sh(2026, 10, 9, 9), {"note": "同意销号"}),
    ]
    for name, by, at, params in steps:
        case = perform(name, case=case, by=by, at=at, **params)
    return case


@pytest.fixture
def closed_case(kaijiang):
    return close_in_kaijiang(kaijiang)


def assign_in_lihai(j, **overrides):
    """A lihai case assigned to 将官池镇 (the chief signs the assignment, 2211) and signed for."""
    from xinfang.cases.services import perform

    case = walk(j, register_in(j, **overrides), "signed_off")
    case = perform("countersign", case=case, by=j.member("chief"), note="交办签")
    case = perform("assign", case=case, by=j.member("clerk"), lead=j.townships["将官池镇"],
                   receiver_name="陈晓东")
    return perform("sign_for", case=case, by=j.member("township"))


@pytest.fixture
def lihai_case(lihai):
    return assign_in_lihai(lihai)


@pytest.fixture
def reported_case(henan):
    from xinfang.cases.services import DemandInput, perform

    case = walk(henan, register_in(henan, source_level=c.SourceLevel.PROVINCE,
                                   source_office="河南省乡村振兴局",
                                   demands=[DemandInput(text="要求落实危房改造补助",
                                                        category="D级危房改造")]), "rated")
    return perform("report_back", case=case, by=henan.member("clerk"),
                   at=sh(2026, 10, 12, 10, 0))
