from django import template
from django.template.backends.utils import csrf_input
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from xinfang.web.present import KEY, esc, urls_of

from ..instruments import INSTRUMENTS
from ..selectors import documents_of
from ..services import ISSUERS

register = template.Library()

FROZEN = _l("文书一经出具即固定保存（SHA-256 校验），不再重新生成；更正另出新版本并写明理由。"
            "承办单位下载的文书中，要求保密的信访人信息已脱敏。")
WHOLE_FILE = _l("下载一案一档（ZIP：卷内目录、已出具文书、附件、办理记录、台账、校验清单）")
IN_BACKGROUND = _l("后台生成案卷（含 PDF，完成后在“后台任务”中下载）")


@register.simple_tag(takes_context=True)
def case_documents(context, case) -> SafeString:
    """The case page's 文书下载 block: every instrument, issued or what it still waits for.
    Written in Python as the page's history is (a dozen instruments through the template
    engine, each with two addresses, were a tenth of the page's template time)."""
    request = context["request"]
    m = getattr(request, "membership", None)
    return instruments_html(case.pk, documents_of(case), csrf=csrf_input(request),
                            may_issue=m is not None and m.role in ISSUERS)


def instruments_html(case_pk: int, rows, *, csrf: str, may_issue: bool) -> SafeString:
    """The block for the case ``case_pk``'s instruments ``rows`` (``documents_of``); ``csrf``:
    the token's hidden input (``csrf_input(request)``); ``may_issue``: the reader may ask for
    an instrument not frozen yet to be issued now (``services.ISSUERS``). A supervision order
    (D8) is issued with its own fields, not by a button."""
    docx, pdf = (urls_of("documents:download", pk=case_pk, code=KEY, fmt=f)
                 for f in ("docx", "pdf"))
    zone = timezone.get_current_timezone()
    pending = esc(_("办理步骤完成后由后台自动出具（也可以现在出具）") if may_issue
                  else _("办理步骤完成后由后台自动出具"))
    corrected, get_docx, get_pdf = esc(_("更正")), esc(_("下载 DOCX")), esc(_("下载 PDF（打印）"))
    issue = esc(_("出具并下载 DOCX"))
    lines = []
    for r in rows:
        if r.reason_not and not r.issued:  # not issued, and cannot be yet: not offered
            continue
        code = esc(r.code)
        if r.issued:
            reason = f"（{corrected}：{esc(r.issued.reason)}）" if r.issued.reason else ""
            version = (f"v{esc(r.issued.version)} · "
                       f"{r.issued.issued_at.astimezone(zone):%Y-%m-%d %H:%M}{reason}")
        else:
            # Not frozen yet: issued by a POST, never by following a link (a GET changes nothing).
            button = (
                f'<form method="post" action="{esc(docx(r.code))}" class="inline">{csrf}'
                f'<button type="submit" class="secondary" data-document="{code}-issue">'
                f"{issue}</button></form>"
            ) if may_issue and not INSTRUMENTS[r.code].params else ""
            lines.append(
                f"<tr><td>{code} {esc(r.title)}</td>"
                f'<td><span class="muted">{pending}</span></td><td>{button}</td></tr>\n')
            continue
        lines.append(
            f"<tr><td>{code} {esc(r.title)}</td><td>{version}</td><td>"
            f'<a href="{esc(docx(r.code))}" data-document="{code}-docx">'
            f"{get_docx}</a> · "
            f'<a href="{esc(pdf(r.code))}" data-document="{code}-pdf">'
            f"{get_pdf}</a></td></tr>\n")
    return mark_safe(
        '<section class="card" id="instruments" aria-labelledby="instruments-title">'
        f'<h2 id="instruments-title">{esc(_("文书下载（Word / PDF）"))}</h2>'
        f'<p class="muted">{esc(FROZEN)}</p>'
        '<div class="table-wrap"><table><thead><tr>'
        f'<th>{esc(_("文书"))}</th><th>{esc(_("版本"))}</th><th>{esc(_("下载"))}</th>'
        f'</tr></thead><tbody>{"".join(lines)}</tbody></table></div>'
        f'<p><a href="{esc(reverse("documents:archive", kwargs={"pk": case_pk}))}" data-archive>'
        f"{esc(WHOLE_FILE)}</a></p>"
        f'<form method="post" action="{esc(reverse("jobs:new"))}" class="inline" id="archive-job">'
        f"{csrf}"
        '<input type="hidden" name="kind" value="archive">'
        f'<input type="hidden" name="case_id" value="{case_pk}">'
        '<input type="hidden" name="pdf" value="1">'
        f'<button type="submit" class="secondary">{esc(IN_BACKGROUND)}</button>'
        "</form></section>")
