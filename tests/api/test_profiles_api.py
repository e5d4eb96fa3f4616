"""``/api/profiles/``: the system administrator lists, reads, compares and installs profile
versions and migrates open cases, as on the rules pages; everyone else is refused."""

import pytest

from tests.api.world import client_as
from tests.conftest import register_in, sh
from tests.rules.test_profile_versions import NEXT, V, raised_jianan, renamed_contact_clock
from xinfang.audit.models import AuditEntry
from xinfang.rules.store import current_version

pytestmark = pytest.mark.django_db


def test_only_the_system_administrator_reads_or_installs(jianan):
    for role in ("clerk", "approver", "secadmin"):
        api = client_as(jianan.member(role))
        assert api.get("/api/profiles/").status_code == 403
        answer = api.post("/api/profiles/", {"text": raised_jianan()}, format="json")
        assert answer.status_code == 403
        assert "系统管理员" in answer.json()["detail"]
    assert current_version("jianan").version == V


def test_a_file_with_a_mistake_is_answered_with_its_line_and_key(jianan):
    api = client_as(jianan.member("sysadmin"))
    text = raised_jianan().replace("    amount: 2\n", "    amount: two\n", 1)
    answer = api.post("/api/profiles/", {"text": text, "source": "jianan.yaml"}, format="json")
    assert answer.status_code == 400
    issue = answer.json()["errors"][0]
    assert issue["line"] == text[: text.index("amount: two")].count("\n") + 1
    assert "amount" in issue["key"]
    assert current_version("jianan").version == V


def test_a_dry_run_then_an_install_then_a_read_and_a_diff(jianan):
    current_version("jianan")  # the shipped version, stored at first use
    api = client_as(jianan.member("sysadmin"))
    checked = api.post("/api/profiles/", {"text": raised_jianan(), "dry_run": True},
                       format="json")
    assert checked.status_code == 200
    body = checked.json()
    assert body["dry_run"] and not body["created"] and body["version"] == NEXT
    assert any("first_contact" in c["path"] for c in body["changes"])
    assert current_version("jianan").version == V

    installed = api.post("/api/profiles/", {"text": raised_jianan(), "source": "v.yaml"},
                         format="json")
    assert installed.status_code == 201 and installed.json()["previous"] == V
    assert AuditEntry.objects.filter(detail__change="profile_install").count() == 1
    again = api.post("/api/profiles/", {"text": raised_jianan(), "source": "v.yaml"},
                     format="json")
    assert again.status_code == 200 and not again.json()["created"]

    listed = {(r["code"], r["version"]) for r in api.get("/api/profiles/").json()}
    assert {("jianan", V), ("jianan", NEXT)} <= listed
    read = api.get(f"/api/profiles/jianan/{NEXT}/").json()
    assert read["text"] == raised_jianan() and read["previous"] == V
    diff = api.get("/api/profiles/diff/", {"a": f"jianan@{V}", "b": "jianan"}).json()
    assert [c["kind"] for c in diff if c["path"] == "clocks[first_contact].amount"] == ["changed"]
    bad = api.get("/api/profiles/diff/", {"a": "jianan@99"})
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"a", "b"}
    assert api.get("/api/profiles/jianan/99/").status_code == 404


def test_the_migration_plan_and_the_migration(jianan):
    case = register_in(jianan)
    api = client_as(jianan.member("sysadmin"))
    api.post("/api/profiles/", {"text": renamed_contact_clock()}, format="json")

    plan = api.get(f"/api/profiles/jianan/{NEXT}/migration/").json()
    assert plan["total"] == 1 and plan["cases"][0]["number"] == case.number
    added = [c for c in plan["cases"][0]["clocks"] if c["clock"] == "first_call"]
    assert added[0]["started"] == sh(2026, 9, 14, 9, 30).isoformat()

    done = api.post(f"/api/profiles/jianan/{NEXT}/migration/").json()
    assert done["total"] == 1
    case.refresh_from_db()
    assert case.profile.version == NEXT and case.clocks.filter(name="first_call").exists()
    assert api.post(f"/api/profiles/jianan/{NEXT}/migration/").json()["total"] == 0
