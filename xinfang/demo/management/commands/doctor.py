from django.core.management.base import BaseCommand

from xinfang.demo.extras import extras


class Command(BaseCommand):
    help = "检查可选组件 (LibreOffice, 中文字体, Chromium) 是否可用，并说明缺少时的影响。"

    def handle(self, *args, **options):
        for extra in extras():
            if extra.found:
                self.stdout.write(f"  ✓ {extra.name}: {extra.found}")
            else:
                self.stdout.write(
                    f"  – {extra.name} 未安装：{extra.needed_for} 不可用；其余功能正常。"
                    f" 安装：{extra.install}"
                )
