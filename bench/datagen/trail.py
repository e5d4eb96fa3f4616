"""The audit trail of the generated province's last year, as the product writes it.

Every case page opened appends a read entry (``cases.services.reading``), so a served province's
trail is mostly reads: here each step of a case's history inside the window is read by the one
who took it a few minutes before, and now and then by the county's inspector. Around them: each
user signs in on most working days (some sign out, a few mistype their password), each county's
clerk exports the last ninety days' ledger every Monday and the weekly report's cases, and the
busy county's clerk exports the whole ledger on each month's first working day (one hundred
thousand case numbers at 1M cases: the entries the trail's list reads a brief of); a few reads
go on to reveal a petitioner or download an attachment.

The entries are chained and sealed as ``audit_record`` seals them (HMAC-SM3 under the bench key
file's MAC key, a brief of a long list), so ``xinfang audit verify`` passes over the generated
trail, and are written in time order, ids rising with time.
"""

from __future__ import annotations

import random
from bisect import bisect_left
from datetime import UTC, datetime, timedelta

from xinfang.audit import services as audit
from xinfang.audit.models import AuditEntry

from .tree import Tree
from .writer import Loader

FIELDS = ("id", "at", "actor_id", "actor_name", "action", "object_type", "object_id", "detail",
          "ip", "prev_hash", "hash", "mac_key_id", "brief")
# What an entry is, while the year is gathered and sorted: (time, kind, user, what)
READ, LOGIN, LOGOUT, FAILED, EXPORT_L0, EXPORT_FULL, EXPORT_WEEKLY, REVEAL, DOWNLOAD = range(9)
EXPORT_DAYS = 90  # the Monday export's span of received cases


class Trail:
    """Gathers the year's entries as the case generator goes (``case``), then writes them
    (``write``)."""

    def __init__(self, *, rng: random.Random, tree: Tree, now: datetime, days: float,
                 activity: float = 1.0):
        self.rng, self.tree, self.now = rng, tree, now
        # the share of a province's working days its users sign in on: the tree is a
        # province's at every size, its users' days scale with the cases (1M: every user
        # signs in on 60 % of working days)
        self.sign_in = 0.6 * activity
        self.start = now - timedelta(days=days)
        self.start_ts, self.now_ts = self.start.timestamp(), now.timestamp()
        self.entries: list[tuple[float, int, int, int]] = []
        self.numbers: list[str] = []  # a case's slot -> its number
        # per county: the received time and number of each case, in the order they arrive (the
        # generator's order) — the busy county's all, the others' from ninety days before the
        # window (what their Monday exports list)
        self.received: dict[int, list[float]] = {}
        self.received_numbers: dict[int, list[str]] = {}
        self.keep_from = self.start_ts - EXPORT_DAYS * 86400
        self.inspector = {k.index: k.users["inspector"] for k in tree.counties}

    def case(self, *, pk: int, number: str, county: int, received: datetime,
             steps: list[tuple[int, datetime]]) -> None:
        """One generated case: ``steps`` are its history's (user, time) pairs."""
        received_ts = received.timestamp()
        if county == 0 or received_ts >= self.keep_from:
            self.received.setdefault(county, []).append(received_ts)
            self.received_numbers.setdefault(county, []).append(number)
        if max((when for _user, when in steps), default=received).timestamp() < self.start_ts:
            return
        slot = len(self.numbers)
        self.numbers.append(f"{pk}\t{number}")
        rng, out = self.rng, self.entries
        for user, when in steps:
            ts = when.timestamp() - rng.uniform(60, 1800)
            if ts >= self.start_ts:
                out.append((ts, READ, user, slot))
                roll = rng.random()
                if roll < 0.01:
                    out.append((ts + 30, REVEAL, user, slot))
                elif roll < 0.03:
                    out.append((ts + 60, DOWNLOAD, user, slot))
        if rng.random() < 0.15:
            ts = rng.uniform(max(received_ts, self.start_ts), self.now_ts)
            out.append((ts, READ, self.inspector[county], slot))

    def _days(self):
        day = self.start.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        while day < self.now:
            if day.weekday() < 5:
                yield day
            day += timedelta(days=1)

    def _office_hours(self) -> None:
        rng, out = self.rng, self.entries
        clerks = {k.users["clerk"]: k.index for k in self.tree.counties}
        first_of_month = set()
        seen_months = set()
        for day in self._days():
            base = day.timestamp() - 8 * 3600  # 00:00 in Beijing, as UTC seconds
            if (day.year, day.month) not in seen_months:
                seen_months.add((day.year, day.month))
                first_of_month.add(day)
            for user, *_rest in self.tree.users:
                if rng.random() < self.sign_in:
                    ts = base + rng.uniform(7.8, 9.5) * 3600
                    if rng.random() < 0.02:
                        out.append((ts - 40, FAILED, user, 0))
                    out.append((ts, LOGIN, user, 0))
                    if rng.random() < 0.3:
                        out.append((base + rng.uniform(17, 18.5) * 3600, LOGOUT, user, 0))
            for clerk, county in clerks.items():
                if day.weekday() == 0:
                    out.append((base + 10 * 3600 + rng.uniform(0, 1800), EXPORT_L0, clerk, county))
                    out.append((base + 11 * 3600 + rng.uniform(0, 1800), EXPORT_WEEKLY, clerk,
                                county))
            if day in first_of_month:
                busy_clerk = self.tree.counties[0].users["clerk"]
                out.append((base + 15 * 3600, EXPORT_FULL, busy_clerk, 0))

    def write(self, loader: Loader, ring, *, first_id: int, prev_hash: str) -> int:
        """Sort the year's entries and write them chained onto ``prev_hash``, ids from
        ``first_id``; returns how many."""
        self._office_hours()
        self.entries.sort()
        # today's office hours run past now (a sign-in at 09:30 read at 08:32): not yet
        while self.entries and self.entries[-1][0] >= self.now_ts:
            self.entries.pop()
        table = loader.table(AuditEntry, FIELDS)
        people = self._people()
        key_id = ring.current_mac_key_id
        pk = first_id - 1
        for ts, kind, user, what in self.entries:
            pk += 1
            at = datetime.fromtimestamp(int(ts), UTC)
            name, role, unit, ip = people[user]
            action, object_type, object_id, detail = self._entry(kind, what, ts, role, unit)
            fields = dict(at=at, actor_id=user, actor_name=name, action=action,
                          object_type=object_type, object_id=object_id, detail=detail, ip=ip)
            _key, mac = audit.entry_mac(key_id=key_id, prev_hash=prev_hash, **fields)
            table.add(pk, at, user, name, action, object_type, object_id, detail,
                      ip, prev_hash, mac, key_id, audit.brief_of(detail))
            prev_hash = mac
        table.flush()
        return pk - first_id + 1

    def _people(self) -> dict[int, tuple[str, str, str, str]]:
        units = {row[0]: row[1] for row in self.tree.units}
        member = {user: (role, units[unit]) for _id, user, unit, role in self.tree.memberships}
        return {pk: (full_name or username, *member[pk], f"10.{16 + pk % 200}.{pk % 250}.7")
                for pk, username, full_name in self.tree.users}

    def _entry(self, kind, what, ts, role, unit):
        if kind in (READ, REVEAL, DOWNLOAD):
            case_id, number = self.numbers[what].split("\t")
            if kind == READ:
                channel = "api" if self.rng.random() < 0.05 else "web"
                return (audit.READ, "case", case_id,
                        {"case": number, "channel": channel, "role": role, "unit": unit})
            if kind == REVEAL:
                return (audit.REVEAL, "petitioner", str(self.rng.randint(1, 200_000)),
                        {"case": number, "reason": "核实信访人身份后电话联系", "role": role,
                         "unit": unit})
            return (audit.DOWNLOAD, "attachment", str(self.rng.randint(1, 500_000)),
                    {"case": int(case_id), "name": "调查笔录.pdf", "sha256": f"{int(ts):064x}"})
        if kind == LOGIN:
            return audit.LOGIN, "", "", {}
        if kind == LOGOUT:
            return audit.LOGOUT, "", "", {}
        if kind == FAILED:
            return audit.LOGIN_FAILED, "", "", {"reason": "password", "failures": 1}
        times, numbers = self.received.get(what, []), self.received_numbers.get(what, [])
        until = bisect_left(times, ts)
        if kind == EXPORT_FULL:
            keys = numbers[:until]
            filters: dict = {}
        else:
            days = 7 if kind == EXPORT_WEEKLY else EXPORT_DAYS
            keys = numbers[bisect_left(times, ts - days * 86400):until]
            filters = {"received_from": datetime.fromtimestamp(ts - days * 86400, UTC)
                       .date().isoformat()}
        if kind == EXPORT_WEEKLY:
            return (audit.EXPORT, "report", "weekly",
                    {"report": "weekly", "via": "web", "role": role, "unit": unit,
                     "rows": len(keys), "cases": keys})
        return (audit.EXPORT, "ledger", "L0",
                {"ledger": "L0", "via": "web", "role": role, "unit": unit, "rows": len(keys),
                 "revealed_rows": 0, "unmasked": False, "reason": "", "filters": filters,
                 "cases": keys})
