"""The scoring reads and the ranking bulletin (考核排名通报), one way in for the page, the API and
the command line: the membership's profile, the permission door (``cases_for``), the audit entry
for every file made."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from django.db import transaction

from xinfang.audit.services import EXPORT, audit_record
from xinfang.cases.errors import Refused
from xinfang.org.choices import ADMIN_ROLES
from xinfang.org.models import Membership
from xinfang.reports.outputs import home_of, profile_for
from xinfang.reports.periods import BadPeriod, Period, parse
from xinfang.rules.consumers import consumes

from . import bulletin
from .goals import GoalResult, goal_results
from .points import Scores, unit_scores

FORMATS = {"docx": bulletin.DOCX_TYPE, "xlsx": bulletin.XLSX_TYPE}


@dataclass
class Built:
    file: IO[bytes]  # rewound; closing it deletes it
    filename: str
    content_type: str


def _check(by: Membership | None) -> None:
    if by is None or not by.is_active or by.role in ADMIN_ROLES:
        raise Refused("系统管理员、安全管理员和审计管理员不能查看考核评分（三员分立）。",
                      field="as")


def scores_period(text: str) -> Period:
    """A quarter (``2026-Q3``, also ``2026Q3``) or a year (``2026``); ``Refused`` names the
    field."""
    text = (text or "").strip().upper()
    if "Q" in text and "-Q" not in text:
        text = text.replace("Q", "-Q")
    try:
        return parse("quarter" if "Q" in text else "year", text)
    except BadPeriod as e:
        raise Refused(str(e), field="period") from e


def scores_read(*, by: Membership, period: Period, now: datetime
                ) -> tuple[Scores, list[GoalResult]]:
    """The period's unit scores and goal metrics for what ``by`` may see."""
    _check(by)
    profile = profile_for(by)
    return (unit_scores(by=by, profile=profile, period=period, as_of=now),
            goal_results(by=by, profile=profile, period=period, now=now))


@consumes("scoring.periods", by="xinfang.scoring.services.scores_bulletin_build")
def scores_bulletin_build(*, by: Membership, period: Period, fmt: str, now: datetime,
                          ip: str = "", via: str = "web") -> Built:
    """The ranking bulletin as DOCX or XLSX, audited (``export``, object ``scores``)."""
    if fmt not in FORMATS:
        raise Refused(f"格式应为 {'、'.join(FORMATS)} 之一。", field="format")
    scores, goals = scores_read(by=by, period=period, now=now)
    profile = profile_for(by)
    if scores.scoring is not None and period.kind not in scores.scoring.periods:
        kinds = "、".join({"quarter": "季度", "year": "年度"}[k] for k in scores.scoring.periods)
        raise Refused(f"本机关的考核按{kinds}进行（规则配置 scoring.periods）。", field="period")
    home = home_of(by)
    named = scores.then.get(home.pk, home.name)  # as on the period's last day
    out = tempfile.TemporaryFile()
    try:
        with transaction.atomic():
            write = bulletin.write_docx if fmt == "docx" else bulletin.write_xlsx
            write(out, home=named, profile=profile, scores=scores, goals=goals)
            audit_record(
                action=EXPORT, actor=by.user, object_type="scores", object_id=fmt, ip=ip,
                detail={"report": "scores", "period": period.code, "via": via,
                        "membership": by.pk, "role": by.role, "unit": by.unit.name,
                        "jurisdiction": home.pk, "units": len(scores.units)})
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return Built(out, f"{named}-信访工作考核排名通报-{period.code}.{fmt}", FORMATS[fmt])
