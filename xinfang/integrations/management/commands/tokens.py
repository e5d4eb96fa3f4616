import getpass
from datetime import datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from xinfang.cases.errors import Refused
from xinfang.integrations.models import ApiToken, Scope
from xinfang.integrations.services import token_create, token_revoke
from xinfang.org.models import Membership


class Command(BaseCommand):
    help = ("接口令牌：create --membership ID --name 名称 --scope read|register|intake|transition "
            "[--expires YYYY-MM-DD]；list；revoke ID。"
            "create 把令牌打印给运行命令的服务器运维人员（其本就掌握全部密钥）；"
            "页面上管理员只授权，令牌由任职本人在“我的令牌”页面领取。")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser(
            "create", help="为一个任职创建令牌并打印给运行本命令的运维人员（只显示这一次）；"
                           "页面上的授权则由任职本人领取")
        create.add_argument("--membership", type=int, required=True, help="任职编号")
        create.add_argument("--name", required=True, help="对接的系统，如“12345热线”")
        create.add_argument("--scope", action="append", required=True, choices=Scope.values,
                            help="权限范围，可重复")
        create.add_argument("--expires", help="有效期至（含当日），YYYY-MM-DD")
        sub.add_parser("list", help="列出全部令牌（不显示令牌本身）")
        revoke = sub.add_parser("revoke", help="撤销令牌")
        revoke.add_argument("id", type=int)

    def handle(self, *args, **options):
        try:
            getattr(self, f"_{options['action']}")(options)
        except Refused as e:
            raise CommandError(f"{e.field or ''}：{e.message}" if e.field else e.message) from e

    def _create(self, o):
        membership = (Membership.objects.select_related("user", "unit")
                      .filter(pk=o["membership"]).first())
        if membership is None:
            raise CommandError(f"--membership：没有编号为 {o['membership']} 的任职")
        expires = None
        if o["expires"]:
            try:
                day = datetime.strptime(o["expires"], "%Y-%m-%d").date()
            except ValueError:
                raise CommandError("--expires：日期格式应为 YYYY-MM-DD") from None
            expires = timezone.make_aware(datetime.combine(day, time.max))
        token, raw = token_create(membership=membership, name=o["name"], scopes=o["scope"],
                                  expires_at=expires, actor_name=_operator())
        self.stdout.write(f"已创建令牌 #{token.pk}：{token.name} → {membership}")
        self.stdout.write(f"权限范围：{token.scope_labels()}")
        self.stdout.write("令牌（只显示这一次，请妥善保存）：")
        self.stdout.write(raw)

    def _list(self, o):
        tokens = ApiToken.objects.select_related("membership__user", "membership__unit")
        for t in tokens.order_by("pk"):
            expires = f" 至{timezone.localtime(t.expires_at):%Y-%m-%d}" if t.expires_at else ""
            self.stdout.write(f"#{t.pk} {t.status_label()} {t.prefix}… {t.name} "
                              f"[{','.join(t.scopes)}]{expires} → {t.membership}")

    def _revoke(self, o):
        token = ApiToken.objects.filter(pk=o["id"]).first()
        if token is None:
            raise CommandError(f"id：没有编号为 {o['id']} 的令牌")
        token_revoke(by=None, token=token, actor_name=_operator())
        self.stdout.write(f"已撤销令牌 #{token.pk}：{token.name}")


def _operator() -> str:
    """The command line acts as no membership: the audit entry names who ran it."""
    try:
        return f"命令行（{getpass.getuser()}）"
    except (KeyError, OSError):
        return "命令行"
