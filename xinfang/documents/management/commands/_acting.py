"""The command line acts as a user, through the same door as the pages and the API."""

from __future__ import annotations

from django.core.management.base import CommandError

from xinfang.api.membership import membership_of, parse_id
from xinfang.cases.models import Case
from xinfang.cases.selectors import case_for
from xinfang.org.choices import ADMIN_ROLES
from xinfang.org.models import Membership, User


def acting(username: str, membership_id: int | None = None) -> Membership:
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"没有有效用户“{username}”。")
    membership = membership_of(user, membership_id)
    if membership is None:
        raise CommandError(f"{username}没有有效任职。")
    if membership.role in ADMIN_ROLES:
        raise CommandError("系统管理员、安全管理员和审计管理员不能查看信访件（三员分立）。")
    return membership


def case_by_number_or_id(by: Membership, ref: str) -> Case:
    """The case named by its number (建安信〔2026〕0001号) or id, if ``by`` may see it."""
    ref = ref.strip()
    pk = Case.objects.filter(number=ref).values_list("pk", flat=True).first()
    if pk is None:
        pk = parse_id(ref)  # ASCII digits: "²" passes isdigit() and fails int()
    try:
        return case_for(by, pk or 0)
    except Case.DoesNotExist:
        raise CommandError(f"没有信访件“{ref}”，或 {by.user.username} 无权查看。") from None
