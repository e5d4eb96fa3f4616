import getpass

from django.core.management.base import BaseCommand, CommandError

from xinfang.cases.errors import Refused
from xinfang.cases.models import Case
from xinfang.org.models import User
from xinfang.security.models import Recusal
from xinfang.security.services import recusal_declare, recusal_withdraw


class Command(BaseCommand):
    help = "回避申报：declare USER --case 编号 | --matter 关键词 --reason 理由；list；withdraw ID"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        declare = sub.add_parser("declare")
        declare.add_argument("username")
        declare.add_argument("--case", help="信访件编号")
        declare.add_argument("--matter", default="", help="事项关键词")
        declare.add_argument("--reason", required=True)
        sub.add_parser("list")
        withdraw = sub.add_parser("withdraw")
        withdraw.add_argument("id", type=int)
        withdraw.add_argument("--reason", required=True)

    def handle(self, *args, **options):
        try:
            getattr(self, f"_{options['action']}")(options)
        except Refused as e:
            raise CommandError(f"{e.field or ''}：{e.message}") from e

    def _declare(self, o):
        user = User.objects.filter(username=o["username"]).first()
        if user is None:
            raise CommandError(f"username：没有用户 {o['username']}")
        case = None
        if o["case"]:
            case = Case.objects.filter(number=o["case"]).first()
            if case is None:
                raise CommandError(f"--case：没有编号为 {o['case']} 的信访件")
        r = recusal_declare(user=user, case=case, matter_words=o["matter"], reason=o["reason"],
                            actor_name=_operator())
        self.stdout.write(f"已登记回避 #{r.pk}：{user} — {r.reason}")

    def _list(self, o):
        for r in Recusal.objects.select_related("user", "case").order_by("pk"):
            state = "有效" if r.is_active else "已撤回"
            target = r.case.number if r.case else (r.matter_words or f"信访人#{r.petitioner_id}")
            self.stdout.write(f"#{r.pk} {state} {r.user.username} {target} {r.reason}")

    def _withdraw(self, o):
        r = Recusal.objects.filter(pk=o["id"]).first()
        if r is None:
            raise CommandError(f"id：没有回避申报 #{o['id']}")
        recusal_withdraw(recusal=r, by=None, reason=o["reason"], actor_name=_operator())
        self.stdout.write(f"已撤回回避 #{r.pk}")


def _operator() -> str:
    """The command line acts as no membership: the audit entry names the system account."""
    try:
        return f"命令行（{getpass.getuser()}）"
    except (KeyError, OSError):
        return "命令行"
