"""The benchmark's data generator (bench/datagen) fills a migrated database the way the product
stores it: a small province here (2 counties, 200 cases) — the benchmark's figures are only as
good as the data is real."""

import json

import pytest
from django.utils import timezone

from bench.datagen import fill
from xinfang.audit import services as audit
from xinfang.audit.models import AuditEntry
from xinfang.cases import choices as c
from xinfang.cases.models import Case, CaseEvent, Clock, Petitioner
from xinfang.org.models import Membership, Unit, User
from xinfang.security.crypto import get_keyring
from xinfang.security.idcard import validate_id_number

pytestmark = pytest.mark.django_db(transaction=True)


def test_generated_province_is_stored_as_the_product_stores_it_and_opens(client, tmp_path,
                                                                         capsys):
    # given a generated province (one test: generating is the slow part, kept to a few seconds)
    fill(cases=200, seed=3, now=timezone.now(), counties=2, townships=3, busy_share=0.5,
         analyze=False)
    # then every case is there, in every state the workflow knows, each with its history
    assert Case.objects.count() == 200
    assert set(Case.objects.values_list("state", flat=True)) == set(c.State.values)
    assert CaseEvent.objects.values("case").distinct().count() == 200
    assert not Case.objects.exclude(number__contains="信〔").exists()
    # and clocks both running (some overdue) and stopped
    now = timezone.now()
    assert Clock.objects.filter(status="running", due_at__lt=now).exists()
    assert Clock.objects.filter(status="stopped").exists()
    # and the tree's paths are the product's ("/1/4/9/")
    county = Unit.objects.get(name="建安区")
    assert Unit.objects.get(pk=county.pk).path == f"{county.parent.path}{county.pk}/"
    assert Membership.objects.filter(user__username="clerk", unit__kind="poverty_office").exists()

    # and a generated petitioner, read through the model, decrypts
    person = Petitioner.objects.order_by("pk").first()
    assert validate_id_number(person.id_number) == person.id_number
    # then the product's own lookup by blind index finds that person
    index = get_keyring().blind_index(person.id_number, purpose="id_number")
    assert Petitioner.objects.get(id_number_index=index) == person
    # a delivery's recipient is stored as the product stores it: encrypted, read back in clear
    from xinfang.cases.models import Delivery

    names = {p.name for p in Petitioner.objects.all()} | {"信访人"}
    assert {d.recipient for d in Delivery.objects.all()[:20]} <= names
    # and each case keeps when its reply was delivered, as the delivery's effect keeps it
    delivered = dict(Delivery.objects.filter(document__kind="decision_letter", refused=False)
                     .values_list("case_id", "delivered_at"))
    kept = dict(Case.objects.exclude(reply_delivered_at=None)
                .values_list("pk", "reply_delivered_at"))
    assert kept == delivered and kept
    # and each repeat names its matter's first visit, as registration keeps it
    parents = dict(Case.objects.values_list("pk", "repeat_of_id"))
    repeats = Case.objects.exclude(repeat_of=None).values_list("pk", "matter_root_id")
    assert repeats
    for pk, root in repeats:
        first = pk
        while parents[first] is not None:
            first = parents[first]
        assert root == first, pk

    # and the backlog register holds lines as an office keeps them: from repeats, some resolved,
    # some with progress, and old lines imported without a case; names read back in clear and
    # are found by the product's own name index
    from xinfang.registers.models import BacklogCase, BacklogProgress
    from xinfang.security.names import name_index

    lines = BacklogCase.objects.all()
    assert lines.filter(case__isnull=False, case__repeat_of__isnull=False).exists()
    assert lines.filter(case__isnull=True, entry="imported").count() >= 2  # a line per county
    assert lines.filter(resolved_at__isnull=False).exists()
    assert lines.filter(plan_deadline__isnull=False).exists()
    assert BacklogProgress.objects.exists()
    line = lines.filter(case__isnull=False).select_related("case").first()
    names = {x.petitioner.name for x in line.case.petitioner_links.select_related("petitioner")}
    assert line.person_name in names
    assert lines.filter(name_index=name_index(line.person_name)).filter(pk=line.pk).exists()

    # and for the busy county's clerk
    client.force_login(User.objects.get(username="clerk"))
    case = Case.objects.filter(jurisdiction__name="建安区").order_by("-events__seq").first()
    page = client.get(f"/cases/{case.pk}/")
    ledger = client.get("/ledger/")
    backlog = client.get("/ledger/backlog/?resolved=true")
    api = client.get("/api/cases/")
    # a case page, the ledger and the API list answer with the generated data
    assert page.status_code == 200 and case.number in page.content.decode()
    assert ledger.status_code == 200
    resolved = lines.filter(resolved_at__isnull=False, case__jurisdiction__name="建安区")
    assert backlog.status_code == 200 and resolved.exists()
    assert all(x.case.number in backlog.content.decode() for x in resolved.select_related("case"))
    assert api.status_code == 200 and api.json()["count"] > 0
    # and the page survey's ordinary township is a township's handler holding cases, beside
    # its own county's clerk and approver
    from bench.page_survey import ordinary_users

    users = ordinary_users()
    township, clerk, approver = (Membership.objects.select_related("unit").get(
        user__username=users[role]) for role in ("township", "clerk", "approver"))
    assert (township.role, township.unit.level) == ("unit_handler", "township")
    assert township.unit.assignments.exists()
    assert (clerk.role, approver.role) == ("clerk", "approver")
    assert clerk.unit.parent_id == approver.unit.parent_id == township.unit.parent_id
    # and its interleaved mode asks each page once a round and sets early beside late
    from bench.page_survey import interleaved

    asked = [("county", "clerk", "/work/"), ("township", users["township"], "/ledger/")]

    def logged_in(username):
        client.force_login(User.objects.get(username=username))
        return client

    interleaved(asked, 6, logged_in, lambda shown: (shown, lambda: None),
                tmp_path / "rounds.json")
    rows = json.loads((tmp_path / "rounds.json").read_text())
    assert [(r["user"], r["url"]) for r in rows] == [(u, url) for _g, u, url in asked]
    assert all(0 < r["early_ms"] <= r["max_ms"] and 0 < r["late_ms"] <= r["max_ms"]
               for r in rows)
    assert "2 pages, 6 rounds" in capsys.readouterr().out

    # and the search finds a generated case by a piece of its matter (the loader sets the
    # full-text triggers and the plain indexes aside on SQLite and rebuilds them after)
    from django.db import connection

    from xinfang.cases.search import search_q

    matter = case.matter
    assert Case.objects.filter(search_q(matter[2:7])).filter(pk=case.pk).exists()
    assert Case.objects.filter(search_q(matter[2:4])).filter(pk=case.pk).exists()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' "
                           "AND name LIKE 'cases_%_fts_%'")
            assert cursor.fetchone()[0] == 6
            cursor.execute("SELECT COUNT(*) FROM cases_case_fts")
            assert cursor.fetchone()[0] == 200
            cursor.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' "
                           "AND name = 'case_received_idx'")
            assert cursor.fetchone()[0] == 1
    # then a case edited after the load is found by its words through the re-made triggers
    Case.objects.filter(pk=case.pk).update(matter="灌溉水渠年久失修")
    assert Case.objects.filter(search_q("水渠年久")).filter(pk=case.pk).exists()

    # and its year of audit trail: the product's own check walks the whole chain and finds
    # every seal good
    result = audit.audit_verify()
    assert result.ok, result.message
    assert result.checked == AuditEntry.objects.count() > 500
    # and ids rise with time, as entries appended one by one do
    times = list(AuditEntry.objects.order_by("id").values_list("at", flat=True))
    assert times == sorted(times)
    # and it holds what an office's year writes: mostly reads of cases by those who acted on
    # them (the clerk who registered one read it), sign-ins, and exports whose long list of
    # case numbers the trail's list reads as a brief
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {audit.READ, audit.LOGIN, audit.EXPORT} <= actions
    reads = AuditEntry.objects.filter(action=audit.READ, object_type="case")
    assert reads.count() > AuditEntry.objects.count() / 2
    read = reads.filter(detail__role="clerk").order_by("id").first()
    case = Case.objects.get(pk=read.object_id)
    assert read.detail["case"] == case.number and read.actor_id == case.registered_by_id
    export = AuditEntry.objects.exclude(brief=None).order_by("id").first()
    assert export.brief == audit.brief_of(export.detail)
    assert len(export.detail["cases"]) == export.brief["cut"]["cases"] > audit.LIST_SHOWN
