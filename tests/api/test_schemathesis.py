"""schemathesis against our own OpenAPI schema, as three roles (a petition office's clerk and
approver, a township's handler), each over an integration token with every scope: no 5xx and
every answer as the schema says (status code, content type, body).

Bounded in time for a shared two-core machine: ``XINFANG_SCHEMATHESIS_EXAMPLES`` rounds (default
3) over every operation per role, generation only (no shrinking: a failure is reported as found).
The spreadsheet and document downloads are left out — they are the export tests' subject and
each one builds a workbook."""

from __future__ import annotations

import os
import re

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.tokens import token_for
from tests.api.world import walk

ROUNDS = int(os.environ.get("XINFANG_SCHEMATHESIS_EXAMPLES", "3"))
HEAVY = re.compile(r"\.xlsx$|/documents/\{code\}/\{fmt\}/$|/jobs/\{id\}/file$")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def _raw_schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    # JSON types only (dates as strings, lazy translations as text).
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    return json.loads(json.dumps(schema, cls=DjangoJSONEncoder))


@pytest.mark.parametrize("role", ["clerk", "approver", "township"])
def test_the_api_keeps_to_its_schema(jianan, role, monkeypatch):
    from xinfang.api.errors import TokenRateThrottle

    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"token": "100000/min"})
    for until in ("registered", "assigned", "in_progress"):
        walk(jianan, until)
    _, raw = token_for(jianan, role, "read", "register", "intake", "transition")
    schema = schemathesis.openapi.from_dict(_raw_schema())
    schema.app = WSGIHandler()
    operations = [op.ok() for op in schema.get_all_operations()]
    operations = [op for op in operations if not HEAVY.search(op.path)]
    assert len(operations) > 40
    headers = {"Authorization": f"Bearer {raw}"}
    seen: dict[str, int] = {}
    failures: dict[str, str] = {}

    @settings(max_examples=ROUNDS, deadline=None, database=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(st.data())
    def run(data):
        for op in operations:
            case = data.draw(op.as_strategy(), label=op.label)
            response = case.call(headers=headers)
            seen[op.label] = response.status_code
            try:
                case.validate_response(response, checks=CHECKS)
            # Every operation's failures are reported, not only the first one's.
            except (Exception, BaseExceptionGroup) as e:
                failures.setdefault(op.label, f"{response.status_code}: {str(e)[:1500]}")

    # As Django's test client does: the request's end must not close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        run()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    assert len(seen) == len(operations)
    assert not failures, "\n\n".join(f"{k} → {v}" for k, v in failures.items())
