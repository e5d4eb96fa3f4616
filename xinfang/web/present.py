"""How rows read on a page: a clock's remaining time and colour, a history entry's label and the
gist of its payload. Presentation only; nothing here decides anything about a case."""

from __future__ import annotations

import functools
import html
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from xinfang.audit.selectors import shown
from xinfang.audit.services import LIST_SHOWN
from xinfang.cases import choices as c
from xinfang.cases.models import CaseEvent, Clock
from xinfang.cases.selectors import HistoryEntry
from xinfang.cases.workflow import TRANSITIONS
from xinfang.org.choices import Role

# -- clocks ----------------------------------------------------------------------------------------


@dataclass
class ClockView:
    clock: Clock
    tone: str  # overdue | soon | ok | paused | met | late | ended | closed
    text: str  # "剩余2天3小时", "已超期5小时", "按时完成" …

    @property
    def label(self) -> str:
        return self.clock.label


@functools.cache
def _texts(language: str | None) -> dict[str, str]:
    """The clocks' words, translated once per language: a work queue of fifty rows asked
    ``gettext`` some three hundred times a page, each through the request's thread-local."""
    return {
        "days": _("%(d)s天%(h)s小时"), "hours": _("%(h)s小时%(m)s分"), "minutes": _("%(m)s分钟"),
        "late": _("已完成（超期）"), "met": _("已完成"), "paused": _("暂停计时"),
        "ended": _("已终止（改派，不计时效）"),
        "closed": _("期限已届满"), "left": _("剩余%(t)s"), "overdue": _("已超期%(t)s"),
        "soon": _("即将到期，剩余%(t)s"), "due": _("截止"),
        # the case page's words around a clock (``clock_items_html``)
        "provisional_title": _("该年度法定节假日安排尚未载入，仅按周末推算"),
        "provisional": _("暂定"), "started": _("起算"), "stopped": _("完成"),
        "how": _("期限怎么算的"),
    }


def duration_text(delta: timedelta, texts: dict[str, str] | None = None) -> str:
    texts = texts or clock_words()
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return texts["days"] % {"d": days, "h": hours}
    if hours:
        return texts["hours"] % {"h": hours, "m": mins}
    return texts["minutes"] % {"m": mins}


def clock_words() -> dict[str, str]:
    """The clocks' words in the request's language: a list asks them once, not per clock."""
    return _texts(get_language())


def clock_view(clock: Clock, now: datetime, words: dict[str, str] | None = None) -> ClockView:
    t = words or clock_words()
    if clock.status == Clock.Status.STOPPED:
        if clock.met is False:
            return ClockView(clock, "late", t["late"])
        if clock.met is None:  # ended by a reassignment before its deadline (``_restart``)
            return ClockView(clock, "ended", t["ended"])
        return ClockView(clock, "met", t["met"])
    if clock.status == Clock.Status.PAUSED:
        return ClockView(clock, "paused", t["paused"])
    left = clock.due_at - now
    if clock.kind == "window":
        if left < timedelta(0):
            return ClockView(clock, "closed", t["closed"])
        return ClockView(clock, "ok", t["left"] % {"t": duration_text(left, t)})
    if left < timedelta(0):
        return ClockView(clock, "overdue", t["overdue"] % {"t": duration_text(left, t)})
    if left <= timedelta(hours=clock.due_soon_hours):
        return ClockView(clock, "soon", t["soon"] % {"t": duration_text(left, t)})
    return ClockView(clock, "ok", t["left"] % {"t": duration_text(left, t)})


def clock_items_html(views: list[ClockView]) -> SafeString:
    """The ``<li>`` of each clock of the case page, in the markup its template wrote (the list
    of five clocks was an eighth of the page's template time), each value escaped by ``esc``."""
    w = clock_words()
    zone = timezone.get_current_timezone()
    out = []
    for v in views:
        k = v.clock
        tone = esc(v.tone)
        provisional = (f'<span class="tag warn" title="{esc(w["provisional_title"])}">'
                       f'{esc(w["provisional"])}</span>' if k.provisional else "")
        stopped = (f' · {esc(w["stopped"])} {k.stopped_at.astimezone(zone):%Y-%m-%d %H:%M}'
                   if k.stopped_at else "")
        explained = ""
        if k.explanation:
            lines = "".join(f"<li>{esc(line)}</li>" for line in k.explanation)
            explained = (f'<details class="explain"><summary>{esc(w["how"])}</summary>'
                         f"<ul>{lines}</ul></details>")
        out.append(
            f'<li class="clock-row tone-{tone}"><div class="clock-main">'
            f'<span class="clock-name">{esc(v.label)}</span> '
            f'<span class="clock tone-{tone}">{esc(v.text)}</span> {provisional}</div>'
            f'<div class="clock-dates muted">{esc(w["started"])} '
            f'{k.started_at.astimezone(zone):%Y-%m-%d %H:%M} · {esc(w["due"])} '
            f"<strong>{esc(deadline_text(k.due_at))}</strong>{stopped}</div>{explained}</li>\n")
    return mark_safe("".join(out))


# -- history ---------------------------------------------------------------------------------------

EVENT_LABELS = {
    "register": _l("受理登记"),
    "route_against_office": _l("反映本机关，依规转办"),
    "match_same": _l("确认为同一事项的重复信访"),
    "match_not_same": _l("确认与此前信访件不是同一事项"),
    "merge_received": _l("并入重复登记件"),
    "attachment_added": _l("上传附件"),
    "warning_issued": _l("下发预警提醒单"),
    "warning_raised": _l("触发预警"),
    "clock_recomputed": _l("按新载入的节假日安排重算时限"),
    "profile_migrated": _l("改按新版本规则配置办理"),
    "backlog_designated": _l("列为积案"),
    "backlog_progress": _l("积案化解进展"),
    "backlog_entered": _l("列入积案台账"),
    "backlog_resolved": _l("积案已化解"),
    "import": _l("从历史台账导入"),
    "ownership_item_updated": _l("包案事项落实情况"),
    # issue 17 (xinfang.oversight)
    "supervision_order_issued": _l("下发督办单"),
    "supervision_order_answered": _l("答复督办单"),
    "supervision_order_overdue": _l("督办单逾期未答复"),
    "report_back_verified": _l("上级核查报结情况"),
    "case_reviewed": _l("结案审核"),
    "rectification_answered": _l("报告整改情况"),
    "rectification_overdue": _l("整改逾期未报告"),
    "proxy_taken": _l("确定代办"),
    "proxy_step": _l("代办员代办"),
    # xinfang.practices
    "return_visit_recorded": _l("回访"),
    "persuade_formed": _l("成立应急劝返组"),
    "persuade_returned": _l("劝返回"),
    "persuade_followed_up": _l("劝返后跟进"),
    "watch_listed": _l("列为重点人员"),
    "watch_released": _l("撤销重点人员列管"),
}

PAYLOAD_LABELS = {
    "number": _l("编号"),
    "repeat_count": _l("此前信访次数"),
    "repeat_of": _l("重复信访于"),
    "collective": _l("集体访"),
    "reply_mode_required": _l("答复方式要求"),
    "proposal": _l("处置建议"),
    "note": _l("意见"),
    "reason": _l("理由"),
    "guidance": _l("引导去向"),
    "into": _l("合并至"),
    "from": _l("来自"),
    "confidential_people": _l("含要求保密的信访人"),
    "signature": _l("签署角色"),
    "awaiting": _l("尚待签署"),
    "lead": _l("主办单位"),
    "assisting": _l("协办单位"),
    "receiver": _l("接收人"),
    "responsible_person": _l("责任人"),
    "unit": _l("单位"),
    "role": _l("主协办"),
    "kind": _l("类型"),
    "at": _l("时间"),
    "mode": _l("方式"),
    "deliverer": _l("送达人"),
    "offices": _l("通报部门"),
    "text": _l("内容"),
    "findings": _l("核查认定"),
    "progress_report": _l("办理进度"),
    "expected_completion": _l("预计办结"),
    "amount": _l("延期"),
    "body": _l("正文"),
    "document": _l("文书"),
    "delivered_at": _l("送达时间"),
    "receipt_signed": _l("已签收回证"),
    "refused": _l("拒收"),
    "witness": _l("见证人"),
    "rating": _l("满意度"),
    "to": _l("反馈至"),
    "contents": _l("报送材料"),
    "review": _l("复查（复核）件"),
    "leader": _l("包案领导"),
    "rule": _l("规则"),
    "reasons": _l("原因"),
    "due": _l("期限"),
    "cc": _l("抄送"),
    "cause": _l("原因分析"),
    "measures": _l("化解措施"),
    "met": _l("按时"),
    "name": _l("文件名"),
    "size": _l("大小"),
    "ended_assignments": _l("结束交办"),
    "clocks": _l("时限"),
    "leader_ownership": _l("须领导包案"),
    "owner": _l("包案领导"),
    "plan": _l("化解方案"),
    "plan_deadline": _l("方案期限"),
    "year": _l("年度"),
    "source": _l("依据"),
    "replaced": _l("替换已载入年度"),
    "loaded_by": _l("载入人"),
    "route": _l("去向"),
    "routed_to": _l("转至"),
    "jurisdiction": _l("受理机关"),
    "basis": _l("规则"),
    "seed": _l("依据"),
    "ownership_items": _l("包案事项"),
    "item": _l("包案事项"),
    "status": _l("落实情况"),
    "owner_by": _l("确定依据"),
    "backlog": _l("积案台账"),
    "issued_at": _l("预警时间"),
    "profile": _l("规则配置"),
    "from_version": _l("原版本"),
    "to_version": _l("新版本"),
    "migrated_by": _l("迁移人"),
    # from a ledger import (xinfang.imports)
    "ledger": _l("台账"),
    "file": _l("文件"),
    "file_sha256": _l("文件SHA-256"),
    "sheet": _l("工作表"),
    "row": _l("行号"),
    "ledger_number": _l("台账编号"),
    "handling_unit": _l("承办单位"),
    "responsible": _l("责任人"),
    "handling": _l("处理情况"),
    "assigned_on": _l("交办时间"),
    "closed_on": _l("销号时间"),
    "channel_note": _l("说明"),
    # issue 17 (xinfang.oversight)
    "late": _l("逾期"),
    "agent": _l("代办员"),
    "helps": _l("代办内容"),
    "help": _l("代办内容"),
    "failed": _l("未通过的审核要点"),
    "method": _l("核查方式"),
    "verdict": _l("核查结论"),
    "order_unit": _l("督办对象"),
    "outcome": _l("回访结果"),
    "level": _l("上访层级"),
    "place": _l("地点"),
    "members": _l("劝返组成员"),
}
# Payload keys not worth a line in the timeline (internal ids, checksums).
HIDDEN_KEYS = {"attachment", "content_type", "sha256", "document", "event"}
KIND_CHOICES = {
    "log_contact": c.ContactKind,
    "submit_report": c.ReportKind,
    "open_review": c.Kind,
}
VALUE_CHOICES = {"mode": c.DeliveryMode, "rating": c.Rating, "role": c.AssignmentRole}
REPLY_MODES = {"written": _l("书面答复")}
ROUTES = {"upper_office": _l("上一级信访工作机构"), "discipline": _l("纪检监察机关")}
MAX_VALUE = 120


@functools.lru_cache(maxsize=64)
def _rule_labels(code: str, version: int) -> dict[str, str]:
    """Rule name → label in the profile version the event was written under (one query per
    version and process; the parsed profile is the store's cached one)."""
    from xinfang.rules.models import ProfileVersion
    from xinfang.rules.store import profile_of

    stored = ProfileVersion.objects.filter(code=code, version=version).first()
    if stored is None:
        return {}
    profile = profile_of(stored)
    labels = {r.name: r.note for r in profile.routing if r.note}
    labels.update({r.name: r.label for r in (*profile.clocks, *profile.constraints)})
    labels.update({r.name: r.label for r in profile.warnings})
    return labels


def rule_label(name: str, *, code: str, version: int) -> str:
    """A profile rule's Chinese label for a history line (the history keeps the rule's name)."""
    return _rule_labels(code, version).get(name, name)


def event_label(event_type: str) -> str:
    t = TRANSITIONS.get(event_type)
    if t is not None:
        return t.label
    return str(EVENT_LABELS.get(event_type, event_type))


def role_label(code: str) -> str:
    if code in _values(Role):
        return c.label_of(Role, code)
    return {"petitioner": _("信访人"), "system": _("系统")}.get(code, code)


def state_label(code: str, language: str | None = None) -> str:
    return c.label_of(c.State, code, language)


@functools.cache
def _values(choices) -> frozenset[str]:
    """A choices class's values, made once (``Choices.values`` builds a list per call; the
    history of a case asks per entry)."""
    return frozenset(choices.values)


def _value_text(key: str, value, event_type: str) -> str:
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if value is None or value == "":
        return ""
    if key == "kind" and event_type in KIND_CHOICES and value in _values(KIND_CHOICES[event_type]):
        return c.label_of(KIND_CHOICES[event_type], value)
    if key in VALUE_CHOICES and value in _values(VALUE_CHOICES[key]):
        return c.label_of(VALUE_CHOICES[key], value)
    if key == "reply_mode_required":
        return str(REPLY_MODES.get(value, value))
    if key == "signature":
        return role_label(value)
    if key == "route":
        return str(ROUTES.get(value, value))
    if key == "backlog" and value == "entered":  # stored before the payload said 已列入
        return _("已列入")
    if key in ("awaiting", "to", "cc") and isinstance(value, list):
        return "、".join(role_label(v) for v in value)
    if key == "clocks" and isinstance(value, list):
        return _("%(n)s项变动") % {"n": len(value)}
    if key == "findings" and isinstance(value, dict):
        parts = []
        for seq, row in value.items():
            finding = row[0] if row else ""
            label = c.label_of(c.Finding, finding)
            parts.append(_("第%(seq)s项：%(f)s") % {"seq": seq, "f": label})
        return "；".join(parts)
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{k}：{v}" for k, v in value.items())
    if isinstance(value, str) and len(value) >= 16 and value[4:5] == "-" and "T" in value:
        parsed = parse_datetime(value)
        if parsed is not None:
            return timezone.localtime(parsed).strftime("%Y-%m-%d %H:%M")
    text = str(value)
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE] + "…"


UNIT_WORDS = {
    "days": _l("日"),
    "working_days": _l("个工作日"),
    "hours": _l("小时"),
    "weeks": _l("周"),
}


def payload_summary(event: CaseEvent | HistoryEntry) -> list[tuple[str, str]]:
    lines = []
    payload = dict(event.payload or {})
    if event.type == "approve_extension" and "amount" in payload:
        unit = payload.pop("unit", "")
        payload["amount"] = f"{payload['amount']}{UNIT_WORDS.get(unit, unit)}"
    for key, value in payload.items():
        if key in HIDDEN_KEYS:
            continue
        if key == "rule" and isinstance(value, str):
            text = rule_label(value, code=event.profile_code, version=event.profile_version)
        else:
            text = _value_text(key, value, event.type)
        if text:
            lines.append((str(PAYLOAD_LABELS.get(key, key)), text))
    return lines


@dataclass
class EventView:
    event: CaseEvent | HistoryEntry
    label: str
    role: str
    from_state: str
    to_state: str
    lines: list[tuple[str, str]]


def _event_words(e: CaseEvent | HistoryEntry) -> tuple[str, str, str, str]:
    """An entry's label, role and states in words."""
    return (event_label(e.type), role_label(e.actor_role),
            state_label(e.from_state) if e.from_state else "",
            state_label(e.to_state) if e.to_state else "")


def event_views(events) -> list[EventView]:
    """``EventView`` of each event, each distinct (type, role, states) put in words once: a
    long history repeats a few dozen of them, and each label asks the active language (a
    context-local read) — 7 % of the case page's CPU at 152 entries."""
    words: dict[tuple, tuple[str, str, str, str]] = {}
    views = []
    for e in events:
        key = (e.type, e.actor_role, e.from_state, e.to_state)
        said = words.get(key)
        if said is None:
            said = words[key] = _event_words(e)
        views.append(EventView(e, *said, lines=payload_summary(e)))
    return views


def history_html(views: list[EventView]) -> SafeString:
    """The ``<li>`` of each history entry of the case page, in the markup the page's template
    wrote (a long history through the template engine cost ~40 ms of CPU for 110 entries), as
    text: each value escaped as ``format_html`` escapes it (``esc``)."""
    out = []
    zone = timezone.get_current_timezone()  # ``localtime``'s, asked once, not per entry
    # What an entry says and who did it, written once for each distinct pair: a long history
    # repeats a few dozen (escaping them again was half of this function's CPU, lead44).
    heads: dict[tuple, str] = {}
    for ev in views:
        event = ev.event
        at = event.at.astimezone(zone)
        key = (ev.label, ev.role, ev.from_state, ev.to_state, event.actor or "",
               event.actor_unit if event.actor_unit_id else None)
        head = heads.get(key)
        if head is None:
            head = heads[key] = _history_head(ev)
        lines = ""
        if ev.lines:
            pairs = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in ev.lines)
            lines = f'<dl class="payload">{pairs}</dl>'
        out.append(
            f'<li>\n<div class="when"><time datetime="{at.isoformat()}">'
            f'{at:%Y-%m-%d %H:%M}</time></div>\n<div class="what">\n'
            f"{head}{lines}\n</div>\n</li>\n")
    return mark_safe("".join(out))


def _history_head(ev: EventView) -> str:
    """An entry's label and states, and who did it (its actor, role and unit)."""
    states = ""
    if ev.from_state or ev.to_state:
        arrow = f"{esc(ev.from_state)} → " if ev.from_state else ""
        states = f'<span class="muted">{arrow}{esc(ev.to_state or ev.from_state)}</span>'
    unit = f" · {esc(ev.event.actor_unit)}" if ev.event.actor_unit_id else ""
    return (f"<p><strong>{esc(ev.label)}</strong>\n{states}</p>\n"
            f'<p class="muted">{esc(ev.event.actor or "")} {esc(ev.role)}{unit}</p>\n')


# -- profile events (a clock's start and stop) -----------------------------------------------------

PROFILE_EVENT_LABELS = {
    "registered": _l("受理登记"),
    "contact_logged": _l("联系信访人（任一方式）"),
    "report_submitted": _l("报送报告（任一种）"),
    "warning_issued": _l("下发预警提醒单"),
}


def profile_event_label(name: str) -> str:
    """A profile's event name in words: ``contact_logged:phone`` → 电话联系."""
    if name in PROFILE_EVENT_LABELS:
        return str(PROFILE_EVENT_LABELS[name])
    family, _sep, kind = name.partition(":")
    if family == "contact_logged" and kind in c.ContactKind.values:
        return str(c.ContactKind(kind).label)
    if family == "report_submitted" and kind in c.ReportKind.values:
        return _("报送%(kind)s") % {"kind": c.ReportKind(kind).label}
    for t in TRANSITIONS.values():
        if t.event == name:
            return t.label
    return name


# -- audit entries ---------------------------------------------------------------------------------

# What an audit entry is about, in the audit log's 对象 column (the entry keeps the code).
AUDIT_OBJECTS = {
    "address": _l("来源地址"),
    "attachment": _l("附件"),
    "backup": _l("备份"),
    "calendar_year": _l("节假日安排"),
    "case": _l("信访件"),
    "checkpoints": _l("审计检查点"),
    "document_template": _l("文书模板"),
    "document": _l("文书"),
    "key": _l("密钥"),
    "key_file": _l("密钥文件"),
    "ledger": _l("台账"),
    "mac_key": _l("审计签名密钥"),
    "petitioner": _l("信访人"),
    "recusal": _l("回避申报"),
    "user": _l("用户"),
    "unit": _l("单位"),
    "profile": _l("规则配置"),
    "session": _l("会话"),
}


def audit_object(object_type: str, object_id: str) -> str:
    label = AUDIT_OBJECTS.get(object_type, object_type)
    return f"{label} {object_id}".strip()


AUDIT_KEYS = {
    "change": _l("变更"),
    "username": _l("用户名"),
    "user": _l("用户"),
    "unit": _l("单位"),
    "role": _l("角色"),
    "by_role": _l("操作角色"),
    "name": _l("名称"),
    "short_name": _l("简称"),
    "phone": _l("电话"),
    "parent": _l("上级"),
    "level": _l("层级"),
    "kind": _l("类型"),
    "old": _l("原配置"),
    "new": _l("新配置"),
    "year": _l("年度"),
    "source": _l("来源"),
    "replace": _l("替换"),
    "recomputed_clocks": _l("重算时限"),
    "reason": _l("原因"),
    "failures": _l("连续失败次数"),
    "until": _l("锁定至"),
    "case": _l("信访件"),
    "cases": _l("信访件"),
    "ledger": _l("台账"),
    "via": _l("途径"),
    "membership": _l("任职"),
    "rows": _l("行数"),
    "revealed_rows": _l("未脱敏行数"),
    "filters": _l("筛选条件"),
    "phase": _l("阶段"),
    "matter_words": _l("事项关键词"),
    "code": _l("配置"),
    "version": _l("版本"),
    "previous": _l("原现行版本"),
    "checksum": _l("校验值"),
    "clocks_moved": _l("变动时限"),
}
AUDIT_CHANGES = {
    "unit_create": _l("新建单位"),
    "unit_update": _l("修改单位"),
    "unit_activate": _l("启用单位"),
    "unit_deactivate": _l("停用单位"),
    "profile_set": _l("设置规则配置"),
    "profile_install": _l("安装规则配置版本"),
    "profile_migrate": _l("在办信访件迁移到新版本"),
    "user_create": _l("新建账户"),
    "user_activate": _l("启用账户"),
    "user_deactivate": _l("停用账户"),
    "password_reset": _l("重置密码"),
    "password_collect": _l("领取一次性密码"),
    "first_password_void": _l("首次任职：初始密码作废"),
    "token_authorise": _l("授权接口令牌"),
    "token_collect": _l("领取接口令牌"),
    "token_create": _l("命令行创建接口令牌"),
    "token_revoke": _l("撤销接口令牌"),
    "role_grant": _l("分配角色"),
    "role_revoke": _l("撤销角色"),
    "unlock": _l("解除锁定"),
    "totp_enable": _l("绑定动态验证码"),
    "totp_disable": _l("解绑动态验证码"),
    "recusal_declared": _l("声明回避"),
    "recusal_withdrawn": _l("撤回回避"),
}
AUDIT_REASONS = {
    "unknown_user": _l("用户名不存在"),
    "locked": _l("账户已锁定"),
    "password": _l("密码错误"),
    "totp": _l("动态验证码错误"),
    "idle_timeout": _l("长时间未操作"),
}


AUDIT_LIST_SHOWN = LIST_SHOWN  # items of a list an entry's detail shows on the auditor's page


def audit_detail(detail: dict | None, *, shown: int | None = AUDIT_LIST_SHOWN,
                 cut: dict | None = None) -> list[tuple[str, str]]:
    """An audit entry's detail as (label, text) lines in words; unknown keys as they are. A
    list longer than ``shown`` items (an export's case numbers) as its first ``shown`` and its
    count; None: every item (the entry's own page). ``cut``: the lists ``detail`` holds cut
    already (an entry's ``brief``), by key, with their whole lengths."""
    cut = cut or {}
    lines = []
    for key, value in (detail or {}).items():
        n = cut.get(key, len(value)) if isinstance(value, list) else 0
        if key == "change" and value in AUDIT_CHANGES:
            text = str(AUDIT_CHANGES[value])
        elif key == "reason" and value in AUDIT_REASONS:
            text = str(AUDIT_REASONS[value])
        elif key in ("role", "by_role") and isinstance(value, str):
            text = role_label(value)
        elif key in ("name", "short_name", "phone") and isinstance(value, list) and len(value) == 2:
            text = f"{value[0] or '—'} → {value[1] or '—'}"
        elif shown is not None and isinstance(value, list) and n > shown:
            # an export's case numbers: the trail keeps them all, the entry's page shows them
            # (``audit_entry``); a page of entries wrote every one, 3 MB after two exports of
            # 100,000 rows
            text = _("%(shown)s…等共%(n)s项") % {
                "shown": "、".join(str(v) for v in value[:shown]), "n": n}
        else:
            text = _value_text(key, value, "")
        if text:
            lines.append((str(AUDIT_KEYS.get(key, key)), text))
    return lines


# -- case tables (queue, supervision, ledger) ------------------------------------------------------
# A page of 50 rows built through the template language costs some ten thousand variable look-ups
# (a tag, a filter and a translation per cell); the rows are plain data by the time they reach
# the page, so they are written here once per row, each value escaped by ``esc``.


def deadline_text(value: datetime | None, zone=None) -> str:
    """A deadline as offices say it: midnight is 24:00 of the day before ("12-02 24:00"),
    which is the last day the petitioner or the unit still has. ``zone``: the current time
    zone, asked once by a table rather than for each of its clocks."""
    if not value:
        return ""
    local = value.astimezone(zone or timezone.get_current_timezone())
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        return f"{(local - timedelta(days=1)):%Y-%m-%d} 24:00"
    return f"{local:%Y-%m-%d %H:%M}"


def esc(value) -> str:
    """``value`` as HTML text, as ``format_html`` writes an argument (``conditional_escape``:
    what is marked safe stays as it is, anything else is escaped), without Django's lazy-aware
    wrappers — a page's rows and history pass thousands of values through it."""
    if isinstance(value, Promise):
        value = str(value)
    return value.__html__() if hasattr(value, "__html__") else html.escape(str(value))


def _short(text: str, n: int) -> str:
    """``Truncator(text).chars(n)``: a text of at most ``n`` characters already in NFC comes
    back as it is without Truncator's walk over every character (combining marks only lower
    its count) — a ledger page truncates some two hundred labels and matters."""
    if len(text) <= n and unicodedata.is_normalized("NFC", text):
        return text
    return Truncator(text).chars(n)


@functools.lru_cache(maxsize=512)
def _short_label(label: str, n: int, language: str | None) -> str:
    """``_short`` of a clock's label: the labels are a profile's few dozen, and a ledger page
    cut a hundred of them longer than ``n`` with Truncator each time (the ellipsis is the
    language's, so it is part of the key)."""
    return _short(label, n)


def _clock_spans(views: list[ClockView], *, shown: int | None = None, label_chars: int = 0,
                 language: str | None = None, zone=None) -> SafeString:
    """A row's clocks. ``language``, ``zone``: the request's, asked once by a table rather
    than for each row (through the request's thread-locals, 2 % of a work queue's time)."""
    language = language or get_language()
    due = esc(_texts(language)["due"])
    zone = zone or timezone.get_current_timezone()
    spans = [
        f'<span class="clock tone-{esc(v.tone)}" title="{due} '
        f'{esc(deadline_text(v.clock.due_at, zone))}"><span class="clock-label">'
        f'{esc(_short_label(v.label, label_chars, language) if label_chars else v.label)}'
        '</span> '
        f'<span class="clock-left">{esc(v.text)}</span></span>'
        for v in (views if shown is None else views[:shown])
    ]
    if not spans:
        return mark_safe('<span class="muted">—</span>')
    if shown is not None and len(views) > shown:
        more = len(views) - shown
        spans.append(f'<span class="muted">{esc(_more_words(language, more))}</span>')
    return mark_safe("".join(spans))


@functools.lru_cache(maxsize=256)
def _more_words(language: str | None, n: int) -> str:
    """"另3项": the clocks a ledger row does not show, in words (a table asked ``ngettext``
    through the request's thread-local for each such row)."""
    return ngettext("另%(n)s项", "另%(n)s项", n) % {"n": n}


# Where a row's key stands among ``urls_of``'s arguments.
KEY = object()
_KEY_MARK = "9876543210"  # digits: an id, a slug and a code's converters all take it


def urls_of(name: str, *args, **kwargs):
    """``reverse(name, …)`` with each row's key where ``KEY`` stands among the arguments (an
    id, an action's name, an instrument's code), from one ``reverse`` per table rather than per
    row: ``urls_of("web:case", KEY)(pk)``."""
    args = [_KEY_MARK if a is KEY else a for a in args]
    kwargs = {k: _KEY_MARK if v is KEY else v for k, v in kwargs.items()}
    before, after = reverse(name, args=args or None, kwargs=kwargs or None).split(_KEY_MARK)
    return lambda key: f"{before}{key}{after}"


def percent_text(rate: float | None) -> str:
    """0.925 → "92.5%"; None (nothing to measure) → "—"."""
    if rate is None:
        return "—"
    value = rate * 100
    return f"{value:.0f}%" if float(value).is_integer() else f"{value:.1f}%"


def unit_rates_html(rows) -> SafeString:
    """The ``<tr>`` of each unit of the supervision page's split table
    (``supervision.UnitRates``): a province's thousands of units, each cell a target's
    numerator, denominator and rate, were a quarter of the page through the template."""
    by_definition = f' <span class="muted">{esc(_("按定义"))}</span>'
    missed = f' <span class="tag bad">{esc(_("未达标"))}</span>'
    out = []
    for row in rows:
        cells = "".join(
            f"<td>{r.numerator} / {r.denominator} · {esc(percent_text(r.rate))}"
            f"{by_definition if r.by_construction else missed if r.met is False else ''}</td>"
            for r in row.results)
        out.append(f'<tr><th scope="row">{esc(row.unit)}</th>{cells}</tr>')
    return mark_safe("\n".join(out))


@functools.cache
def _case_table_heads(language: str | None) -> tuple[str, ...]:
    """The headings of a queue's or the supervision page's table, translated once per
    language: a work queue writes five tables, each asking them twice (the head and each
    row's ``data-label``) through the request's thread-local."""
    return tuple(str(x) for x in (
        _("编号"), _("信访人"), _("信访事项"), _("问题类别"), _("状态"), _("时限")))


def case_rows_html(rows, language: str | None = None) -> SafeString:
    """The ``<tr>`` of each row of a work-queue or supervision table (``queues.Row``)."""
    language = language or get_language()  # once a table, not per row
    n, who, what, cat, state, clock = (esc(x) for x in _case_table_heads(language))
    url = urls_of("web:case", KEY)
    zone = timezone.get_current_timezone()
    return mark_safe("\n".join(
        f'<tr><td data-label="{n}"><a href="{esc(url(r.case.pk))}">{esc(r.case.number)}</a>'
        f'</td><td data-label="{who}">{esc(r.petitioner or "—")}</td>'
        f'<td data-label="{what}" class="matter">{esc(_short(r.case.matter, 48))}'
        f'</td><td data-label="{cat}" class="short-text">{esc(r.categories or "—")}</td>'
        f'<td data-label="{state}"><span class="state">'
        f'{esc(state_label(r.case.state, language))}</span></td><td data-label="{clock}">'
        f'<div class="clock-list">{_clock_spans(r.clocks, language=language, zone=zone)}'
        '</div></td></tr>'
        for r in rows
    ))


def _cases_table(titles, body: str) -> str:
    """A ``<table class="cases">`` in its scrolling box: ``titles`` (translated) over the rows
    ``body`` writes."""
    heads = "".join(f'<th scope="col">{esc(t)}</th>' for t in titles)
    return (f'<div class="table-wrap">\n<table class="cases">\n<thead><tr>{heads}</tr></thead>\n'
            f"<tbody>\n{body}\n</tbody>\n</table>\n</div>")


def case_table_html(rows) -> SafeString:
    """A work-queue bucket's or the supervision page's table of cases (``queues.Row``), head and
    rows: through an ``include`` of its template each of a queue's five tables cost ~0.1 ms
    besides its rows (lead46)."""
    language = get_language()
    return mark_safe(_cases_table(_case_table_heads(language), case_rows_html(rows, language)))


def bar_chart_html(chart, chart_id: str, title: str) -> SafeString:
    """A bar chart (``charts.Chart``) as inline SVG in its figure, numbers as they are (the
    template wrote them with ``localize off``). The supervision page draws three; through the
    template each was ~0.7 ms of its CPU at 1M cases, a lookup per coordinate (lead46)."""
    cid, title = esc(chart_id), esc(title)
    head = f'<figure class="chart-box" id="{cid}">\n<figcaption>{title}</figcaption>\n'
    if not chart.bars:
        return mark_safe(f'{head}<p class="empty">{esc(_("暂无数据。"))}</p>\n</figure>')
    said = "；".join(f"{esc(b.full_label)} {esc(b.text)}" for b in chart.bars)
    ticks = "".join(
        f'<line class="grid-line" x1="{t.x}" x2="{t.x}" y1="0" y2="{chart.axis_y}"></line>'
        f'<text class="tick" x="{t.x}" y="{chart.tick_text_y}" text-anchor="middle">'
        f"{esc(t.text)}</text>" for t in chart.ticks)
    bars = []
    for b in chart.bars:
        threshold = "" if b.threshold_x is None else (
            f'<line class="threshold" x1="{b.threshold_x}" x2="{b.threshold_x}" y1="{b.y}" '
            f'y2="{b.bottom}"></line>')
        bars.append(
            f'<text class="label" x="{chart.label_x}" y="{b.text_y}" text-anchor="end">'
            f"<title>{esc(b.full_label)}</title>{esc(b.label)}</text>\n"
            f'<rect class="bar tone-{esc(b.tone)}" x="{chart.label_w}" y="{b.bar_y}" '
            f'width="{b.width}" height="{chart.bar_h}"></rect>\n{threshold}\n'
            f'<text class="value" x="{b.value_x}" y="{b.text_y}">{esc(b.text)}</text>')
    return mark_safe(
        f'{head}<svg class="chart" viewBox="0 0 {chart.width} {chart.height}" '
        f'width="{chart.width}" height="{chart.height}" role="img" '
        f'aria-labelledby="{cid}-desc" preserveAspectRatio="xMinYMin meet">\n'
        f'<desc id="{cid}-desc">{title}：{said}</desc>\n{ticks}\n' + "\n".join(bars)
        + "\n</svg>\n</figure>")


def audit_listed(entry) -> tuple[list[tuple[str, str]], bool]:
    """An entry's detail as the trail's list shows it, and whether it is shown cut short
    (``audit.selectors.shown``: its brief, or its detail where it has none)."""
    detail, cut = shown(entry)
    return audit_detail(detail, cut=cut), cut is not None


def audit_rows_html(rows, labels: dict) -> SafeString:
    """The ``<tr>`` of each audit entry of the auditor's page (``(entry, target, lines,
    shortened)``: ``audit_object`` and ``audit_listed`` of it), ``labels`` naming the actions;
    an entry whose detail is shown cut short links to its own page (``web:audit_entry``). A
    page of entries through the template, a filter, a lookup and a loop over the detail's
    lines each, was 17 of the page's 72 ms at 1M cases (lead46)."""
    zone = timezone.get_current_timezone()
    whole, url = esc(_("查看全部")), urls_of("web:audit_entry", KEY)
    out = []
    for e, target, lines, shortened in rows:
        detail = "；".join(f"{esc(k)}：{esc(v)}" for k, v in lines)
        if shortened:
            detail += f' <a href="{esc(url(e.id))}">{whole}</a>'
        out.append(
            f'<tr><td>{e.id}</td><td class="nowrap">{e.at.astimezone(zone):%Y-%m-%d %H:%M:%S}'
            f'</td><td class="nowrap">{esc(e.actor_name or "—")}</td>'
            f'<td class="nowrap">{esc(labels.get(e.action) or e.action)}</td>'
            f'<td>{esc(target)}</td><td class="detail">{detail}</td>'
            f'<td>{esc(e.ip or "—")}</td></tr>')
    return mark_safe("\n".join(out))


def notice_rows_html(rows) -> SafeString:
    """The ``<tr>`` of each warning notice on the supervision page (``supervision.NoticeRow``).
    The page's three tables of twenty rows each through the template were some 7 ms of its CPU
    at 1M cases, a translation, a ``url`` tag and filters per cell (lead46)."""
    n, why, issued, due, answer = (esc(x) for x in (
        _("编号"), _("预警原因"), _("下发时间"), _("回复期限"), _("回复情况")))
    answered_words, waiting = _("%(d)s已回复"), esc(_("未回复"))
    url = urls_of("web:case", KEY)
    zone = timezone.get_current_timezone()
    out = []
    for r in rows:
        notice = r.notice
        follow = "—"
        if r.follow_up:
            v = r.follow_up
            follow = (f'<span class="clock tone-{esc(v.tone)}">'
                      f'{esc(deadline_text(v.clock.due_at, zone))} · {esc(v.text)}</span>')
        if r.answered:
            day = f"{notice.answered_at.astimezone(zone):%Y-%m-%d}"
            state = f'<span class="tag ok">{esc(answered_words % {"d": day})}</span>'
        else:
            state = f'<span class="tag bad">{waiting}</span>'
        out.append(
            f'<tr><td data-label="{n}"><a href="{esc(url(notice.case.pk))}">'
            f'{esc(notice.case.number)}</a></td>'
            f'<td data-label="{why}">{esc(r.reasons or "—")}</td>'
            f'<td data-label="{issued}">{notice.issued_at.astimezone(zone):%Y-%m-%d %H:%M}</td>'
            f'<td data-label="{due}">{follow}</td><td data-label="{answer}">{state}</td></tr>')
    return mark_safe("\n".join(out))


def owned_rows_html(cases) -> SafeString:
    """The ``<tr>`` of each leader-owned case on the supervision page (``first_owned``)."""
    n, what, leader, state = (esc(x) for x in (_("编号"), _("信访事项"), _("包案领导"), _("状态")))
    url = urls_of("web:case", KEY)
    language = get_language()
    return mark_safe("\n".join(
        f'<tr><td data-label="{n}"><a href="{esc(url(case.pk))}">{esc(case.number)}</a></td>'
        f'<td data-label="{what}" class="matter">{esc(_short(case.matter, 30))}</td>'
        f'<td data-label="{leader}">{esc(case.leader_owner)}</td>'
        f'<td data-label="{state}"><span class="state">'
        f'{esc(state_label(case.state, language))}</span></td></tr>'
        for case in cases))


def backlog_lines_html(lines) -> SafeString:
    """The ``<tr>`` of each open backlog line on the supervision page (``backlog_in``)."""
    n, reason, owner, due = (esc(x) for x in (_("编号"), _("积案原因"), _("包案人"), _("化解时限")))
    url = urls_of("web:case", KEY)
    return mark_safe("\n".join(
        f'<tr><td data-label="{n}"><a href="{esc(url(b.case.pk))}">{esc(b.case.number)}</a></td>'
        f'<td data-label="{reason}">{esc(_short(b.reason, 30))}</td>'
        f'<td data-label="{owner}">{esc(b.owner_leader or b.owner_leader_text or "—")}</td>'
        f'<td data-label="{due}">'
        f'{f"{b.plan_deadline:%Y-%m-%d}" if b.plan_deadline else "—"}</td></tr>'
        for b in lines))


def person_rows_html(rows) -> SafeString:
    """The ``<tr>`` of each case of a matter on a person's page (``ownership.people.CaseRow``):
    a petitioner with 199 cases wrote seven translations, a ``url`` tag and a
    ``blocktranslate`` per row through the template (60 % of the page at 1M cases)."""
    n, when, visit, role, state, leader, warn = (esc(x) for x in (
        _("编号"), _("信访时间"), _("第几次"), _("身份"), _("状态"), _("包案领导"), _("预警")))
    visit_words, waiting = _("第%(n)s次"), esc(_("待回复"))
    url = urls_of("web:case", KEY)
    # the time zone and the language once, not through their thread-locals per row
    tz, language = timezone.get_current_timezone(), get_language()
    out = []
    for r in rows:
        case = r.case
        owner = case.leader_owner
        flag = f'<span class="tag warn">{waiting}</span>' if r.warnings else "—"
        out.append(
            f'<tr><td data-label="{n}"><a href="{esc(url(case.pk))}">{esc(case.number)}</a></td>'
            f'<td data-label="{when}">{case.received_at.astimezone(tz):%Y-%m-%d}</td>'
            f'<td data-label="{visit}">{esc(visit_words % {"n": r.visit})}</td>'
            f'<td data-label="{role}">{esc(r.role)}</td>'
            f'<td data-label="{state}"><span class="state">'
            f'{esc(state_label(case.state, language))}</span></td>'
            f'<td data-label="{leader}">{esc(str(owner) if owner else "—")}</td>'
            f'<td data-label="{warn}">{flag}</td></tr>')
    return mark_safe("\n".join(out))


def matter_groups_html(matters) -> SafeString:
    """Each matter of a person's page (``ownership.people.Matter``): its heading, its first
    visit's matter cut to 120 characters and the table of its cases (``person_rows_html``).
    A petitioner with some hundred matters paid a heading translation, a filter and seven
    column titles through the template for each (12 ms of the page's CPU at 1M, lead46)."""
    titles = (_("编号"), _("信访时间"), _("第几次"), _("身份"), _("状态"), _("包案领导"),
              _("预警"))
    heading, leader = _("事项%(n)s：共信访%(v)s次"), esc(_("包案领导"))
    out = []
    for n, m in enumerate(matters, start=1):
        leaders = m.leaders
        led = f" · {leader} {'、'.join(esc(x) for x in leaders)}" if leaders else ""
        out.append(
            f'<div class="matter-group" id="matter-{m.root_id}">\n'
            f"<h3>{esc(heading % {'n': n, 'v': m.visits})}{led}</h3>\n"
            f'<p class="matter-text">{esc(_short(m.first.matter, 120))}</p>\n'
            f"{_cases_table(titles, person_rows_html(m.cases))}\n</div>")
    return mark_safe("\n".join(out))


def pending_items_html(items) -> SafeString:
    """The ``<li>`` of each pending 包案 item on a person's page (``OwnershipItem``), its status
    label read from the choices (``c.label_of``), not by ``get_status_display`` per item."""
    url = urls_of("web:case", KEY)
    language = get_language()
    return mark_safe("\n".join(
        f'<li><span class="tag">{esc(c.label_of(i.Status, i.status, language))}</span> '
        f'<a href="{esc(url(i.case_id))}#ownership">{esc(i.case.number)}</a> {esc(i.label)}</li>'
        for i in items))


def _flags_html(case, flag_labels: dict) -> str:
    """The case's flags as tags; ``flag_labels`` escaped already (once a page, not a row)."""
    tags = [(flag_labels["key_case"], "tag warn") if case.key_case else None,
            (flag_labels["repeat"], "tag warn") if case.repeat_count else None,
            (flag_labels["level_skipping"], "tag warn") if case.level_skipping else None,
            (flag_labels["collective"], "tag warn") if case.collective else None,
            (flag_labels["household"], "tag")
            if case.exited_household or case.monitored_household else None,
            (flag_labels["confidential"], "tag") if case.confidential else None]
    tags = [t for t in tags if t]
    if not tags:
        return ""
    spans = "".join(f'<span class="{cls}">{label}</span>' for label, cls in tags)
    return f'<span class="flags-line">{spans}</span>'


def ledger_rows_html(rows, flag_labels: dict) -> SafeString:
    """The ``<tr>`` of each ledger row (``queues.Row`` of a case read by ``ledger_rows``)."""
    n, when, who, what, cat, where, units_label, state, clock = (esc(x) for x in (
        _("编号"), _("信访时间"), _("信访人"), _("信访事项"), _("问题类别"), _("问题属地"),
        _("承办单位"), _("状态"), _("时限")))
    closed_words = _("%(d)s销号")
    flag_labels = {key: esc(label) for key, label in flag_labels.items()}  # lazy: once a page
    url = urls_of("web:case", KEY)
    language = get_language()  # once a table, not per row
    zone = timezone.get_current_timezone()
    out = []
    for r in rows:
        case = r.case
        place = case.township.name if case.township_id else "—"
        if case.village_id:
            place = f"{place} {case.village.name}"
        units = "、".join(case.lead_units) or "—"
        closed = ""
        if case.closed_at:
            day = f"{case.closed_at.astimezone(zone):%Y-%m-%d}"
            closed = f'<br><small class="muted">{esc(closed_words % {"d": day})}</small>'
        out.append(
            f'<tr><td data-label="{n}"><a href="{esc(url(case.pk))}">{esc(case.number)}</a>'
            f'</td><td data-label="{when}" class="nowrap">'
            f'{case.received_at.astimezone(zone):%Y-%m-%d}</td>'
            f'<td data-label="{who}">{esc(r.petitioner or "—")}</td>'
            f'<td data-label="{what}" class="matter">{esc(_short(case.matter, 48))} '
            f'{_flags_html(case, flag_labels)}</td>'
            f'<td data-label="{cat}" class="short-text">{esc(r.categories or "—")}</td>'
            f'<td data-label="{where}" class="short-text">{esc(place)}</td>'
            f'<td data-label="{units_label}">{esc(units)}</td>'
            f'<td data-label="{state}"><span class="state">'
            f'{esc(state_label(case.state, language))}</span>{closed}</td>'
            f'<td data-label="{clock}"><div class="clock-list">'
            f'{_clock_spans(r.clocks, shown=2, label_chars=14, language=language, zone=zone)}'
            '</div>'
            '</td></tr>')
    return mark_safe("\n".join(out))


def _yes_no(value, words: list[str]) -> str:
    """The ``yesno`` filter's word: yes, no, or the third word for None."""
    return words[2] if value is None else words[0] if value else words[1]


ROW_MARK = "__row__"  # where a row's number goes in HTML rendered once for every row


def backlog_rows_html(rows: list[dict], *, first: int, keeps: bool, progress_field: str,
                      csrf: str, once: Callable[[], str] = str) -> SafeString:
    """The ``<tr>`` of each line of the backlog register (L2; the view's row dicts: the line
    ``b`` and its petitioner, locality, categories, leader and units as text). ``keeps``: the
    reader keeps the register — each line offers its keep page and a progress form, whose
    field (``progress_field``, rendered once with ``ROW_MARK`` for the line's number) and CSRF
    input (``csrf``) come rendered, and ``once`` draws each form's one-time token
    (``security.once``). Through the template, fifty lines of fourteen cells were some 60 % of
    the page's time (1M cases)."""
    labels = [esc(x) for x in (
        _("序号"), _("编号"), _("初访时间"), _("信访人姓名"), _("问题所属地"), _("反映问题"),
        _("问题类别"), _("积案原因"), _("包案人"), _("责任单位"), _("三到位一处理"),
        _("是否稳定"), _("一案一策"), _("化解进展"))]
    no, number, first_on, who, where, problem, cat, reason, leader, units, four, stable, plan, \
        progress = labels
    words = [esc(w) for w in _("是,否,—").split(",")]
    resolved_tag = f'<span class="tag ok">{esc(_("已化解"))}</span>'
    solved, guided, assisted, by_law = (esc(x) for x in (
        _("解决"), _("引导"), _("救助"), _("依法")))
    deadline_words, outcome_words = _("化解时限 %(d)s"), esc(_("化解结果"))
    keep_words, record_words, save_words = (esc(x) for x in (
        _("更新处置情况 / 化解"), _("记录进展"), _("保存")))
    case_url, keep_url, progress_url = (
        urls_of(name, KEY) for name in ("web:case", "web:backlog_keep", "web:backlog_progress"))
    out = []
    for i, r in enumerate(rows):
        b = r["b"]
        if b.case_id is not None:
            shown = f'<a href="{esc(case_url(b.case_id))}">{esc(b.case.number)}</a>'
        else:
            shown = f'<span class="muted">{esc(b.get_entry_display())}</span>'
        if b.resolved_at:
            shown += resolved_tag
        on = f"{b.first_petition_on:%Y-%m-%d}" if b.first_petition_on else "—"
        plan_cell = f'<span>{esc(_short(b.plan, 60) or "—")}</span>'
        if b.plan_deadline:
            day = f"{b.plan_deadline:%Y-%m-%d}"
            plan_cell += f'<small class="muted deadline">{esc(deadline_words % {"d": day})}</small>'
        if b.resolved_at:
            plan_cell += f"<small>{outcome_words}：{esc(b.outcome)}</small>"
        if keeps:
            plan_cell += (f'<a href="{esc(keep_url(b.pk))}" class="small" data-keep="{b.pk}">'
                          f"{keep_words}</a>")
        if b.entries:
            entries = "".join(
                f'<li><small class="muted">{timezone.localtime(e.at):%m-%d} {esc(e.by)}</small>'
                f" {esc(e.text)}</li>" for e in b.entries)
            kept = f'<ol class="plain-list progress-list">{entries}</ol>'
        else:
            kept = '<span class="muted">—</span>'
        if keeps:
            kept += (
                f'<details class="inline-form"><summary>{record_words}</summary>'
                f'<form method="post" action="{esc(progress_url(b.pk))}" class="bare">{csrf}'
                f'{once()}'
                f'{progress_field.replace(ROW_MARK, str(b.pk))}'
                f'<button type="submit" class="small">{save_words}</button></form></details>')
        out.append(
            f'<tr id="backlog-{b.pk}"><td data-label="{no}">{first + i}</td>'
            f'<td data-label="{number}"><div class="cell-stack">{shown}</div></td>'
            f'<td data-label="{first_on}">{on}</td>'
            f'<td data-label="{who}">{esc(r["petitioner"] or "—")}</td>'
            f'<td data-label="{where}">{esc(r["locality"] or "—")}</td>'
            f'<td data-label="{problem}" class="matter">{esc(_short(b.problem, 48))}</td>'
            f'<td data-label="{cat}">{esc(r["categories"] or "—")}</td>'
            f'<td data-label="{reason}">{esc(b.reason)}</td>'
            f'<td data-label="{leader}">{esc(r["leader"] or "—")}</td>'
            f'<td data-label="{units}">{esc(r["units"] or "—")}</td>'
            f'<td data-label="{four}"><small>{solved} {_yes_no(b.solved, words)} · {guided} '
            f'{_yes_no(b.guided, words)} · {assisted} {_yes_no(b.assisted, words)} · {by_law} '
            f'{_yes_no(b.dealt_by_law, words)}</small></td>'
            f'<td data-label="{stable}">{_yes_no(b.stable, words)}</td>'
            f'<td data-label="{plan}"><div class="cell-stack">{plan_cell}</div></td>'
            f'<td data-label="{progress}" class="progress-cell">{kept}</td></tr>')
    return mark_safe("\n".join(out))


def field_html(f, wide=False, live="") -> SafeString:
    """One form field as ``partials/field.html`` wrote it through the template language: the
    label (with the required mark), the widget, a live region, the help text and the errors,
    for a hidden field, a group of choices (a fieldset), a checkbox or any other widget. The
    template looked up some thirty attributes of the bound field a field: thirteen fields of
    the case page's action forms were 5 ms of it at 1M cases (lead30)."""
    if f.is_hidden:
        return mark_safe(f"{f}\n")
    errors = f.errors
    auto_id = esc(f.auto_id)
    help_text = (f'<small class="help" id="{auto_id}_helptext">{esc(f.help_text)}</small>'
                 if f.help_text else "")
    error = (f'<small class="error" id="{auto_id}_error">'
             f'{"；".join(esc(e) for e in errors)}</small>' if errors else "")
    invalid = " invalid" if errors else ""
    required = '<span class="req" aria-hidden="true">*</span>' if f.field.required else ""
    if f.use_fieldset:
        described = f.aria_describedby
        described = f' aria-describedby="{esc(described)}"' if described else ""
        return mark_safe(
            f'\n<fieldset class="field choices{invalid}{" wide" if wide else ""}"{described}>\n'
            f"  <legend>{esc(f.label)}{required}</legend>\n  {f}\n  {help_text}\n  {error}\n"
            "</fieldset>\n\n")
    if f.widget_type == "checkbox":
        return mark_safe(
            f'\n<div class="field check{invalid}">\n'
            f'  {f} <label for="{esc(f.id_for_label)}">{esc(f.label)}</label>\n'
            f"  {help_text}\n  {error}\n</div>\n\n")
    wide = " wide" if wide or f.widget_type == "textarea" else ""
    region = f'<small class="live" id="{esc(live)}" aria-live="polite"></small>' if live else ""
    return mark_safe(
        f'\n<div class="field{invalid}{wide}">\n'
        f'  <label for="{esc(f.id_for_label)}">{esc(f.label)}{required}</label>\n'
        f"  {f}\n  {region}\n  {help_text}\n  {error}\n</div>\n\n")


# -- the case page's actions -----------------------------------------------------------------------


def errors_html(form) -> str:
    """``partials/form_errors.html``: the form's own errors (not a field's)."""
    errors = form.non_field_errors()
    if not errors:
        return ""
    items = "".join(f"<p>{esc(e)}</p>" for e in errors)
    return f'\n<div class="alert error" role="alert">\n  {items}\n</div>\n'


def _joined(values) -> str:
    """``values|join:"、"`` with autoescape on."""
    return "、".join(esc(v) for v in values)


def _action_fields(form) -> str:
    """What ``action_fields.html`` wrote of one action form (the template is kept as the
    tests' oracle): its errors, its version, the rules' proposals of an assignment, the
    demands' findings, or its visible fields."""
    out = [errors_html(form), str(form["version"])]
    if form.name == "assign" and form.proposals:
        lead, assist = esc(_("主办")), esc(_("协办"))
        items = []
        for p in form.proposals:
            seed = f' <small class="muted">（{esc(p["seed"])}）</small>' if p.get("seed") else ""
            helped = f"；{assist} {_joined(p['assist'])}" if p.get("assist") else ""
            items.append(f"<li>{esc(p.get('note') or p.get('rule'))}{seed}： {lead} "
                         f"{_joined(p.get('lead') or []) or '—'}{helped}</li>")
        out.append(f'<div class="proposals"><p><strong>{esc(_("规则建议"))}</strong></p>'
                   f'<ul>{"".join(items)}</ul></div>')
    if form.name == "record_finding":
        for d, finding, resolution, note in form.rows():
            out.append(
                f'<fieldset class="finding"><legend>{esc(_("第%(n)s项诉求") % {"n": d.seq})}'
                f'：{esc(_short(d.text, 40))} <span class="tag">{esc(d.category)}</span>'
                f"</legend>{field_html(finding)}{field_html(resolution)}{field_html(note)}"
                "</fieldset>")
    else:
        out.extend(field_html(f) for f in form.visible_fields())
    return "".join(out)


def actions_html(actions: list[dict], *, case_pk: int, csrf: str) -> SafeString:
    """The case page's actions, each a form posting to its transition, in the markup its
    template wrote (four actions through ``action_fields.html`` and its includes were a
    quarter of the page's template time): a form with inputs folded under its label, a bare
    one a single button, each value escaped by ``esc``. ``csrf``: the token's hidden input
    (``csrf_input(request)``, what ``{% csrf_token %}`` writes)."""
    if not actions:
        return mark_safe(f'<p class="empty">{esc(_("本件当前没有您可以办理的操作。"))}</p>')
    url = urls_of("web:case_action", case_pk, KEY)
    out = []
    for a in actions:
        form, name, step, label = a["form"], esc(a["name"]), esc(a["step"]), esc(a["label"])
        action = esc(url(a["name"]))
        if form.has_inputs:
            out.append(
                f'<details class="action step-{step}" id="action-{name}"'
                f'{" open" if a["open"] else ""}><summary><span class="step">{step}</span> '
                f'{label}</summary><form method="post" action="{action}" data-action="{name}" '
                f"novalidate>{csrf}{_action_fields(form)}"
                f'<div class="buttons"><button type="submit" class="primary">{label}</button>'
                "</div></form></details>\n")
        else:
            out.append(
                f'<form method="post" action="{action}" data-action="{name}" class="action bare" '
                f'id="action-{name}" novalidate>{csrf}{errors_html(form)}{form["version"]}'
                f'<button type="submit" class="primary wide"><span class="step">{step}</span> '
                f"{label}</button></form>\n")
    return mark_safe("".join(out))
