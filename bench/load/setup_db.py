"""Prepare the load test's PostgreSQL database (run by ``bench.load.run --setup`` in a child
process under the production settings): migrate, install the profiles, load the demo
jurisdiction and cases, and add the simulated users — ``load_<role>_<n>`` in the demo's units,
one account per simulated user (a user may hold at most three sessions, so users are not shared).

Prints the users as JSON on stdout: ``[{"username": …, "role": …}, …]``."""

from __future__ import annotations

import io
import json
import sys

ROLES = ("clerk", "approver", "handler", "inspector")


def mix(users: int) -> dict[str, int]:
    """50 → 20 clerks, 10 approvers, 15 township handlers, 5 inspectors."""
    clerks = round(users * 0.4)
    approvers = round(users * 0.2)
    inspectors = round(users * 0.1)
    return {"clerk": clerks, "approver": approvers, "inspector": inspectors,
            "handler": users - clerks - approvers - inspectors}


def main(users: int, password: str) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from xinfang.demo.org import _member, build_jurisdiction
    from xinfang.org.choices import Role

    quiet = io.StringIO()  # stdout carries the JSON answer only
    call_command("migrate", interactive=False, verbosity=0, stdout=quiet)
    call_command("profile", "sync", verbosity=0, stdout=quiet)
    call_command("load_demo", verbosity=0, stdout=quiet)
    j = build_jurisdiction(profile_code="jianan")
    where = {
        "clerk": (j.office, Role.CLERK),
        "approver": (j.office, Role.APPROVER),
        "inspector": (j.office, Role.INSPECTOR),
        "handler": (j.townships["将官池镇"], Role.UNIT_HANDLER),
    }
    out = []
    for role, n in mix(users).items():
        unit, code = where[role]
        for i in range(n):
            m = _member(f"load_{role}_{i:02d}", f"压测{role}{i:02d}", unit, code, password)
            out.append({"username": m.user.username, "role": role, "index": i, "of": n})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
