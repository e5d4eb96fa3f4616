"""Bring the supervision page's kept figures up to date (the schedule does it every sweep)."""

from django.core.management.base import BaseCommand

from xinfang.figures.services import figures_refresh


class Command(BaseCommand):
    help = "Count again the cases changed since the last refresh (every case the first time)."

    def handle(self, *args, **options):
        n = figures_refresh()
        self.stdout.write(f"figures: {n} cases counted")
