"""A phone call cannot deliver a written decision, and the refusal names the rule that made the
answer written — not "上级交办或集体访" for a case that is neither (issue 15)."""

import pytest
from django.utils import timezone

from tests.web.conftest import walk
from xinfang.cases.errors import Refused
from xinfang.cases.services import perform

pytestmark = pytest.mark.django_db


def test_the_refusal_names_the_reply_rule_that_applied(jianan, register):
    case = walk(jianan, register(), "letter_issued")
    assert not case.is_referred and not case.collective
    with pytest.raises(Refused) as refused:
        perform("record_delivery", case=case, by=jianan.member("clerk"), mode="phone",
                delivered_at=timezone.now(), deliverer="陈晓东", recipient="张三明",
                receipt_signed=True)
    message = refused.value.message
    # jianan inherits national's written_decision: "national 办结（书面答复）"
    assert "依据《信访工作条例》办结（书面答复）" in message, message
    assert "上级交办或集体访" not in message and refused.value.field == "mode"
