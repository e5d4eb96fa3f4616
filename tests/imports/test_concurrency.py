"""Two clerks importing the same ledger at the same moment: every row lands once. Real threads,
each with its own connection (SQLite file database here, PostgreSQL in CI)."""

import pytest

from tests.cases.test_concurrency import run_in_threads
from xinfang.cases.models import Case
from xinfang.demo.org import build_jurisdiction
from xinfang.imports.models import ImportedRow
from xinfang.imports.services import ledger_import
from xinfang.org.choices import Role
from xinfang.org.models import Membership, User
from xinfang.rules.store import current_version

from .books import l0_book

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_same_file_imported_twice_at_once_lands_once():
    j = build_jurisdiction()
    second = Membership.objects.create(
        user=User.objects.create(username="clerk2"), unit=j.office, role=Role.CLERK
    )
    current_version("jianan")  # the profile is installed before the race, as in a running office
    content = l0_book()
    results = []

    def one(i):
        by = j.member("clerk") if i == 0 else second
        results.append(
            ledger_import(
                by=by, content=content, filename=f"{i}.xlsx", dry_run=False, skip_invalid=False
            )
        )

    assert run_in_threads(one, 2) == []
    assert Case.objects.count() == 5 and ImportedRow.objects.count() == 5
    assert sorted(r.count("created") for r in results) == [0, 5]
    assert all(r.committed for r in results)
