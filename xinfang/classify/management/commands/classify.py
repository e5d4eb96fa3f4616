"""``xinfang classify evaluate`` — the category suggestion's top-1 accuracy on the held-out set,
per shipped profile; ``xinfang classify keywords 危房改造`` — the words the model weighs most for
a topic; ``xinfang classify suggest 文本 [--profile henan]``."""

from django.core.management.base import BaseCommand, CommandError

from xinfang.classify.evaluate import accuracy
from xinfang.classify.model import model
from xinfang.classify.services import category_suggest
from xinfang.rules.profile import shipped_profiles


class Command(BaseCommand):
    help = "问题类别建议：评测准确率（evaluate）、查看关键词（keywords）、试用（suggest）"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["evaluate", "keywords", "suggest"])
        parser.add_argument("arg", nargs="?", default="")
        parser.add_argument("--profile", default="national")
        parser.add_argument("--misses", action="store_true", help="列出判错的留出样本")

    def handle(self, *args, action, arg, profile, misses, **options):
        profiles = shipped_profiles()
        if action == "evaluate":
            for code, p in profiles.items():
                a = accuracy(code, p.categories)
                self.stdout.write(f"{code}\t{a.right}/{a.total}\t{a.top1:.3f}")
                for expected, got, text in a.misses if misses else ():
                    self.stdout.write(f"  应为 {expected}，建议 {got or '—'}：{text}")
            return
        if action == "keywords":
            if arg not in model().topics:
                raise CommandError(f"主题：{arg!r} 不是模型的主题（{'、'.join(model().topics)}）")
            for gram, weight in model().keywords(arg):
                self.stdout.write(f"{gram}\t{weight}")
            return
        if profile not in profiles:
            raise CommandError(f"--profile：没有规则配置 {profile!r}")
        for s in category_suggest(text=arg, categories=profiles[profile].categories):
            self.stdout.write(f"{s.category}\t{s.share:.2f}\t{'、'.join(s.evidence)}")
