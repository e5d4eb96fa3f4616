"""The case page's sections written in Python, in the markup ``web/case.html`` wrote for them.

Through the template engine the page's content cost several milliseconds of CPU beyond what its
rows take to read: each ``{% translate %}``, ``{% url %}``, ``|date`` and ``get_…_display`` is a
walk through the engine's nodes and the request's thread-locals, and the page has some three
hundred of them. Each function here writes one section from what the view has already read;
every value is escaped as the template escaped it (``present.esc``), and a choice's label is
``choices.label_of``'s (what ``get_…_display`` says, without hashing the field's labels on each
call). Nothing is decided here:
what a petitioner's card shows (masked or revealed) is worked out by the view
(``views.cases._petitioners``) and only written out.
"""

from __future__ import annotations

from django.template.defaultfilters import filesizeformat, linebreaks_filter, linebreaksbr
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from xinfang.cases import choices as c
from xinfang.cases.choices import label_of
from xinfang.oversight.services import ISSUERS

from .present import errors_html, esc, field_html, role_label


def _at(value, zone, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """``{{ value|date:"Y-m-d H:i" }}``: the moment in the current time zone, or nothing."""
    return value.astimezone(zone).strftime(fmt) if value else ""


def _or_dash(value) -> str:
    """``{{ value|default:"—" }}``."""
    return esc(value) if value else "—"


# -- 信访人 ----------------------------------------------------------------------------------------


def petitioner_card_html(row: dict, case_pk: int, csrf: str) -> SafeString:
    """One petitioner's card: what ``views.cases._petitioners`` decided to show (the masked or
    the revealed values), and the form that asks to reveal them for whom may."""
    p, link = row["p"], row["link"]
    role = esc(label_of(c.PetitionerRole, link.role))
    name = f'{esc(row["name"])} <span class="tag">{role}</span>'
    if row["confidential"]:
        name += f' <span class="tag">{esc(_("要求保密"))}</span>'
    if row["person_url"]:
        name += (f' <a href="{esc(row["person_url"])}" class="person-link">'
                 f'{esc(_("全部信访件"))}</a>')
    gender = _or_dash(label_of(c.Gender, p.gender))
    if p.birth_year:
        gender += " · " + esc(_("%(y)s年生") % {"y": p.birth_year})
    household = ""
    if p.exited_household or p.monitored_household:
        kinds = (f'{esc(_("脱贫户"))} ' if p.exited_household else "") + (
            esc(_("监测对象")) if p.monitored_household else "")
        household = f'\n    <dt>{esc(_("户类"))}</dt><dd>{kinds}</dd>'
    tail = ""
    if row["revealed"]:
        tail = (f'\n  <p class="revealed-note" role="status">'
                f'{esc(_("已显示完整信息，本次查看已记入审计日志。"))}</p>')
    elif row["may_reveal"]:
        form = row["reveal_form"]
        url = esc(reverse("web:case_reveal", args=[case_pk]))
        tail = (
            f'\n  <details class="reveal"{" open" if form.errors else ""}>\n'
            f'    <summary>{esc(_("显示完整信息"))}</summary>\n'
            f'    <form method="post" action="{url}" hx-post="{url}" '
            f'hx-target="#petitioner-{p.pk}" hx-swap="outerHTML" novalidate>\n'
            f"      {csrf}\n      {form['petitioner']}\n      {field_html(form['reason'])}\n"
            f'      <div class="buttons"><button type="submit" class="small">{esc(_("显示"))}'
            "</button></div>\n    </form>\n  </details>")
    return mark_safe(
        f'\n<div class="person-card" id="petitioner-{p.pk}">\n  <dl class="pairs">\n'
        f'    <dt>{esc(_("姓名"))}</dt><dd>{name}</dd>\n'
        f'    <dt>{esc(_("性别"))}</dt><dd>{gender}</dd>\n'
        f'    <dt>{esc(_("身份证号"))}</dt><dd>{_or_dash(row["id_number"])}</dd>\n'
        f'    <dt>{esc(_("联系电话"))}</dt><dd>{_or_dash(row["phone"])}</dd>\n'
        f'    <dt>{esc(_("住址"))}</dt><dd>{_or_dash(row["address"])}</dd>{household}\n'
        f"  </dl>{tail}\n</div>\n")


def petitioners_html(rows: list[dict], case_pk: int, csrf: str) -> SafeString:
    if not rows:
        return mark_safe(f'<p class="empty">{esc(_("无"))}</p>')
    return mark_safe("".join(petitioner_card_html(row, case_pk, csrf) for row in rows))


# -- 交办 ------------------------------------------------------------------------------------------


def assignments_html(assignments: list) -> SafeString:
    """The 交办 section: each assignment's unit, role, status, time, receiver and signing."""
    if not assignments:
        return mark_safe("")
    zone = timezone.get_current_timezone()
    heads = "".join(f'<th scope="col">{esc(h)}</th>' for h in (
        _("承办单位"), _("主协办"), _("状态"), _("交办时间"), _("接收人"), _("签收")))
    responsible, unsigned = esc(_("责任人")), esc(_("未签收"))
    rows = []
    for a in assignments:
        receiver = esc(a.receiver_name)
        if a.responsible_person:
            receiver += f"（{responsible}{esc(a.responsible_person)}）"
        signed = (f"{_at(a.signed_for_at, zone)} {esc(a.signed_for_by)}" if a.signed_for_at
                  else f'<span class="muted">{unsigned}</span>')
        rows.append(
            f"      <tr><td>{esc(a.unit)}</td><td>{esc(label_of(c.AssignmentRole, a.role))}</td>"
            f"<td>{esc(label_of(c.AssignmentStatus, a.status))}</td>"
            f"<td>{_at(a.assigned_at, zone)}</td>"
            f"<td>{receiver}</td><td>{signed}</td></tr>\n")
    return mark_safe(
        '<section class="card" id="assignments" aria-labelledby="assignments-title">\n'
        f'  <h2 id="assignments-title">{esc(_("交办"))}</h2>\n  <div class="table-wrap">\n'
        f'  <table class="plain">\n    <thead><tr>{heads}</tr></thead>\n    <tbody>\n'
        f'{"".join(rows)}    </tbody>\n  </table>\n  </div>\n</section>\n')


# -- 文书与签批 ------------------------------------------------------------------------------------


def _delivery_html(d, recipient: str, zone, words: dict) -> str:
    if d.receipt_signed:
        outcome = words["signed"]
    elif d.refused:
        outcome = f'{words["refused"]}（{words["witness"]} {esc(d.witness)}）'
    else:
        outcome = words["unsigned"]
    mode = esc(label_of(c.DeliveryMode, d.mode))
    return (f'    <p class="delivery">{words["delivery"]}：{mode} · '
            f'{_at(d.delivered_at, zone)} · {words["deliverer"]} {esc(d.deliverer)} · '
            f'{words["recipient"]} {esc(recipient)} ·\n      {outcome}</p>\n')


def documents_html(documents: list, signatures: list) -> SafeString:
    """The 文书与签批 section: each document with its deliveries (the recipient's name as the
    view masked it, ``doc.delivery_rows``), then the signing record."""
    if not documents and not signatures:
        return mark_safe("")
    zone = timezone.get_current_timezone()
    words = {k: esc(v) for k, v in {
        "delivery": _("送达"), "deliverer": _("送达人"), "recipient": _("受送达人"),
        "signed": _("已签收回证"), "refused": _("拒收"), "witness": _("见证人"),
        "unsigned": _("未签收"), "drafted": _("起草"), "approved": _("审批"),
        "issued": _("出具"), "body": _("正文")}.items()}
    out = ['<section class="card" id="documents" aria-labelledby="documents-title">\n'
           f'  <h2 id="documents-title">{esc(_("文书与签批"))}</h2>\n']
    for doc in documents:
        off = " off" if doc.status == "superseded" else ""
        line = f'{words["drafted"]} {_at(doc.created_at, zone)} {esc(doc.created_by)}'
        if doc.approved_at:
            line += f' · {words["approved"]} {_at(doc.approved_at, zone)}'
        if doc.issued_at:
            line += f' · {words["issued"]} {_at(doc.issued_at, zone)}'
        body = ""
        if doc.body:
            notice = doc.data.get("review_notice") if isinstance(doc.data, dict) else None
            notice = f"<p>{esc(notice)}</p>" if notice else ""
            body = (f'    <details><summary>{words["body"]}</summary><div class="doc-body">'
                    f"{linebreaks_filter(doc.body)}</div>{notice}</details>\n")
        deliveries = "".join(_delivery_html(d, recipient, zone, words)
                             for d, recipient in doc.delivery_rows)
        out.append(
            f'  <article class="doc">\n    <h3>{esc(label_of(c.DocumentKind, doc.kind))} '
            f'<span class="tag{off}">{esc(label_of(c.DocumentStatus, doc.status))}</span></h3>\n'
            f'    <p class="muted">{line}</p>\n{body}{deliveries}  </article>\n')
    if signatures:
        items = []
        for s in signatures:
            note = f"：{esc(s.note)}" if s.note else ""
            items.append(f"<li>{_at(s.at, zone)} · {esc(label_of(c.SignatureStage, s.stage))} · "
                         f"{esc(s.user)}（{esc(role_label(s.role or ''))}）{note}</li>")
        out.append(f'  <h3>{esc(_("签批记录"))}</h3>\n  <ul class="plain-list">\n    '
                   f'{"".join(items)}\n  </ul>\n')
    out.append("</section>\n")
    return mark_safe("".join(out))


# -- 附件 ------------------------------------------------------------------------------------------


def attachments_html(case_pk: int, attachments: list, upload_form, csrf: str) -> SafeString:
    """The 附件 section: the list, and the upload form for whom may upload (``upload_form``
    None: no form)."""
    zone = timezone.get_current_timezone()
    if attachments:
        items = []
        for a in attachments:
            url = esc(reverse("web:attachment_download", args=[case_pk, a.pk]))
            described = f" — {esc(a.description)}" if a.description else ""
            items.append(
                f'    <li><a href="{url}">{esc(a.original_name)}</a> <span class="muted">'
                f"{esc(filesizeformat(a.size))} · {_at(a.uploaded_at, zone)} · "
                f"{esc(a.uploaded_by)}</span>{described}</li>\n")
        listed = f'  <ul class="plain-list">\n{"".join(items)}  </ul>\n'
    else:
        listed = f'  <p class="empty">{esc(_("暂无附件。"))}</p>\n'
    form = ""
    if upload_form is not None:
        url = esc(reverse("web:attachment_upload", args=[case_pk]))
        form = (
            f'  <form method="post" action="{url}" enctype="multipart/form-data" '
            f'class="upload" novalidate>\n    {csrf}\n    {errors_html(upload_form)}\n'
            '    <div class="grid">\n'
            f'      {field_html(upload_form["file"])}\n'
            f'      {field_html(upload_form["description"])}\n    </div>\n'
            f'    <div class="buttons"><button type="submit">{esc(_("上传"))}</button></div>\n'
            "  </form>\n")
    return mark_safe(
        '<section class="card" id="attachments" aria-labelledby="attachments-title">\n'
        f'  <h2 id="attachments-title">{esc(_("附件"))}</h2>\n{listed}{form}</section>\n')


# -- 督办·审核·代办 (issue 17) ---------------------------------------------------------------------

def oversight_links_html(case_pk: int, role: str) -> SafeString:
    """The supervisor's practices on the case: 督办, 结案审核 and 核查报结 for whom may issue
    them (``oversight.services.ISSUERS``, the roles the services accept), 代办 for all."""
    links = []
    if role in ISSUERS:
        links += [
            f'<a href="{esc(reverse("oversight:order_new"))}?case={case_pk}">'
            f'{esc(_("督办"))}</a>',
            f'<a href="{esc(reverse("oversight:review", args=[case_pk]))}">'
            f'{esc(_("结案审核"))}</a>',
            f'<a href="{esc(reverse("oversight:verify", args=[case_pk]))}">'
            f'{esc(_("核查报结"))}</a>']
    links.append(f'<a href="{esc(reverse("oversight:proxy", args=[case_pk]))}">'
                 f'{esc(_("代办"))}</a>')
    return mark_safe(f'<p class="oversight-links" id="oversight-links">\n{" · ".join(links)}'
                     "</p>\n")


# -- 基本情况 -------------------------------------------------------------------------------


def case_head_html(case, has_actions: bool) -> SafeString:
    """The page's heading: the number, the state, the kind, the channel and when it came."""
    zone = timezone.get_current_timezone()
    jump = (f' · <a href="#actions">{esc(_("跳到可办理的操作"))}</a>' if has_actions else "")
    return mark_safe(
        '<div class="page-head case-head">\n'
        f'  <h1>{esc(case.number)} <span class="state state-big">'
        f"{esc(label_of(c.State, case.state))}</span></h1>\n"
        f'  <p class="muted">{esc(label_of(c.Kind, case.kind))} · '
        f'{esc(label_of(c.Channel, case.channel))}'
        f' · {esc(_("信访时间"))} {_at(case.received_at, zone)}\n    {jump}</p>\n</div>\n')


def _tags(case) -> str:
    """The 情形 line: each situation the case is in, or a dash for none."""
    warn = [(case.level_skipping, _("越级访")), (case.collective, _("集体访")),
            (case.extreme_behaviour, _("极端行为"))]
    plain = [(case.key_case, _("重点信访件")), (case.confidential, _("信访人要求保密")),
             (case.exited_household, _("脱贫户")), (case.monitored_household, _("监测对象")),
             (case.concerns_misconduct, _("反映干部违纪违法"))]
    out = []
    if case.repeat_count:
        out.append(f'<span class="tag warn">'
                   f'{esc(_("第%(n)s次信访") % {"n": case.repeat_count + 1})}</span>')
    out += [f'<span class="tag warn">{esc(label)}</span>' for on, label in warn if on]
    out += [f'<span class="tag">{esc(label)}</span>' for on, label in plain if on]
    none = not out  # the dash as the template had it: the transfer alone does not lift it
    if case.transferred_to_discipline:
        out.append(f'<span class="tag">{esc(_("已移送纪检监察"))}</span>')
    if none:
        out.append("—")
    return "\n      ".join(out)


def summary_html(case, *, leader_instruction, show_query_code: bool,
                 respondents: list) -> SafeString:
    """The 基本情况 section: the matter and every fact of the case that is set."""
    zone = timezone.get_current_timezone()
    lines: list[str] = []

    def add(label, value: str) -> None:
        """One fact: ``value`` is HTML already."""
        lines.append(f"    <dt>{esc(label)}</dt><dd>{value}</dd>\n")

    add(_("事项类型"), esc(label_of(c.MatterType, case.matter_type)))
    add(_("登记时间"), _at(case.registered_at, zone))
    if case.accepted_at:
        add(_("受理时间"), _at(case.accepted_at, zone))
    add(_("来访人数"), esc(case.headcount))
    place = esc(case.township) if case.township else "—"
    add(_("问题属地"), place + (f" {esc(case.village)}" if case.village else ""))
    if case.is_referred:
        add(_("上级交办"), f"{esc(label_of(c.SourceLevel, case.source_level))} "
                          f"{esc(case.source_office)} "
                          f"{esc(case.source_reference)}")
    if leader_instruction:
        add(_("领导批示"), esc(leader_instruction))
    lines.append(f'    <dt>{esc(_("情形"))}</dt>\n    <dd class="tags">\n      '
                 f"{_tags(case)}\n    </dd>\n")
    for field, label in (("repeat_of", _("重复信访于")), ("review_of", _("复查（复核）原件")),
                         ("merged_into", _("合并至"))):
        if getattr(case, field):
            add(label, esc(getattr(case, field).number))
    if case.proposal:
        add(_("处置建议"), linebreaksbr(case.proposal))
    if case.decline_reason:
        add(_("不予受理理由"), esc(case.decline_reason))
        add(_("引导去向"), esc(case.guidance))
    if case.reply_mode_required == "written":
        add(_("答复方式"), esc(_("须书面答复")))
    if case.leader_owner:
        add(_("包案领导"), esc(case.leader_owner))
    if case.rating:
        add(_("满意度"), f"{esc(label_of(c.Rating, case.rating))}（"
                        f"{_at(case.rating_at, zone, '%Y-%m-%d')}）")
    for field, label in (("reported_back_at", _("反馈交办机关")), ("closed_at", _("销号时间")),
                         ("archived_at", _("归档时间"))):
        if getattr(case, field):
            add(label, _at(getattr(case, field), zone))
    if show_query_code and case.query_code:
        add(_("查询码"), f'<code class="query-code">{esc(case.query_code)}</code> '
                        f'<small class="muted">{esc(_("告知信访人，用于查询办理进度"))}</small>')
    if respondents:
        add(_("被反映对象"), "、".join(
            esc(r.name) + (f"（{esc(r.position)}）" if r.position else "") for r in respondents))
    return mark_safe(
        '<section class="card" id="summary" aria-labelledby="summary-title">\n'
        f'  <h2 id="summary-title">{esc(_("基本情况"))}</h2>\n'
        f'  <p class="matter-text">{linebreaksbr(case.matter)}</p>\n'
        f'  <dl class="pairs">\n{"".join(lines)}  </dl>\n</section>\n')


# -- 诉求与核查认定, 预警提醒单 --------------------------------------------------------------


def demands_html(demands: list) -> SafeString:
    items = []
    for d in demands:
        if d.finding:
            finding = f"<strong>{esc(label_of(c.Finding, d.finding))}</strong>"
            if d.resolution_class:
                finding += f" · {esc(label_of(c.ResolutionClass, d.resolution_class))}"
            if d.finding_note:
                finding += f" — {esc(d.finding_note)}"
            finding = f'<p class="finding">{finding}</p>'
        else:
            finding = f'<p class="muted">{esc(_("尚未核查认定"))}</p>'
        items.append(f'    <li>\n      <p>{esc(d.text)} <span class="tag">{esc(d.category)}'
                     f"</span></p>\n      {finding}\n    </li>\n")
    return mark_safe(
        '<section class="card" id="demands" aria-labelledby="demands-title">\n'
        f'  <h2 id="demands-title">{esc(_("诉求与核查认定"))}</h2>\n'
        f'  <ol class="demands">\n{"".join(items)}  </ol>\n</section>\n')


def warnings_html(warnings: list) -> SafeString:
    """The 预警提醒单 section: each notice, whom it went to, and its answer or none yet."""
    if not warnings:
        return mark_safe("")
    zone = timezone.get_current_timezone()
    to, answered, unanswered = esc(_("送")), esc(_("已回复")), esc(_("未回复"))
    items = []
    for w in warnings:
        answer = (f" · {answered} {_at(w.answered_at, zone)}：{esc(w.cause)}；{esc(w.measures)}"
                  if w.answered_at else f" · <strong>{unanswered}</strong>")
        items.append(
            f"    <li>{_at(w.issued_at, zone)} · {'、'.join(esc(r) for r in w.reasons)} · {to} "
            f"{esc('、'.join(role_label(r) for r in w.to_roles or []))}\n      {answer}</li>\n")
    return mark_safe(
        '<section class="card" id="warnings" aria-labelledby="warnings-title">\n'
        f'  <h2 id="warnings-title">{esc(_("预警提醒单"))}</h2>\n'
        f'  <ul class="plain-list">\n{"".join(items)}  </ul>\n</section>\n')
