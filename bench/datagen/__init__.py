"""The data generator behind ``bench/generate.py``: ``fill`` loads a province into a migrated
database (the tree, its users, and the cases with everything they carry)."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Filled:
    tree: object
    generator: object
    loader: object
    timings: dict[str, float] = field(default_factory=dict)


def fill(*, alias: str = "default", cases: int, seed: int, now: datetime, counties: int = 150,
         townships: int = 16, years: float = 4.0, busy_share: float = 0.1,
         people_ratio: float = 0.6, max_people: int = 200_000, analyze: bool = True,
         trail_days: float = 365.0) -> Filled:
    from django.contrib.auth.hashers import make_password

    from xinfang.cases.models import CaseNumberSequence
    from xinfang.cases.services.due import cases_refresh_due
    from xinfang.org.models import Membership, Unit, User
    from xinfang.rules.store import current_version, profile_of
    from xinfang.security.crypto import get_keyring

    from .cases import CaseGenerator, open_tables
    from .trail import Trail
    from .tree import build_tree
    from .writer import Loader

    version = current_version("jianan")
    current_version("national")
    profile = profile_of(version)
    rng = random.Random(seed)
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    loader = Loader(alias)
    tree = build_tree(rng, counties=counties, townships=townships)
    units = loader.table(Unit, ("id", "name", "short_name", "level", "kind", "parent_id", "path",
                                "profile_code"))
    for row in tree.units:
        units.add(*row)
    password = make_password("Xinfang#2026bench")
    users = loader.table(User, ("id", "username", "full_name", "password"))
    for pk, username, full_name in tree.users:
        users.add(pk, username, full_name, password)
    members = loader.table(Membership, ("id", "user_id", "unit_id", "role"))
    for row in tree.memberships:
        members.add(*row)
    timings["tree_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    # its own generator: the cases come out the same with or without a trail
    trail = Trail(rng=random.Random(seed + 1), tree=tree, now=now, days=trail_days,
                  activity=min(1.0, max(cases / 1_000_000, 0.01))) if trail_days > 0 else None
    gen = CaseGenerator(
        rng=rng, tree=tree, profile=profile, profile_id=version.pk, profile_code=version.code,
        profile_version=version.version, tables=open_tables(loader), ring=get_keyring(),
        now=now, cases=cases, years=years, busy_share=busy_share, people_ratio=people_ratio,
        max_people=max_people, trail=trail)
    stats = gen.run()
    sequences = loader.table(CaseNumberSequence, ("id", "jurisdiction_id", "year", "last"))
    for i, ((unit, year), last) in enumerate(sorted(gen.sequences.items()), start=1):
        sequences.add(i, unit, year, last)
    for t in loader.tables:
        t.flush()
    timings["cases_s"] = time.perf_counter() - t0
    if trail is not None:
        t0 = time.perf_counter()
        trail_written(loader, trail, alias)
        timings["trail_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    # Clocks written by COPY bypass the clock engine: the cases' next due instant (what the lists
    # sort and filter on) is computed in one pass, as `xinfang db refresh-due` does.
    cases_refresh_due(using=alias)
    timings["refresh_due_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    loader.finish(analyze=analyze)
    timings["finish_analyze_s"] = time.perf_counter() - t0
    timings["encrypt_s"] = stats.encrypt_seconds
    timings["database_write_s"] = loader.seconds_writing
    return Filled(tree, gen, loader, timings)


def trail_written(loader, trail, alias: str) -> int:
    """Writes the generated trail after whatever the migrations appended (ids after theirs,
    chained onto their head)."""
    from django.db import connections

    from xinfang.audit.services import GENESIS
    from xinfang.security.crypto import get_keyring

    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT id, hash FROM audit_auditentry ORDER BY id DESC LIMIT 1")
        head = cursor.fetchone()
    return trail.write(loader, get_keyring(), first_id=(head[0] + 1) if head else 1,
                       prev_hash=head[1] if head else GENESIS)
