"""Cases at the stage each practice needs, in the demo jurisdictions."""

from __future__ import annotations

import pytest

from tests.conftest import id_number, register_in
from tests.web.conftest import walk
from xinfang.cases.services import PetitionerInput


def person(n: int, **extra) -> PetitionerInput:
    return PetitionerInput(
        name=f"赵{n}号",
        id_number=id_number(f"411023198002{n:02d}123"),
        phone="13812345678",
        address="将官池镇岗朱村3组",
        **extra,
    )


@pytest.fixture
def fresh(jianan):
    """A registered jianan case with its own petitioner: fresh(**overrides)."""
    people = iter(range(10, 99))

    def _fresh(j=None, **overrides):
        j = j or jianan
        return register_in(
            j,
            petitioners=[person(next(people), confidential=overrides.pop("secret", False))],
            **overrides,
        )

    return _fresh


@pytest.fixture
def delivered(jianan, fresh):
    """A jianan case whose reply was delivered (owed its return visit)."""
    return walk(jianan, fresh(), "delivered")
