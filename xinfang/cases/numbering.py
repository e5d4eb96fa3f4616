"""Case numbers: per jurisdiction and year, gap-free, unique under concurrent registration.

The sequence row is incremented with a single UPDATE inside the registering transaction. On
PostgreSQL the UPDATE holds the row lock until commit, so a concurrent registration waits and then
sees the incremented value; on SQLite the IMMEDIATE transaction mode (settings.base) serialises
writers outright. A registration that rolls back rolls its increment back too: no gaps.
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass

from django.db import IntegrityError, transaction

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
    seq = _take(jurisdiction.pk, year)
    if seq is None:
        try:
            with transaction.atomic():  # savepoint: a concurrent creator may win the insert
                CaseNumberSequence.objects.create(jurisdiction=jurisdiction, year=year, last=1)
            seq = 1
        except IntegrityError:
            seq = _take(jurisdiction.pk, year)
    prefix = jurisdiction.short_name or jurisdiction.name
    return seq, pattern.format(prefix=prefix, year=year, seq=seq)


def _take(jurisdiction_id: int, year: int) -> int | None:
    """Increment the sequence row and read the number it now holds, in one statement (UPDATE …
    RETURNING, on PostgreSQL and SQLite ≥ 3.35): the row stays locked by the UPDATE until the
    registering transaction ends. None when the row does not exist yet."""
    table = CaseNumberSequence._meta.db_table
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(f'UPDATE "{table}" SET "last" = "last" + 1 WHERE "jurisdiction_id" = %s '
                       'AND "year" = %s RETURNING "last"', [jurisdiction_id, year])
        row = cursor.fetchone()
    return row[0] if row else None


# Reading a number as people type it ---------------------------------------------------------
#
# The acceptance notice prints 建安信〔2026〕0032号, but a petitioner at the service-hall
# terminal or a clerk typing from a photocopy writes [2026], (2026), （2026）, drops 号 or the
# zeros, or gives the serial alone. A number is read as (prefix, year, serial) and compared on
# those, never on brackets.

_BRACKETS = str.maketrans("", "", "[]()〔〕【】［］（）{}<>《》〈〉「」")
_SPELLING = re.compile(r"^(?P<prefix>\D*?)(?P<year>(?:19|20)\d\d)\D*?(?P<seq>\d{1,6})$")
_SERIAL_ALONE = re.compile(r"^(?P<seq>\d{1,6})$")


@dataclass(frozen=True)
class NumberSpelling:
    prefix: str | None  # None: not typed (the serial alone, or the year and serial only)
    year: int | None  # None: the serial alone, read in the current year
    seq: int


def read_number(text: str) -> NumberSpelling | None:
    """The parts of a typed case number, or None when it cannot be one."""
    plain = unicodedata.normalize("NFKC", text or "")
    plain = "".join(plain.split()).rstrip("号")
    if m := _SERIAL_ALONE.match(plain):  # the serial alone: digits only, no bracketed year
        return NumberSpelling(prefix=None, year=None, seq=int(m["seq"]))
    plain = plain.translate(_BRACKETS).replace("-", "")
    if m := _SPELLING.match(plain):
        return NumberSpelling(prefix=m["prefix"] or None, year=int(m["year"]), seq=int(m["seq"]))
    return None


def cases_numbered(text: str, *, scope=None, year: int | None = None):
    """The cases whose number is a spelling of ``text``: the exact number first, else every case
    whose (prefix, year, serial) matches — the serial alone in ``year`` (default: this year).

    ``scope`` is a Case queryset to search in (the permission door's, or one jurisdiction's);
    the answer is a list, usually of one. Uses the (jurisdiction, year, seq) unique index.
    """
    from django.utils import timezone

    from .models import Case

    scope = Case.objects.all() if scope is None else scope
    text = (text or "").strip()
    if not text:
        return []
    exact = list(scope.filter(number=text)[:2])
    if exact:
        return exact
    spelt = read_number(text)
    if spelt is None:
        return []
    in_year = spelt.year or year or timezone.localdate().year
    offices = CaseNumberSequence.objects.filter(year=in_year, last__gte=spelt.seq).values(
        "jurisdiction"
    )
    found = list(scope.filter(jurisdiction__in=offices, year=in_year, seq=spelt.seq)[:50])
    if spelt.prefix is not None:
        found = [case for case in found if _prefix_of(case.number) == spelt.prefix]
    return found


def _prefix_of(number: str) -> str | None:
    spelt = read_number(number)
    return spelt.prefix if spelt else None
