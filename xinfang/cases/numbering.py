"""Case numbers: per jurisdiction and year, gap-free, unique under concurrent registration.

The sequence row is incremented with a single UPDATE inside the registering transaction. On
PostgreSQL the UPDATE holds the row lock until commit, so a concurrent registration waits and then
sees the incremented value; on SQLite the IMMEDIATE transaction mode (settings.base) serialises
writers outright. A registration that rolls back rolls its increment back too: no gaps.
"""

from __future__ import annotations

import string

from django.db import IntegrityError, transaction
from django.db.models import F

from xinfang.org.models import Unit

from .models import CaseNumberSequence

ALLOWED_FIELDS = {"prefix", "year", "seq"}


def validate_pattern(pattern: str) -> None:
    for _literal, field, spec, conversion in string.Formatter().parse(pattern):
        if field is None:
            continue
        if field not in ALLOWED_FIELDS or conversion:
            raise ValueError(f"编号格式只能使用 {{prefix}}、{{year}}、{{seq}}：{pattern}")
        if spec and not all(ch.isdigit() or ch in "<>^=0d" for ch in spec):
            raise ValueError(f"编号格式的宽度写法无效：{spec}")


def next_number(*, jurisdiction: Unit, year: int, pattern: str) -> tuple[int, str]:
    """Take the next number; must run inside the transaction that saves the case."""
    validate_pattern(pattern)
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_number must run inside the registering transaction")
    updated = CaseNumberSequence.objects.filter(jurisdiction=jurisdiction, year=year).update(
        last=F("last") + 1
    )
    if not updated:
        try:
            with transaction.atomic():  # savepoint: a concurrent creator may win the insert
                CaseNumberSequence.objects.create(jurisdiction=jurisdiction, year=year, last=1)
        except IntegrityError:
            CaseNumberSequence.objects.filter(jurisdiction=jurisdiction, year=year).update(
                last=F("last") + 1
            )
    seq = CaseNumberSequence.objects.get(jurisdiction=jurisdiction, year=year).last
    prefix = jurisdiction.short_name or jurisdiction.name
    return seq, pattern.format(prefix=prefix, year=year, seq=seq)
