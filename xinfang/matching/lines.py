"""One registration's fields as the API and the command line take them (issue 14):

    {"name", "id_number", "phone", "township", "village", "matter", "category", "channel",
     "received_at"}

— read into a ``MatchQuery`` (and, to register, a ``Registration``). Places are names (or ids) of
the caller's jurisdiction: a township by its name with or without 乡/镇; a village within the
township, or — the township missing, or written into the village ("将官池镇岗朱村") — a village
whose name is unique in the jurisdiction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from xinfang.api.membership import parse_id
from xinfang.cases import choices as c
from xinfang.cases.services import DemandInput, PetitionerInput, Registration
from xinfang.imports.cells import split_locality, stem
from xinfang.org.choices import Level
from xinfang.org.models import Unit

from .selectors import MatchQuery

FIELDS = ("name", "id_number", "phone", "township", "village", "matter", "category", "channel",
          "received_at")


class Places:
    """The jurisdiction's townships and villages by id, name and name without its suffix."""

    def __init__(self, jurisdiction: Unit):
        units = Unit.objects.filter(path__under=jurisdiction.path,
                                    level__in=[Level.TOWNSHIP, Level.VILLAGE])
        self.by_id = {u.pk: u for u in units.only("id", "name", "level", "parent_id", "path")}
        self.townships: dict[str, Unit] = {}
        self.villages: dict[str, list[Unit]] = {}
        for u in self.by_id.values():
            names = {u.name, stem(u.name)}
            if u.level == Level.TOWNSHIP:
                for n in names:
                    self.townships.setdefault(n, u)
            else:
                for n in names:
                    self.villages.setdefault(n, []).append(u)

    def _unit(self, value, level: str) -> Unit | None:
        pk = value if isinstance(value, int) else parse_id(value if isinstance(value, str) else "")
        u = self.by_id.get(pk) if pk else None
        return u if u is not None and u.level == level else None

    def read(self, township, village) -> tuple[Unit | None, Unit | None, dict[str, str]]:
        errors: dict[str, str] = {}
        t_text = str(township or "").strip()
        v_text = str(village or "").strip()
        t = self._unit(township, Level.TOWNSHIP)
        if t is None and t_text:
            t = self.townships.get(t_text) or self.townships.get(stem(t_text))
            if t is None:
                errors["township"] = f"本辖区没有乡镇“{t_text}”"
        v = self._unit(village, Level.VILLAGE)
        if v is None and v_text:
            in_text, v_name = split_locality(v_text)
            if in_text and t is None:  # "将官池镇岗朱村": the township written into the village
                t = self.townships.get(in_text) or self.townships.get(stem(in_text))
            v_name = v_name or v_text
            found = self.villages.get(v_name) or self.villages.get(stem(v_name)) or []
            if t is not None:
                found = [u for u in found if u.parent_id == t.pk]
            if len(found) == 1:
                v = found[0]
            elif not found:
                errors["village"] = (f"{t.name}没有村（社区）“{v_name}”" if t is not None
                                     else f"本辖区没有村（社区）“{v_name}”")
            else:
                errors["village"] = f"本辖区有{len(found)}个“{v_name}”，请写明乡镇"
        if v is not None and t is None:
            t = self.by_id.get(v.parent_id)
        if v is not None and t is not None and v.parent_id != t.pk:
            errors["village"] = f"“{v.name}”不属于{t.name}"
        return t, v, errors


@dataclass
class Line:
    query: MatchQuery
    data: dict
    channel: str
    received_at: datetime | None


def read_line(data: dict, places: Places, categories: tuple[str, ...] = ()
              ) -> tuple[Line | None, dict[str, str]]:
    """The line as a query, or the errors naming each field."""
    if not isinstance(data, dict):
        return None, {"line": "每行应为一个 JSON 对象"}
    errors: dict[str, str] = {}
    text = {f: data.get(f) for f in FIELDS}
    for f, v in text.items():
        if v is not None and not isinstance(v, str | int):
            errors[f] = f"{f} 应为文字"
    township, village, place_errors = places.read(text["township"], text["village"])
    errors |= place_errors
    received = None
    if text["received_at"]:
        received = parse_datetime(str(text["received_at"]))
        if received is None:
            errors["received_at"] = f"信访时间“{text['received_at']}”不是 ISO 8601 时间"
        elif timezone.is_naive(received):
            received = timezone.make_aware(received)
    category = str(text["category"] or "").strip()
    if category and categories and category not in categories:
        errors["category"] = f"问题类别“{category}”不在本地类别中"
    channel = str(text["channel"] or c.Channel.VISIT)
    if channel not in c.Channel.values:
        errors["channel"] = f"信访形式“{channel}”无效"
    if errors:
        return None, errors
    query = MatchQuery(
        name=str(text["name"] or ""), id_number=str(text["id_number"] or ""),
        phone=str(text["phone"] or ""), township=township, village=village,
        matter=str(text["matter"] or ""), categories=[category] if category else [],
        received_at=received,
    )
    return Line(query, data, channel, received), {}


def registration_of(line: Line) -> Registration:
    """The line as a registration: its one petitioner and its matter as the one demand."""
    q = line.query
    return Registration(
        channel=line.channel,
        matter=q.matter,
        received_at=line.received_at or timezone.now(),
        petitioners=[PetitionerInput(name=q.name, id_number=q.id_number, phone=q.phone)],
        demands=[DemandInput(text=q.matter, category=q.categories[0] if q.categories else "")],
        township=q.township,
        village=q.village,
    )
