from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from xinfang.cases.models import Case
from xinfang.cases.services import sweep
from xinfang.demo.cases import load_cases, load_registers
from xinfang.demo.org import build_jurisdiction
from xinfang.org.choices import Role
from xinfang.rules.versions import profile_sync
from xinfang.security.totp import totp_required_roles

PASSWORD = "Xinfang#2026demo"


class Command(BaseCommand):
    help = "载入演示辖区（建安区）、演示用户和演示信访件；重复运行不会重复载入。"

    def handle(self, *args, **options):
        # Shipped profile files whose version was raised are installed before any case is made.
        for result in profile_sync():
            if result.state == "installed":
                self.stdout.write(f"已安装内置规则配置 {result.code} 第{result.version}版")
            elif result.state == "refused":
                self.stderr.write(f"内置规则配置 {result.code} 未安装：{result.message}")
        j = build_jurisdiction(profile_code="jianan", password=PASSWORD)
        now = timezone.now()
        if Case.objects.filter(jurisdiction=j.county).exists():
            self.stdout.write("演示数据已存在，未重复载入。")
        else:
            with transaction.atomic():
                count = load_cases(j, now=now)
                load_registers(j, now=now)
            result = sweep(at=now)
            self.stdout.write(f"已载入 {count} 件演示信访件；时限检查：{result.as_dict()}")
        self.stdout.write(f"\n演示账号（密码均为 {PASSWORD}）：")
        for m in j.members.values():
            self.stdout.write(f"  {m.user.username:<14} {m.get_role_display():<10} {m.unit}")
        required = totp_required_roles()
        if required:
            roles = "、".join(str(Role(r).label) for r in sorted(required) if r in Role.values)
            self.stdout.write(f"\n{roles}首次登录时须用手机身份验证器绑定动态验证码（TOTP）。")
        self.stdout.write("\n打开 http://127.0.0.1:8000/ 登录。")
