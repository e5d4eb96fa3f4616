from django import template

from ..selectors import documents_of

register = template.Library()


@register.inclusion_tag("documents/case_documents.html")
def case_documents(case):
    """The case page's 文书下载 block: every instrument, issued or what it still waits for."""
    rows = documents_of(case)
    return {
        "case": case,
        "rows": rows,
        "any_issuable": any(r.issued or not r.reason_not for r in rows),
    }
