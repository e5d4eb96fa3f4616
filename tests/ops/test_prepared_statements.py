"""PostgreSQL connections bind parameters on the server and prepare what they run often
(settings.base.PREPARED_STATEMENTS, docs/decisions/0004-prepared-statements.md), and the
backend (xinfang.db.postgresql) keeps every statement under the protocol's 65,535 parameters."""

import pytest
from django.db import connection

from xinfang.cases.models import Petitioner
from xinfang.matching.models import PersonKey
from xinfang.settings.base import database_from_url

URL = "postgres://xinfang@127.0.0.1:5432/xinfang"


def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's connection")


def test_a_postgres_database_binds_on_the_server_and_prepares_by_default(monkeypatch):
    monkeypatch.delenv("XINFANG_PG_PREPARE", raising=False)
    db = database_from_url(URL)
    assert db["ENGINE"] == "xinfang.db.postgresql"
    assert db["OPTIONS"]["server_side_binding"] is True
    assert db["OPTIONS"]["prepare_threshold"] == 1


def test_prepared_statements_can_be_turned_off_for_an_old_pooler(monkeypatch):
    monkeypatch.setenv("XINFANG_PG_PREPARE", "0")
    options = database_from_url(URL)["OPTIONS"]
    assert "server_side_binding" not in options and "prepare_threshold" not in options
    assert options["options"].startswith("-c jit=off")


@pytest.mark.django_db
def test_a_statement_is_prepared_at_its_second_run_on_its_connection():
    postgres_only()
    assert connection.features.uses_server_side_binding
    text = "SELECT COUNT(*) FROM cases_petitioner WHERE id > %s"

    def prepared():
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            return {row[0] for row in cursor.fetchall()}

    with connection.cursor() as cursor:
        cursor.execute(text, [1])
        cursor.fetchone()
    assert text.replace("%s", "$1") not in prepared()  # a text run once is not kept
    with connection.cursor() as cursor:
        cursor.execute(text, [2])
        cursor.fetchone()
    assert text.replace("%s", "$1") in prepared()


@pytest.mark.django_db
def test_a_bulk_insert_past_the_protocols_parameter_limit_is_split():
    postgres_only()
    assert connection.features.max_query_params == 65535
    person = Petitioner.objects.create(name="王秀兰")
    PersonKey.objects.filter(petitioner=person).delete()  # its own name's keys
    # 35,000 rows of two columns: 70,000 parameters, one statement too many for the server
    made = PersonKey.objects.bulk_create(
        [PersonKey(petitioner=person, key=k) for k in range(35_000)])
    assert len(made) == 35_000
    assert PersonKey.objects.filter(petitioner=person).count() == 35_000
    assert connection.ops.bulk_batch_size(PersonKey._meta.concrete_fields[1:], made) == 32767


def keys_of_one_person(n: int) -> tuple[Petitioner, list[int]]:
    """A person holding ``n`` match keys (their name's own keys removed), and the keys' ids."""
    person = Petitioner.objects.create(name="王秀兰")
    PersonKey.objects.filter(petitioner=person).delete()
    PersonKey.objects.bulk_create([PersonKey(petitioner=person, key=k) for k in range(n)])
    return person, list(PersonKey.objects.filter(petitioner=person).values_list("pk", flat=True))


@pytest.mark.django_db
def test_in_bulk_past_the_limit_reads_every_row():
    postgres_only()
    _, keys = keys_of_one_person(70_000)
    assert len(PersonKey.objects.in_bulk(keys)) == 70_000


@pytest.mark.django_db
def test_statements_planned_each_time_are_not_prepared_and_the_threshold_comes_back():
    postgres_only()
    from xinfang.db.plans import planned_each_time

    text = "SELECT COUNT(*) FROM cases_case WHERE id > %s AND id < %s"
    with pytest.raises(RuntimeError), planned_each_time():
        with connection.cursor() as cursor:
            for i in range(7):
                cursor.execute(text, [i, 10])
        raise RuntimeError("a request failing inside")
    assert connection.connection.prepare_threshold == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        assert text.replace("%s", "$1", 1).replace("%s", "$2") not in {r[0] for r in cursor}


@pytest.mark.django_db
def test_a_filter_update_and_delete_over_more_ids_than_the_limit_go_as_one_array():
    postgres_only()
    from django.db.models import F
    from django.test.utils import CaptureQueriesContext

    person, ids = keys_of_one_person(70_000)
    with CaptureQueriesContext(connection) as seen:
        assert PersonKey.objects.filter(pk__in=ids).count() == 70_000
        assert PersonKey.objects.filter(petitioner=person).exclude(pk__in=ids[1:]).count() == 1
        assert PersonKey.objects.filter(pk__in=ids[:10_000]).count() == 10_000
    long, excluded, short = (q["sql"] for q in seen.captured_queries)
    assert '"id" = ANY(' in long and "::bigint[]" in long and " IN (" not in long
    assert "= ANY(" in excluded
    assert " IN (" in short and "ANY(" not in short  # a batch the code makes keeps its shape
    moved = PersonKey.objects.filter(pk__in=ids[:40_000]).update(key=F("key") + 1_000_000)
    assert moved == 40_000 == PersonKey.objects.filter(key__gte=1_000_000).count()
    deleted, _ = PersonKey.objects.filter(pk__in=ids[:66_000]).delete()
    assert deleted == 66_000
    assert PersonKey.objects.filter(petitioner=person).count() == 4_000


@pytest.mark.django_db
def test_a_foreign_key_filter_and_a_prefetch_over_more_parents_than_the_limit():
    postgres_only()
    from django.db.models import prefetch_related_objects

    person = Petitioner.objects.create(name="王秀兰")
    others = list(range(-70_000, 0))  # ids no person has: only the one person's keys match
    keys = PersonKey.objects.filter(petitioner__in=[person, *others])
    assert keys.count() == PersonKey.objects.filter(petitioner=person).count() > 0
    parents = [Petitioner(pk=pk) for pk in others] + [person]
    prefetch_related_objects(parents, "match_keys")
    assert {k.pk for k in parents[-1].match_keys.all()} == {k.pk for k in keys}
    assert all(not p.match_keys.all() for p in parents[:100])
