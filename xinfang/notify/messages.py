"""What an outbound message says: the case number, what happened, what to do, the clock and the
time left. Never the petitioner's identity — the texts are built from the case number, unit
names and clock labels only, never from the petitioner, the matter or the history payload."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from xinfang.cases.models import Clock

from .models import Kind, Notice


@dataclass(frozen=True)
class Message:
    kind: str
    title: str
    case_number: str
    text: str
    todo: str
    clock: str = ""
    due_at: datetime | None = None
    left: str = ""

    def lines(self) -> list[str]:
        out = [f"信访件编号：{self.case_number}" if self.case_number else "", self.text]
        if self.todo:
            out.append(f"需办理：{self.todo}")
        if self.clock:
            out.append(f"时限：{self.clock}")
        if self.due_at:
            out.append(f"截止：{timezone.localtime(self.due_at):%Y-%m-%d %H:%M}")
        if self.left:
            out.append(self.left)
        return [line for line in out if line]

    def plain(self) -> str:
        return "\n".join([self.title, *self.lines()])

    def markdown(self) -> str:
        return "\n\n".join([f"### {self.title}", *(_md(line) for line in self.lines())])

    def as_json(self) -> dict:
        return {
            "kind": self.kind, "title": self.title, "case_number": self.case_number,
            "text": self.text, "todo": self.todo, "clock": self.clock,
            "due_at": self.due_at.isoformat() if self.due_at else None, "left": self.left,
        }


def _md(text: str) -> str:
    # Markdown that a robot would render as a link or heading is shown as typed.
    for ch in "\\`*_[]#>":
        text = text.replace(ch, "\\" + ch)
    return text


def time_left(due_at: datetime, now: datetime) -> str:
    delta = due_at - now
    late = delta < timedelta(0)
    delta = abs(delta)
    days, rest = divmod(int(delta.total_seconds()), 86400)
    hours = rest // 3600
    span = f"{days}天{hours}小时" if days else f"{hours}小时{(rest % 3600) // 60}分"
    return f"已超期{span}" if late else f"剩余{span}"


def message_for(notice: Notice, *, now: datetime) -> Message:
    clock = notice.clock
    if clock is None and notice.case_id is not None:  # the case's running deadline due first
        clock = (Clock.objects.filter(case_id=notice.case_id, status=Clock.Status.RUNNING,
                                      kind="deadline").order_by("due_at", "pk").first())
    running = clock is not None and clock.status == "running"
    return Message(
        kind=notice.kind,
        title=f"【信访提醒·{Kind(notice.kind).label}】",
        case_number=notice.case.number if notice.case_id else "",
        text=notice.text,
        todo=notice.todo,
        clock=clock.label if clock else "",
        due_at=clock.due_at if clock else None,
        left=time_left(clock.due_at, now) if running else ("已停止计时" if clock else ""),
    )


def test_message(*, now: datetime) -> Message:
    return Message(
        kind=Kind.TEST, title="【信访提醒·测试消息】", case_number="",
        text="这是一条测试消息：本渠道已能收到信访业务系统的提醒。", todo="",
        clock="示例时限", due_at=now + timedelta(days=3),
        left=time_left(now + timedelta(days=3), now),
    )


def due_of(notice: Notice, now: datetime) -> dict:
    """What the inbox shows of the clock: the alert's own clock, else (an event's notice) the
    case's next due instant."""
    clock = notice.clock
    if clock is not None:
        running = clock.status == "running"
        return {"clock": clock.label, "due_at": clock.due_at,
                "left": time_left(clock.due_at, now) if running else "已停止计时"}
    due = notice.case.next_due_at if notice.case_id else None
    if due is None:
        return {"clock": "", "due_at": None, "left": ""}
    return {"clock": "最近截止", "due_at": due, "left": time_left(due, now)}
