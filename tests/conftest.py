from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from xinfang.cases import choices as c
from xinfang.cases.services import DemandInput, PetitionerInput, Registration, case_register
from xinfang.demo.org import build_jurisdiction

SH = ZoneInfo("Asia/Shanghai")


def sh(*args) -> datetime:
    """An Asia/Shanghai instant: sh(2026, 9, 18, 16, 0)."""
    return datetime(*args, tzinfo=SH)


def id_number(prefix17: str) -> str:
    """A valid GB 11643 ID number from its first 17 digits."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(prefix17, weights, strict=True))
    return prefix17 + "10X98765432"[total % 11]


@pytest.fixture
def jianan(db):
    return build_jurisdiction(profile_code="jianan")


COUNTIES = {  # profile code → (county name, case-number prefix)
    "national": ("示范县", "示范"),
    "datonghu": ("大通湖区", "大通湖"),
    "jianan": ("建安区", "建安"),
    "kaijiang": ("开江县", "开江"),
    "henan": ("河南示范县", "豫示范"),
    "lihai": ("沥海街道", "沥海"),
}


@pytest.fixture
def jurisdiction(db):
    """Build the demo tree under another profile: jurisdiction("lihai")."""

    def _build(code: str):
        name, prefix = COUNTIES[code]
        return build_jurisdiction(
            profile_code=code, county_name=name, short_name=prefix, username_prefix=f"{code}_"
        )

    return _build


def register_in(j, at=None, **overrides):
    return case_register(
        by=j.member("clerk"), data=registration(j, **overrides), at=at or sh(2026, 9, 14, 10, 0)
    )


def registration(j, **overrides) -> Registration:
    base = dict(
        channel=c.Channel.VISIT,
        matter="反映危房改造补助未到位",
        received_at=sh(2026, 9, 14, 9, 30),
        petitioners=[
            PetitionerInput(
                name="张三明",
                id_number=id_number("41102319800101123"),
                phone="13812345678",
                address="将官池镇岗朱村3组",
                exited_household=True,
            )
        ],
        demands=[DemandInput(text="要求落实2025年危房改造补助", category="危房改造")],
        township=j.townships["将官池镇"],
        village=j.villages["岗朱村"],
    )
    base.update(overrides)
    return Registration(**base)


@pytest.fixture
def register(jianan):
    def _register(at=None, **overrides):
        return case_register(
            by=jianan.member("clerk"),
            data=registration(jianan, **overrides),
            at=at or sh(2026, 9, 14, 10, 0),
        )

    return _register


@pytest.fixture(autouse=True)
def _fresh_calendar(monkeypatch):
    """The working calendar is cached per process; a test's loaded year must not leak. Its
    re-check of the loaded years (for a year another process loaded) runs on the wall clock
    every few seconds; in a test it runs once, on first use, so a query count does not depend
    on how long the test took (``test_calendar_load`` tests the re-check itself)."""
    from xinfang.rules import store

    monkeypatch.setattr(store, "RECHECK_SECONDS", float("inf"))
    store.forget_calendar()
    yield
    store.forget_calendar()


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """What a process keeps across requests and each test must not inherit: the newest profile
    version's row (``store.current_version``), whether a search term is rare
    (``search.VERDICT_SECONDS``), which units hold more cases than a door names
    (``selectors.MAX_LISTED_CASES``) and which subtrees hold more units than are listed
    (``selectors.MAX_LISTED_UNITS``, ``forms.ledger.PLACES_LISTED``). Each test's database is
    its own."""
    from xinfang.cases import search
    from xinfang.db.remembered import OverTheBound
    from xinfang.rules import store

    def forget():
        store.forget_versions()
        search.forget_verdicts()
        OverTheBound.forget_all()

    forget()
    yield
    forget()
