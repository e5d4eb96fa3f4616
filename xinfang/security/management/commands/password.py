import getpass

from django.core.management.base import BaseCommand, CommandError

from xinfang.org.models import User
from xinfang.web.admin_services import AdminRefused
from xinfang.web.password_services import password_reset_by_operator


class Command(BaseCommand):
    help = ("密码：reset 用户名 — 由服务器运维人员（本就掌握全部密钥）重置一个普通账户的密码，"
            "一次性密码打印给运行命令的人，本人首次登录时须修改；等待领导领取的重置随之作废。"
            "页面上系统管理员重置的一次性密码不显示给管理员，由账户所在单位的分管领导或主要领导"
            "在“密码转交”页面领取。管理员账户的重置须由另一名管理员批准，不在此办理。")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        reset = sub.add_parser("reset", help="重置普通账户的密码并打印一次性密码（只显示这一次）")
        reset.add_argument("username")

    def handle(self, *args, **options):
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"username：没有用户名为 {options['username']} 的账户")
        try:
            password = password_reset_by_operator(user=user, actor_name=_operator())
        except AdminRefused as e:
            raise CommandError(e.message) from e
        self.stdout.write(f"已重置 {user.username}（{user}）的密码；其首次登录时须修改。")
        self.stdout.write("一次性密码（只显示这一次，请当面交给本人）：")
        self.stdout.write(password)


def _operator() -> str:
    """The command line acts as no membership: the audit entry names who ran it."""
    try:
        return f"命令行（{getpass.getuser()}）"
    except (KeyError, OSError):
        return "命令行"
