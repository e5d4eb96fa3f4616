"""Loading a calendar year is audited wherever it is done — the command line included."""

from pathlib import Path

import pytest
from django.core.management import call_command

from xinfang.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

NOTICE = Path(__file__).parent / "data" / "notice-2027-test.txt"


def test_the_command_line_load_is_audited():
    call_command("calendar", "load", str(NOTICE))
    entry = AuditEntry.objects.get(action="calendar_load")
    assert entry.detail["year"] == 2027 and entry.actor_name == "xinfang calendar"
