"""回避申报: the form that puts a recusal on record, and the one that withdraws it."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from xinfang.cases import choices as c
from xinfang.cases.selectors import cases_for
from xinfang.org.choices import ADMIN_ROLES
from xinfang.org.models import Membership, User
from xinfang.security.services import led_jurisdiction

from .common import ModelChoice, PlainForm, choice, text

TARGETS = [
    ("case", _("本件信访件")),
    ("petitioner", _("本件信访人（其全部信访件）")),
    ("matter", _("事项关键词（含此关键词的全部信访件）")),
]


def declarable_users(m: Membership):
    """Whom this membership may declare for: itself, and a leader's jurisdiction staff."""
    home = led_jurisdiction(m)
    if home is None:
        return User.objects.filter(pk=m.user_id)
    staff = (
        Membership.objects.filter(is_active=True, unit__path__under=home.path)
        .exclude(role__in=ADMIN_ROLES)
        .values("user")
    )
    return User.objects.filter(pk__in=staff, is_active=True).order_by("username")


class RecusalForm(PlainForm):
    user = ModelChoice(label=_("回避人"), queryset=User.objects.none(), empty_label=None)
    target = choice(_("回避对象"), TARGETS, initial="case", radio=True)
    case_number = text(_("信访件编号"), required=False, max_length=60,
                       help_text=_("回避信访件或其信访人时填写，如“建安信〔2026〕0001号”。"))
    matter_words = text(_("事项关键词"), required=False, max_length=100,
                        help_text=_("至少两个字；事项中含此关键词的信访件均回避。"))
    reason = text(_("回避理由"), max_length=200,
                  help_text=_("如：信访人系本人亲属；本人负责该项目验收。"))

    def __init__(self, *args, membership: Membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.membership = membership
        self.fields["user"].queryset = declarable_users(membership)
        self.fields["user"].initial = membership.user_id
        self.fields["user"].label_from_instance = lambda u: f"{u}（{u.username}）"

    def clean(self):
        data = super().clean()
        target = data.get("target")
        data["case"] = data["petitioner"] = None
        if target in ("case", "petitioner"):
            number = (data.get("case_number") or "").strip()
            if not number:
                self.add_error("case_number", _("请填写信访件编号。"))
                return data
            case = cases_for(self.membership).filter(number=number).first()
            if case is None:
                self.add_error("case_number", _("没有这个信访件，或您无权查看。"))
                return data
            data["case"] = case if target == "case" else None
            if target == "petitioner":
                link = case.petitioner_links.filter(role__in=c.PETITIONING_ROLES)
                link = link.order_by("role", "pk")
                link = link.select_related("petitioner").first()
                if link is None:
                    self.add_error("case_number", _("本件没有登记信访人。"))
                    return data
                data["petitioner"] = link.petitioner
            data["matter_words"] = ""
        elif target == "matter":
            if len((data.get("matter_words") or "").strip()) < 2:
                self.add_error("matter_words", _("事项关键词至少两个字，以免误伤无关案件。"))
        return data


class WithdrawForm(PlainForm):
    reason = text(_("撤回理由"), max_length=200)
