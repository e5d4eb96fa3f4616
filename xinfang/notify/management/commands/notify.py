"""``xinfang notify send`` — one delivery pass of the outbox; ``xinfang notify test CHANNEL`` — a
test message to one channel (its id or its exact name); ``xinfang notify channels`` — the list."""

from django.core.management.base import BaseCommand, CommandError

from xinfang.api.membership import parse_id
from xinfang.notify.admin_services import channel_test
from xinfang.notify.models import Channel, Delivery
from xinfang.notify.outbox import deliver_pending


class Command(BaseCommand):
    help = "提醒推送：发送待发消息（send）、向渠道发送测试消息（test）、列出渠道（channels）。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("send", help="发送所有到期的待发消息（一轮）")
        test = sub.add_parser("test", help="向一个渠道发送测试消息")
        test.add_argument("channel", help="渠道编号或名称")
        sub.add_parser("channels", help="列出推送渠道")

    def handle(self, *args, action, **options):
        if action == "send":
            sent = deliver_pending()
            waiting = Delivery.objects.filter(status=Delivery.Status.PENDING).count()
            dead = Delivery.objects.filter(status=Delivery.Status.DEAD).count()
            self.stdout.write(f"已送达 {sent} 条；待重试 {waiting} 条；多次失败 {dead} 条。")
            return
        if action == "channels":
            for c in Channel.objects.select_related("unit").order_by("pk"):
                state = "启用" if c.is_active else "停用"
                self.stdout.write(f"{c.pk}\t{c.unit}\t{c.name}\t{c.get_format_display()}\t{state}")
            return
        raw = options["channel"].strip()
        pk = parse_id(raw)
        qs = Channel.objects.filter(pk=pk) if pk else Channel.objects.filter(name=raw)
        channels = list(qs[:2])
        if not channels:
            raise CommandError(f"没有这个渠道：{raw}（用 xinfang notify channels 查看编号）")
        if len(channels) > 1:
            raise CommandError(f"名称“{raw}”对应多个渠道，请用编号。")
        ok, detail = channel_test(channel=channels[0], by=None, actor_name="命令行")
        if not ok:
            raise CommandError(f"测试消息发送失败：{detail}")
        self.stdout.write(f"测试消息已发出：{detail}")
