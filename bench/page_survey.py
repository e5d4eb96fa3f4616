"""Every page and API list of the product, once each role that uses it, on generated data: what
the main benchmark (``bench/run.py``) does not time.

    .venv/bin/python bench/page_survey.py --cases 200000 --engine sqlite [--calls 5]
        [--database sqlite:/path/copy.sqlite3] [--only admin,province] [--json out.json]
        [--rounds 15]

The main benchmark times eleven workloads of the busy county's clerk and approver beside their
floors. An office has more pages than those (its registers, practices, scores, inbox, oversight,
the person page, the administrators' lists of 37,000 units and 4,000 users, the audit log), and
wider readers than a county (the city's clerk, the province's inspector over every case). Each
is asked ``--calls`` times after one warm call; the table gives the median and the slowest call,
the statements of one call and the status, and marks a page over its target (150 ms, as the
lists of issue 9) or whose statements grow with what it shows is caught elsewhere
(``tests/web/test_list_queries.py``). The files an office downloads (group ``exports``: the
reports, L1–L4, a narrowed L0) are read to their last byte, timed ``EXPORT_CALLS`` times, and
printed with their size; no target is set for them. ``--rounds`` asks the pages in turn instead,
as one served worker does, to show the plans PostgreSQL keeps after a statement's fifth run
(``interleaved``).

The administrators (系统管理员, 安全管理员, 审计管理员) are not in the generated data: they are
added to the province here (``bench_sysadmin``, …) the first time, and kept; a province
generated before it had a profile is given the national one (what ``bench/datagen/tree.py``
now generates), so that its inspector reads the whole province.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.generate import set_up_on  # noqa: E402

TARGET_MS = 150.0
EXPORT_CALLS = 2
ADMINS = {"bench_sysadmin": "sysadmin", "bench_secadmin": "secadmin",
          "bench_auditor": "auditor"}


def pages(busy: dict, person: int, case: int,
          ordinary: dict[str, str] | None = None) -> list[tuple[str, str, str]]:
    """(group, username, url): each page as the role that uses it; ``ordinary`` names the users
    of an ordinary county by role (``ordinary_users``)."""
    ordinary = ordinary or {"township": "township", "clerk": "clerk", "approver": "approver"}
    township = busy["township"]
    county = [
        ("clerk", u) for u in (
            "/work/", "/ledger/", "/ledger/?sort=due", "/ledger/?overdue=true",
            "/ledger/?category=危房改造", f"/ledger/?category=危房改造&township={township}",
            "/ledger/screening/",
            "/ledger/backlog/", "/ledger/roster/", "/inbox/", "/reports/", "/practices/",
            "/practices/return-visits/", "/practices/meetings/", "/practices/watch/",
            "/practices/duty/", "/practices/persuade/", "/practices/campaigns/", "/scores/",
            "/scores/?period=2026-Q3", "/jobs/", "/oversight/", "/recusals/",
            "/ownership/villages/",
            "/register/", f"/register/villages/?township={township}", f"/people/{person}/",
            "/rules/profiles/", "/rules/calendar/", "/account/password/",
            "/api/cases/?ordering=-received_at", "/api/cases/?overdue=true",
            f"/api/cases/{case}/", f"/api/cases/{case}/actions/",
            f"/api/cases/{case}/documents/", f"/api/people/{person}/", "/api/inbox/",
            "/api/scores/?period=2026-Q3", "/api/jobs/",
            "/api/oversight/orders/", "/api/practices/return-visits/",
            "/api/practices/return-visits/owed/", "/api/practices/meetings/",
            "/api/practices/watch/", "/api/practices/duty/", "/api/practices/persuade/",
            "/api/practices/campaigns/", "/api/practices/field-visits/",
        )
    ]
    return (
        [("county", user, url) for user, url in county]
        + [("county", "approver", u) for u in ("/work/", "/supervision/",
                                                 "/supervision/?kind=year&period=2026",
                                                 "/scores/", "/inbox/", "/api/inbox/")]
        + [("county", "chief", u) for u in ("/work/", "/supervision/")]
        + [("county", "inspector", u) for u in ("/work/", "/supervision/", "/oversight/")]
        + [("county", "discipline", u) for u in ("/work/", "/ledger/")]
        # the busy county's busy township (13,573 cases at 1M) and an ordinary one
        + [("township", user, u) for user in ("township", ordinary["township"]) for u in (
            "/work/", "/ledger/", "/ledger/?search=危房", "/ledger/?state=closed",
            "/api/cases/", "/api/cases/?overdue=true")]
        # the ordinary township's county: a tenth of the busy county's cases
        + [("ordinary", ordinary["clerk"], u) for u in (
            "/work/", "/ledger/", "/ledger/?sort=due", "/ledger/?overdue=true",
            "/ledger/?search=危房", "/ledger/?state=closed", "/ledger/?category=危房改造",
            "/ledger/backlog/", "/inbox/", "/oversight/", "/practices/", "/scores/",
            "/api/cases/", "/api/cases/?overdue=true", "/api/inbox/")]
        + [("ordinary", ordinary["approver"], u) for u in (
            "/work/", "/supervision/", "/supervision/?kind=year&period=2026")]
        + [("county", "bureau", u) for u in ("/work/", "/ledger/")]
        + [("city", "city_clerk", u) for u in (
            "/work/", "/ledger/", "/ledger/?search=危房", "/ledger/?category=危房改造",
            "/api/cases/", "/reports/", "/scores/?period=2026-Q3", "/oversight/")]
        + [("province", "province_inspector", u) for u in (
            "/work/", "/ledger/", "/ledger/?sort=due", "/ledger/?overdue=true",
            "/ledger/?search=危房", "/ledger/?category=危房改造", "/supervision/",
            "/supervision/?kind=year&period=2026",
            "/supervision/?kind=quarter&period=2026-Q3", "/api/cases/",
            "/api/cases/?overdue=true",
            "/oversight/", "/scores/?period=2026-Q3", "/reports/", "/inbox/")]
        + [("admin", "bench_sysadmin", u) for u in (
            "/admin/units/", "/admin/units/?q=建安", "/admin/users/", "/admin/users/?q=clerk",
            "/admin/units/import/", "/admin/channels/", "/admin/templates/", "/admin/tokens/",
            "/rules/versions/", "/api/profiles/")]
        + [("admin", "bench_secadmin", u) for u in (
            "/admin/roles/", "/admin/roles/?q=clerk", "/admin/keys/", "/admin/password-resets/",
            "/security/dead-letters/")]
        # the trail the generator writes (a year: reads, sign-ins, exports), filtered as an
        # auditor asks: an export, who acted (a busy county, a rare actor, nobody), a type
        + [("admin", "bench_auditor", u) for u in (
            "/admin/audit/", "/admin/audit/?page=40", "/admin/audit/?action=export",
            "/admin/audit/?action=login_failed", "/admin/audit/?actor=建安区",
            "/admin/audit/?actor=省督查", "/admin/audit/?actor=经办人",
            "/admin/audit/?actor=无此人", "/admin/audit/?object_type=petitioner",
            "/admin/audit/?action=read&actor=建安区经办人")]
        # the scores under the profiles with points (lihai) and a backlog goal (henan): the
        # generated counties all run jianan's, so the busy county is switched for these calls
        # (``PROFILED``) and put back
        + [("profiles", "approver", f"{u}{sep}{PROFILE_MARK}{code}")
           for code in ("lihai", "henan")
           for u, sep in (("/scores/", "?"), ("/scores/?period=2026-Q3", "&"),
                          ("/scores/?period=2026", "&"), ("/api/scores/?period=2026", "&"))]
        + [("exports", user, u) for user in ("clerk", ordinary["clerk"]) for u in exports()]
        # the same reports over a city's and a province's cases (L0–L3 are a county office's)
        + [("exports", user, u) for user in ("city_clerk", "province_inspector")
           for u in exports() if "/ledgers/" not in u]
    )


PROFILE_MARK = "as_profile="


def profiled(url: str) -> tuple[str, str | None]:
    """The URL to ask and the profile the busy county runs for it (``None``: its own)."""
    if PROFILE_MARK not in url:
        return url, None
    base, code = url.split(PROFILE_MARK)
    return base.rstrip("?&"), code


def exports() -> list[str]:
    """The files a county clerk downloads, for the periods just ended: the four reports, L4 of
    the week and of every provincial referral, the registers (L1–L3), and L0 narrowed by a
    state and by a month (the whole county's L0 is ``bench/run.py``'s, beside its floor)."""
    from xinfang.reports.periods import current

    month, quarter = current("month").previous(), current("quarter").previous()
    week = current("week").previous()
    return [
        f"/reports/monthly/?period={month.code}", f"/reports/quarterly/?period={quarter.code}",
        f"/reports/scorecard/?period={quarter.code}", f"/reports/weekly/?period={week.code}",
        f"/reports/l4.xlsx?week={week.code}", "/reports/l4.xlsx",
        "/api/ledgers/l1.xlsx", "/api/ledgers/l2.xlsx", "/api/ledgers/l3.xlsx",
        "/api/ledgers/l0.xlsx?state=registered",
        f"/api/ledgers/l0.xlsx?received_from={month.start:%Y-%m-%d}",
    ]


def ordinary_users() -> dict[str, str]:
    """The handler of the township whose cases are the median township's (by its own
    assignments, active or ended), and its county's clerk and approver: the generator's busy
    county holds ten times a county's share, and its townships a hundred times an ordinary
    township's."""
    from django.db.models import Count, Q

    from xinfang.org.models import Membership

    held = Count("unit__assignments", filter=Q(unit__assignments__status__in=["active", "ended"]))
    handlers = list(Membership.objects.filter(unit__level="township", role="unit_handler")
                    .annotate(n=held).order_by("n", "user__username").select_related("unit"))
    township = handlers[len(handlers) // 2]
    office = Membership.objects.filter(unit__parent_id=township.unit.parent_id)
    return {"township": township.user.username,
            **{role: office.filter(role=role).order_by("user__username")
               .values_list("user__username", flat=True)[0]
               for role in ("clerk", "approver")}}


def fetch(client, url: str) -> tuple[int, int]:
    """GET ``url`` and read its whole body (a file is streamed): the status and its length."""
    r = client.get(url)
    body = b"".join(r.streaming_content) if r.streaming else r.content
    return r.status_code, len(body)


EARLY_ROUNDS = 5
DRIFT = 1.5


def interleaved(todo, rounds: int, client_of, profile_for, out: Path | None,
                life: int = 0) -> None:
    """Ask every page once a round, ``rounds`` times, in one process: a served worker asks the
    same statement texts for many users in turn. psycopg prepares a text on its connection on
    its second run (decision 0004) and PostgreSQL may keep a generic plan after five more,
    chosen without the parameters of the user who asks; a page asked alone a few times (the
    per-page mode) never reaches it. Each page's median over the first ``EARLY_ROUNDS``
    rounds is set beside its median over the last half; a page slower late by ``DRIFT`` times,
    or over the target late, is marked.

    ``life``: the connection is closed after every ``life`` pages asked, as a worker's is when
    it outlives a ``CONN_MAX_AGE`` (under 60 s, lead47's, a worker asked a page every 15 s
    reconnected after every fourth); 0 keeps it for the whole run, as the product now does."""
    from django.db import connection

    times: dict[int, list[float]] = {i: [] for i in range(len(todo))}
    asked = 0
    for _ in range(rounds):
        for i, (_group, username, shown) in enumerate(todo):
            if life and asked and asked % life == 0:
                connection.close()  # the next page connects again, its statements unprepared
            asked += 1
            client = client_of(username)
            url, put_back = profile_for(shown)
            try:
                t = time.perf_counter()
                status, _size = fetch(client, url)
                times[i].append((time.perf_counter() - t) * 1000)
            finally:
                put_back()
            if status != 200:
                raise SystemExit(f"{username} {shown}: {status}")
    rows = []
    late_from = max(EARLY_ROUNDS, rounds // 2)
    for i, (group, username, url) in enumerate(todo):
        early = statistics.median(times[i][:EARLY_ROUNDS])
        late = statistics.median(times[i][late_from:] or times[i])
        row = {"group": group, "user": username, "url": url, "early_ms": round(early, 1),
               "late_ms": round(late, 1), "max_ms": round(max(times[i]), 1)}
        rows.append(row)
        flag = (" *" if late > TARGET_MS else "") + (" drift" if late > DRIFT * early else "")
        print(f"{group:9} {username:19} {early:8.1f} {late:8.1f} {row['max_ms']:8.1f}  "
              f"{url}{flag}", flush=True)
    prepared = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*), count(*) FILTER (WHERE generic_plans > 0) "
                           "FROM pg_prepared_statements")
            prepared = cursor.fetchone()
            # what the connection's server process keeps for them (a superuser may read it)
            cursor.execute("SELECT coalesce(sum(total_bytes), 0) FROM pg_backend_memory_contexts "
                           "WHERE name LIKE %s", ["CachedPlan%"])
            prepared += (cursor.fetchone()[0],)
    print(f"# {len(rows)} pages, {rounds} rounds: early = the first {EARLY_ROUNDS}, late = "
          f"rounds {late_from + 1}–{rounds}; over {TARGET_MS:.0f} ms late: "
          f"{sum(r['late_ms'] > TARGET_MS for r in rows)}; slower late by {DRIFT}×: "
          f"{sum(r['late_ms'] > DRIFT * r['early_ms'] for r in rows)}"
          + (f"; statements prepared {prepared[0]}, with a generic plan {prepared[1]}, "
             f"their plans {prepared[2] / 2**20:.1f} MB in the server" if prepared else "")
          + (f"; connection closed every {life} pages" if life else "")
          + f"; load {os.getloadavg()[0]:.2f}")
    if out:
        out.write_text(json.dumps(rows, ensure_ascii=False, indent=1))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=200_000)
    p.add_argument("--engine", choices=["postgres", "sqlite"], default="sqlite")
    p.add_argument("--database", help="another copy of the same data (postgres://… or sqlite:…)")
    p.add_argument("--calls", type=int, default=5)
    p.add_argument("--only", default="",
                   help="groups: county, township, ordinary, city, province, admin, profiles, "
                        "exports")
    p.add_argument("--user", default="", help="only the pages of this user")
    p.add_argument("--match", default="", help="only the URLs containing this text")
    p.add_argument("--json", type=Path, help="also write the rows as JSON")
    p.add_argument("--rounds", type=int, default=0,
                   help="ask the pages (not the files) in this many rounds, each page once a "
                        "round, as one served worker would; compare the first rounds with the "
                        "last (see ``interleaved``)")
    p.add_argument("--life", type=int, default=0,
                   help="with --rounds: close the connection after every this many pages, as "
                        "a short CONN_MAX_AGE closes a served worker's (0: never)")
    args = p.parse_args()
    if args.life < 0 or (args.life and not args.rounds):
        p.error("--life: a number of pages (0 or more), with --rounds")
    if 0 < args.rounds <= EARLY_ROUNDS:
        p.error(f"--rounds: more than {EARLY_ROUNDS} (the first {EARLY_ROUNDS} are the early "
                f"ones the later are set beside)")
    manifest = set_up_on(args.engine, args.cases, args.database)
    from django.db import connection
    from django.db.models import Count
    from django.test import Client

    from bench.workloads import Counter, served_as_a_worker
    from xinfang.cases.models import CasePetitioner
    from xinfang.org.models import Membership, Unit, User

    busy = manifest["busy_county"]
    province = Unit.objects.get(parent=None)
    if not province.profile_code:  # generated before the province had one (bench/datagen/tree)
        Unit.objects.filter(pk=province.pk).update(profile_code=manifest.get(
            "city_profile", "national"))
        print(f"# {province.name} given the national profile, as the generator now gives it")
    for username, role in ADMINS.items():
        user, _ = User.objects.get_or_create(username=username,
                                             defaults={"full_name": username})
        Membership.objects.get_or_create(user=user, unit=province, role=role)
    # the busy county's petitioner with the most cases: the person page's longest list
    person = (CasePetitioner.objects.filter(case__jurisdiction_id=busy["unit"])
              .values("petitioner_id").order_by().annotate(n=Count("id"))
              .order_by("-n").values_list("petitioner_id", flat=True)[0])
    case = busy["long_history"][0]
    groups = set(filter(None, args.only.split(",")))
    ordinary = ordinary_users()
    todo = [row for row in pages(busy, person, case, ordinary)
            if (not groups or row[0] in groups) and args.match in row[2]
            and args.user in ("", row[1])]
    clients: dict[str, Client] = {}

    def client_of(username: str) -> Client:
        if username not in clients:
            clients[username] = Client()
            clients[username].force_login(User.objects.get(username=username))
        return clients[username]

    # What the worker's schedule does every few minutes: a supervision page counts each case
    # changed since the kept figures' last refresh straight from the cases, and a session's
    # benchmark runs (registrations, transitions) change some thousands (lead37: the county
    # inspector's page 308 ms before, 43 after).
    from xinfang.figures.services import figures_refresh

    print(f"# figures refreshed first: {figures_refresh()} cases counted")
    served_as_a_worker()
    own_profile = Unit.objects.get(pk=busy["unit"]).profile_code

    def profile_for(shown: str):
        """Switch the busy county to the profile ``shown`` asks for (``PROFILE_MARK``); the
        URL to ask, and a call that puts the county's own profile back."""
        url, code = profiled(shown)
        if code is None:  # the county's own: nothing to switch (no write per page asked)
            return url, lambda: None
        Unit.objects.filter(pk=busy["unit"]).update(profile_code=code)
        return url, lambda: Unit.objects.filter(pk=busy["unit"]).update(
            profile_code=own_profile)

    if args.rounds:
        interleaved([row for row in todo if row[0] != "exports"], args.rounds, client_of,
                    profile_for, args.json, life=args.life)
        return
    rows = []
    for group, username, shown in todo:
        client = client_of(username)
        url, put_back = profile_for(shown)
        try:
            status, size = fetch(client, url)  # warm: the profile, the calendar, the templates
            counter = Counter()
            with connection.execute_wrapper(counter):
                fetch(client, url)
            times = []
            # a file is timed fewer times: a county's L4 takes seconds
            for _ in range(min(args.calls, EXPORT_CALLS) if group == "exports" else args.calls):
                t = time.perf_counter()
                fetch(client, url)
                times.append((time.perf_counter() - t) * 1000)
        finally:
            put_back()
        url = shown
        row = {"group": group, "user": username, "url": url, "status": status,
               "median_ms": round(statistics.median(times), 1),
               "max_ms": round(max(times), 1), "queries": counter.n, "bytes": size}
        rows.append(row)
        flag = " *" if group != "exports" and row["median_ms"] > TARGET_MS else ""
        what = f" ({size:,} bytes)" if group == "exports" else ""
        print(f"{group:9} {username:19} {status:4} {row['median_ms']:8.1f} {row['max_ms']:8.1f} "
              f"{counter.n:4}  {url}{what}{flag}", flush=True)
    pages_only = [r for r in rows if r["group"] != "exports"]
    print(f"# {len(pages_only)} pages; over {TARGET_MS:.0f} ms: "
          f"{sum(r['median_ms'] > TARGET_MS for r in pages_only)}; "
          f"{len(rows) - len(pages_only)} files; load {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
