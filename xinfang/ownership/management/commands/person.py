"""``xinfang person ID --as USER``: a person's page as JSON (masked), as the user may see it."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from xinfang.api.membership import membership_of, parse_id
from xinfang.cases.selectors import door_remember
from xinfang.org.choices import ADMIN_ROLES
from xinfang.org.models import User
from xinfang.ownership.people import PersonNotFound, person_for
from xinfang.ownership.present import person_data


class Command(BaseCommand):
    help = "信访人的全部信访件（按事项归并）、待办预警和包案情况，以JSON输出（身份信息脱敏）。"

    def add_arguments(self, parser):
        parser.add_argument("person", type=int, help="信访人编号")
        parser.add_argument("--as", dest="username", required=True, help="以该用户的身份查看")
        parser.add_argument("--membership", type=int, help="任职编号（默认：第一个有效任职）")

    def handle(self, *args, **options):
        user = User.objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"--as：没有有效用户“{options['username']}”。")
        membership = membership_of(user, options["membership"])
        if membership is None or membership.role in ADMIN_ROLES:
            raise CommandError(f"--as：{user.username}没有可查看信访件的有效任职。")
        door_remember(membership)
        try:
            # an id past the database's range is no one's (SQLite overflowed on it)
            if parse_id(str(options["person"])) is None:
                raise PersonNotFound(options["person"])
            found = person_for(membership, options["person"])
        except PersonNotFound:
            raise CommandError(
                f"person：没有这位信访人（{options['person']}），或您无权查看。") from None
        self.stdout.write(json.dumps(person_data(found), ensure_ascii=False, indent=2))
