"""Repeat-petition matching at scale (issue 14): a synthetic population with known true links,
loaded in bulk, then precision, recall and lookup latency of ``find_matches``.

    .venv/bin/python bench/match_bench.py generate --cases 200000 --engine postgres
    .venv/bin/python bench/match_bench.py run --cases 200000 --engine postgres --queries 1000
    (1,000,000 cases: --cases 1000000; SQLite: --engine sqlite)

``generate`` re-creates the database (PostgreSQL ``bench_match_<cases>``, SQLite
``var/bench/match-<cases>.sqlite3``), migrates it, loads the province's unit tree (bench/datagen)
and, county by county, people, matters and visits (``bench/matching/population.py``) as cases,
demands, people (encrypted as the product stores them, with their blind indexes and fuzzy-name
keys) and links — through COPY on PostgreSQL. The busy county (10% of the cases) keeps back a
set of visits as the queries: the latest visit of matters seen before (true repeats: the earlier
cases are known) and first visits of new matters (of known people and of new ones).

``run`` asks ``find_matches`` (the product's own, through the county clerk's permission door)
for each query, as of its received instant, and reports:

- precision: of the candidates flagged ``same: matter``, the share truly of the same matter;
- recall: of the true repeats, the share with a true earlier case among the top three flagged
  ``same: matter`` (``recall_any``: among the top three whatever the flag);
- auto-link precision/recall at the profile's ``matching.confirm_at`` (what registration links
  without the clerk);
- latency of one lookup, p50/p95/max in milliseconds (wall), and this process's CPU time per
  lookup (on a shared machine the wall time mostly measures waiting for a core).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from array import array
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DIR = Path(os.environ.get("XINFANG_BENCH_DIR", ROOT / "var" / "bench"))
PG_SERVER = os.environ.get("XINFANG_BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def database_url(engine: str, cases: int, db_name: str | None) -> str:
    if engine == "postgres":
        return f"{PG_SERVER}/{db_name or f'bench_match_{cases}'}"
    return f"sqlite:{BENCH_DIR / f'match-{cases}.sqlite3'}"


def truth_path(engine: str, cases: int) -> Path:
    return BENCH_DIR / f"match-truth-{engine}-{cases}.json"


def setup(engine: str, cases: int, db_name: str | None) -> None:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    os.environ["XINFANG_BENCH_DB"] = database_url(engine, cases, db_name)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()


def recreate(engine: str, cases: int, db_name: str | None) -> None:
    if engine == "postgres":
        name = db_name or f"bench_match_{cases}"
        if name in ("test", "postgres", "template0", "template1"):
            raise SystemExit(f"refusing to drop {name!r}")
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{BENCH_DIR / f'match-{cases}.sqlite3'}{suffix}").unlink(missing_ok=True)


def generate(args) -> dict:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    recreate(args.engine, args.cases, args.db_name)
    setup(args.engine, args.cases, args.db_name)
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    from bench.datagen.tree import build_tree
    from bench.datagen.writer import Loader
    from bench.matching.population import Population
    from xinfang.cases.models import Case, CaseNumberSequence, CasePetitioner, Demand, Petitioner
    from xinfang.matching.keys import person_keys
    from xinfang.matching.models import PersonKey
    from xinfang.org.models import Membership, Unit, User
    from xinfang.rules.store import current_version, profile_of
    from xinfang.security.crypto import get_keyring
    from xinfang.security.idcard import normalise_phone
    from xinfang.security.names import petitioner_name_columns

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    version = current_version("jianan")
    current_version("national")
    profile = profile_of(version)
    timings["migrate_s"] = time.perf_counter() - t0
    rng = random.Random(args.seed)
    ring = get_keyring()
    loader = Loader("default")
    tree = build_tree(rng, counties=args.counties, townships=args.townships)
    units = loader.table(Unit, ("id", "name", "short_name", "level", "kind", "parent_id", "path",
                                "profile_code"))
    for row in tree.units:
        units.add(*row)
    users = loader.table(User, ("id", "username", "full_name", "password"))
    password = make_password("Xinfang#2026bench")
    for pk, username, full_name in tree.users:
        users.add(pk, username, full_name, password)
    members = loader.table(Membership, ("id", "user_id", "unit_id", "role"))
    for row in tree.memberships:
        members.add(*row)
    cases_t = loader.table(Case, (
        "id", "number", "jurisdiction_id", "year", "seq", "profile_id", "state", "kind",
        "channel", "matter_type", "received_at", "registered_at", "registered_by_id", "matter",
        "township_id", "village_id", "repeat_count", "repeat_of_id", "matter_root_id",
        "query_code"))
    demands_t = loader.table(Demand, ("id", "case_id", "seq", "text", "category"))
    people_t = loader.table(Petitioner, (
        "id", "name", "name_index", "name_pinyin_index", "id_number", "id_number_index", "phone",
        "phone_index", "township_id", "village_id", "created_at"))
    links_t = loader.table(CasePetitioner, ("id", "case_id", "petitioner_id", "role"))
    keys_t = loader.table(PersonKey, ("id", "petitioner_id", "key"))
    counters = {"case": 0, "person": 0, "key": 0, "matter": 0}
    sequences: dict[tuple[int, int], int] = {}
    case_matter = array("i")
    end = time.time() - 86400
    start = end - 86400 * 365 * args.years
    now = datetime.now(UTC)
    queries: list[dict] = []
    encrypt_s = 0.0

    def store_person(identity, township, village) -> int:
        nonlocal encrypt_s
        e0 = time.perf_counter()
        counters["person"] += 1
        pk = counters["person"]
        name = petitioner_name_columns(identity.name, ring=ring)
        phone = normalise_phone(identity.phone) if identity.phone else ""
        people_t.add(pk, name["name"], name["name_index"], name["name_pinyin_index"],
                     ring.encrypt(identity.id_number) if identity.id_number else "",
                     ring.blind_index(identity.id_number, purpose="id_number")
                     if identity.id_number else "",
                     ring.encrypt(phone) if phone else "",
                     ring.blind_index(phone, purpose="phone") if phone else "",
                     township, village, now)
        for key in person_keys(identity.name, township, ring=ring):
            counters["key"] += 1
            keys_t.add(counters["key"], pk, key)
        encrypt_s += time.perf_counter() - e0
        return pk

    busy_share = args.busy_share
    share = [busy_share] + [(1 - busy_share) / (len(tree.counties) - 1)] * (
        len(tree.counties) - 1)
    t0 = time.perf_counter()
    for county, part in zip(tree.counties, share, strict=True):
        n = max(1, round(args.cases * part))
        busy = county is tree.counties[0]
        pop = Population(rng, villages=county.villages, visits=n + (args.queries if busy else 0),
                         start=start, end=end, serial=counters["person"] * 7 + 1)
        held: set[int] = set()
        if busy:
            held = pick_queries(rng, pop, args.queries)
        records: dict[int, int] = {}  # person number -> stored record
        # matter -> (its last case id, visits so far, its first case id)
        last_case: dict[int, tuple[int, int, int]] = {}
        matter_ids: dict[int, int] = {}
        clerk = county.users["clerk"]
        for visit in pop.visits:
            m = visit.matter
            if id(m) not in matter_ids:
                counters["matter"] += 1
                matter_ids[id(m)] = counters["matter"]
            mid = matter_ids[id(m)]
            if id(visit) in held:
                queries.append(query_of(visit, mid, last_case.get(id(m)), county))
                continue
            person = m.person
            if person.pk not in records:
                records[person.pk] = store_person(person.identity, person.township,
                                                  person.village)
            petitioner = records[person.pk]
            if rng.random() < args.duplicate_share:
                petitioner = store_person(visit.identity, person.township, person.village)
            counters["case"] += 1
            pk = counters["case"]
            received = datetime.fromtimestamp(visit.received_at, UTC)
            year = received.year
            seq = sequences[(county.unit, year)] = sequences.get((county.unit, year), 0) + 1
            earlier = last_case.get(id(m))
            cases_t.add(pk, profile.case_number_pattern.format(
                prefix=county.short_name, year=year, seq=seq), county.unit, year, seq,
                version.pk, "closed", "petition", "visit", "request", received, received,
                clerk, visit.matter_text, person.township, person.village,
                earlier[1] if earlier else 0, earlier[0] if earlier else None,
                earlier[2] if earlier else None, f"Q{pk:07d}")
            demands_t.add(pk, pk, 1, visit.demand_text, m.category)
            links_t.add(pk, pk, petitioner, "main")
            last_case[id(m)] = (pk, (earlier[1] + 1) if earlier else 1,
                                earlier[2] if earlier else pk)  # the matter's first visit
            while len(case_matter) <= pk:
                case_matter.append(0)
            case_matter[pk] = mid
            visit.case_id = pk
        # the earlier cases of each query's matter, now known
        if busy:
            by_matter: dict[int, list[int]] = {}
            for v in pop.visits:
                if v.case_id:
                    by_matter.setdefault(matter_ids[id(v.matter)], []).append(v.case_id)
            for q in queries:
                q["earlier"] = [c for c in by_matter.get(q["matter_id"], [])]
                q["is_repeat"] = bool(q["earlier"])
    seqs = loader.table(CaseNumberSequence, ("id", "jurisdiction_id", "year", "last"))
    for i, ((unit, year), last) in enumerate(sorted(sequences.items()), start=1):
        seqs.add(i, unit, year, last)
    for t in loader.tables:
        t.flush()
    timings["load_s"] = time.perf_counter() - t0
    timings["encrypt_s"] = encrypt_s
    t0 = time.perf_counter()
    loader.finish(analyze=True)
    timings["index_analyze_s"] = time.perf_counter() - t0
    busy = tree.counties[0]
    truth = {
        "engine": args.engine, "cases": counters["case"], "people": counters["person"],
        "keys": counters["key"], "matters": counters["matter"],
        "clerk_user": busy.users["clerk"], "county": busy.unit, "queries": queries,
        "timings": {k: round(v, 1) for k, v in timings.items()},
    }
    truth_path(args.engine, args.cases).write_text(json.dumps(truth, ensure_ascii=False))
    (BENCH_DIR / f"match-casematter-{args.engine}-{args.cases}.bin").write_bytes(
        case_matter.tobytes())
    summary = {k: truth[k] for k in ("engine", "cases", "people", "keys", "matters", "timings")}
    summary["queries"] = len(queries)
    print(json.dumps(summary, ensure_ascii=False))
    return summary


def pick_queries(rng: random.Random, pop, count: int) -> set[int]:
    """Half the latest visits of matters with earlier visits, half first visits of matters never
    seen again (so nothing later leaks into the data). Returns the visits' identities."""
    by_matter: dict[int, list] = {}
    for v in pop.visits:
        by_matter.setdefault(id(v.matter), []).append(v)
    repeats = [vs[-1] for vs in by_matter.values() if len(vs) >= 2]
    firsts = [vs[0] for vs in by_matter.values() if len(vs) == 1]
    rng.shuffle(repeats)
    rng.shuffle(firsts)
    half = count // 2
    return {id(v) for v in repeats[:half] + firsts[: count - half]}


def query_of(visit, matter_id: int, earlier, county) -> dict:
    person = visit.matter.person
    return {
        "name": visit.identity.name, "id_number": visit.identity.id_number,
        "phone": visit.identity.phone,
        "township": person.township if visit.township_typed else None,
        "village": person.village, "matter": visit.matter_text, "demand": visit.demand_text,
        "category": visit.matter.category, "received_at": visit.received_at,
        "matter_id": matter_id,
    }


def run(args) -> dict:
    setup(args.engine, args.cases, args.db_name)
    from django.db import connection

    from xinfang.matching.selectors import MatchQuery, find_matches
    from xinfang.org.models import Membership, Unit
    from xinfang.rules.store import current_version, profile_of

    truth = json.loads(truth_path(args.engine, args.cases).read_text())
    case_matter = array("i")
    case_matter.frombytes(
        (BENCH_DIR / f"match-casematter-{args.engine}-{args.cases}.bin").read_bytes())
    clerk = Membership.objects.select_related("unit", "user").get(user_id=truth["clerk_user"])
    threshold = profile_of(current_version("jianan")).matching.confirm_at
    units: dict[int, Unit] = {}

    def unit(pk):
        if pk is None:
            return None
        if pk not in units:
            units[pk] = Unit.objects.get(pk=pk)
        return units[pk]

    queries = truth["queries"][: args.queries]
    for q in queries[:20]:  # warm the caches (profile, calendar, key ring, pinyin)
        find_matches(by=clerk, query=_query(MatchQuery, q, unit), before=_at(q))
    times: list[float] = []
    cpu: list[float] = []
    flagged = right = repeats = found = found_any = 0
    auto = auto_right = 0
    for q in queries:
        mq = _query(MatchQuery, q, unit)
        t0, c0 = time.perf_counter(), time.process_time()
        got = find_matches(by=clerk, query=mq, before=_at(q))
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        same = [x for x in got if x.same == "matter"]
        flagged += len(same)
        right += sum(1 for x in same if case_matter[x.case.pk] == q["matter_id"])
        linked = next((x for x in same if x.petitioner_id and x.score >= threshold), None)
        if linked is not None:
            auto += 1
            auto_right += case_matter[linked.case.pk] == q["matter_id"]
        if q["is_repeat"]:
            repeats += 1
            earlier = set(q["earlier"])
            found += any(x.case.pk in earlier for x in same)
            found_any += any(x.case.pk in earlier for x in got)
    # The raw baseline: the old rule's one lookup — the cases of the same ID number in the
    # jurisdiction (blind index, one indexed statement), for the queries that typed one.
    from xinfang.cases.models import Case
    from xinfang.security.crypto import get_keyring
    from xinfang.security.idcard import validate_id_number

    ring = get_keyring()
    raw: list[float] = []
    for q in queries:
        if not q["id_number"]:
            continue
        t0 = time.perf_counter()
        index = ring.blind_index(validate_id_number(q["id_number"]), purpose="id_number")
        list(Case.objects.filter(jurisdiction_id=truth["county"],
                                 petitioner_links__petitioner__id_number_index=index)
             .values_list("pk", flat=True)[:50])
        raw.append((time.perf_counter() - t0) * 1000)
    times.sort()
    cpu.sort()
    raw.sort()
    result = {
        "engine": args.engine, "vendor": connection.vendor, "cases": truth["cases"],
        "people": truth["people"], "queries": len(queries), "repeats": repeats,
        "precision": round(right / flagged, 4) if flagged else None, "flagged": flagged,
        "recall": round(found / repeats, 4) if repeats else None,
        "recall_any": round(found_any / repeats, 4) if repeats else None,
        "auto_linked": auto, "auto_precision": round(auto_right / auto, 4) if auto else None,
        "auto_recall": round(auto_right / repeats, 4) if repeats else None,
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
        "max_ms": round(times[-1], 2),
        # This process's CPU time per lookup (the machine is shared: wall time waits for cores)
        "cpu_p50_ms": round(statistics.median(cpu), 2),
        "cpu_p95_ms": round(cpu[int(len(cpu) * 0.95) - 1], 2),
        "raw_p50_ms": round(statistics.median(raw), 2) if raw else None,
        "raw_p95_ms": round(raw[int(len(raw) * 0.95) - 1], 2) if raw else None,
        "load_average": os.getloadavg()[0],
    }
    print(json.dumps(result, ensure_ascii=False))
    return result


def _at(q) -> datetime:
    return datetime.fromtimestamp(q["received_at"], UTC)


def _query(MatchQuery, q, unit):
    return MatchQuery(name=q["name"], id_number=q["id_number"], phone=q["phone"],
                      township=unit(q["township"]), village=unit(q["village"]),
                      matter=q["matter"], demands=[q["demand"]], categories=[q["category"]],
                      received_at=_at(q))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=["generate", "run"])
    p.add_argument("--cases", type=int, default=200_000)
    p.add_argument("--engine", choices=["postgres", "sqlite"], default="postgres")
    p.add_argument("--db-name")
    p.add_argument("--seed", type=int, default=20261201)
    p.add_argument("--counties", type=int, default=150)
    p.add_argument("--townships", type=int, default=16)
    p.add_argument("--years", type=float, default=6.0)
    p.add_argument("--busy-share", type=float, default=0.1)
    p.add_argument("--duplicate-share", type=float, default=0.15,
                   help="visits stored under a new person record (an earlier missed link)")
    p.add_argument("--queries", type=int, default=1000)
    args = p.parse_args(argv)
    return generate(args) if args.what == "generate" else run(args)


if __name__ == "__main__":
    main()
