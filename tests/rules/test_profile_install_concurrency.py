"""Two administrators installing (or migrating) at the same moment, with real threads and their
own connections: one version is stored, no one crashes on the unique constraint, and each open
case is migrated once. On PostgreSQL this is the race that once raised an IntegrityError."""

import pytest

from tests.cases.test_concurrency import run_in_threads
from tests.conftest import register_in
from tests.rules.test_profile_versions import NEXT, another, raised_jianan
from xinfang.audit.models import AuditEntry
from xinfang.cases.models import CaseEvent
from xinfang.demo.org import build_jurisdiction
from xinfang.rules.models import ProfileVersion
from xinfang.rules.profile import ProfileError
from xinfang.rules.store import current_version
from xinfang.rules.versions import PROFILE_MIGRATED, profile_install, profile_migrate

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 6


def test_the_same_file_installed_at_once_is_stored_once():
    build_jurisdiction()
    current_version("jianan")
    text, rows = raised_jianan(), []

    def install(_i):
        rows.append(profile_install(text=text, source="jianan-v3.yaml"))

    assert run_in_threads(install, THREADS) == []
    assert ProfileVersion.objects.filter(code="jianan", version=NEXT).count() == 1
    assert len({r.row.pk for r in rows}) == 1
    assert sum(r.created for r in rows) == 1
    assert AuditEntry.objects.filter(detail__change="profile_install").count() == 1


def test_first_uses_of_a_profile_at_once_install_it_once():
    build_jurisdiction()
    assert not ProfileVersion.objects.exists()
    seen = []

    def first_use(_i):
        seen.append(current_version("jianan").pk)

    assert run_in_threads(first_use, THREADS) == []
    assert ProfileVersion.objects.filter(code="jianan").count() == 1
    assert len(set(seen)) == 1


def test_two_texts_under_one_version_at_once_one_wins_and_the_other_is_refused():
    build_jurisdiction()
    current_version("jianan")
    texts = [raised_jianan(first_contact_days=2), raised_jianan(first_contact_days=5)]
    won = []

    def install(i):
        won.append(profile_install(text=texts[i], source=f"admin{i}.yaml").row.text)

    errors = run_in_threads(install, 2)

    assert len(won) == 1 and len(errors) == 1
    assert isinstance(errors[0], ProfileError) and errors[0].errors[0].key == "version"
    assert ProfileVersion.objects.get(code="jianan", version=NEXT).text == won[0]


def test_two_migrations_at_once_move_each_case_once():
    j = build_jurisdiction()
    cases = [register_in(j, matter=f"第{i}件", petitioners=another(i)) for i in range(3)]
    v3 = profile_install(text=raised_jianan(), source="v3.yaml").row
    done = []

    def migrate(_i):
        done.append(len(profile_migrate(target=v3).cases))

    assert run_in_threads(migrate, 2) == []
    assert sorted(done) == [0, 3]
    assert CaseEvent.objects.filter(type=PROFILE_MIGRATED).count() == 3
    for case in cases:
        case.refresh_from_db()
        assert case.profile_id == v3.pk
