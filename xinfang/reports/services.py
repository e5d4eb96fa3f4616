"""``report_build`` — the one way a periodic report is made, from the page, the API and the
command line: the period checked against the report's kind, the writer run over what ``by`` may
see, and the report audited (``export``, object ``report``) with the period and the case numbers
it lists by name."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import IO

from django.db import transaction

from xinfang.audit.services import EXPORT, audit_record
from xinfang.cases.errors import Refused
from xinfang.cases.selectors import door_remember
from xinfang.org.choices import ADMIN_ROLES
from xinfang.org.models import Membership

from . import outputs
from .periods import BadPeriod, Period, parse


@dataclass
class Built:
    file: IO[bytes]  # rewound; closing it deletes it
    filename: str
    content_type: str
    rows: int


def report_period(kind: str, text: str, period_kind: str | None = None) -> Period:
    """The period of report ``kind`` written as ``text``. Raises ``Refused`` naming the field."""
    if kind not in outputs.WRITERS:
        raise Refused(f"没有“{kind}”这种报表，可选：{'、'.join(outputs.WRITERS)}。", field="report")
    allowed = outputs.PERIOD_OF[kind]
    period_kind = period_kind or _guess(text, allowed)
    if period_kind not in allowed:
        raise Refused(f"{outputs.LABELS[kind]}按{'或'.join(_KIND_CN[k] for k in allowed)}统计。",
                      field="period")
    try:
        return parse(period_kind, text)
    except BadPeriod as e:
        raise Refused(str(e), field="period") from e


_KIND_CN = {"week": "周", "month": "月", "quarter": "季度", "year": "年"}


def _guess(text: str, allowed: tuple[str, ...]) -> str:
    text = (text or "").strip().upper()
    if "W" in text:
        return "week"
    if "Q" in text:
        return "quarter"
    if text.isdigit() and len(text) == 4:
        return "year"
    return "month" if "month" in allowed else allowed[0]


def report_build(*, kind: str, period: Period, by: Membership, ip: str = "", via: str = "web"
                 ) -> Built:
    """Write report ``kind`` for ``period`` over the cases ``by`` may see, into a temporary file;
    audit it. Administrators (三员) read no cases and make no reports."""
    if by is None or not by.is_active or by.role in ADMIN_ROLES:
        raise Refused("系统管理员、安全管理员和审计管理员不能生成信访报表（三员分立）。",
                      field="as")
    if period.kind not in outputs.PERIOD_OF[kind]:
        raise Refused(f"{outputs.LABELS[kind]}不能按这种期间统计。", field="period")
    # One door for the whole file, from whichever entry (page, API, command, job): its subtree,
    # recusals and kept-out cases are read once, not for each count the report makes.
    door_remember(by)
    out = tempfile.TemporaryFile()
    try:
        with transaction.atomic():
            writer = outputs.WRITERS[kind]
            extra = {"ip": ip, "via": via} if kind == "weekly" else {}
            written = writer(out, by=by, period=period, **extra)
            audit_record(
                action=EXPORT, actor=by.user, object_type="report", object_id=kind, ip=ip,
                detail={"report": kind, "period": period.code, "via": via, "membership": by.pk,
                        "role": by.role, "unit": by.unit.name, "rows": written.rows,
                        "jurisdiction": outputs.home_of(by).pk,
                        "cases": written.cases})
    except BaseException:
        out.close()
        raise
    out.seek(0)
    suffix, content_type = outputs.SUFFIX[kind]
    home = outputs.home_of(by).name
    return Built(out, f"{home}-{outputs.LABELS[kind]}-{period.code}.{suffix}", content_type,
                 written.rows)
