"""schemathesis against the API's own OpenAPI document, in-process (WSGI).

Generated requests, with a valid key and with a wrong one: no answer is a server error,
and every answer matches the status codes, media types and schemas the document states.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support import DEFAULT_PASSWORD

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_key(app: Flask, admin: Any, employee: Any, two_step_on: Any, connect_device: Any) -> str:
    from extensions import db
    from models import utcnow
    from security import api_clients

    two_step_on()
    connect_device(employee)
    made = api_clients.create_client(
        "Fuzzer", ["validate", "users:read"], "", now=utcnow(), actor=admin, ip="test"
    )
    db.session.commit()
    return made.key


@pytest.mark.settings(RATELIMIT_ENABLED=True)
@pytest.mark.parametrize("valid", [True, False], ids=["valid-key", "wrong-key"])
def test_the_api_keeps_its_document(app: Flask, api_key: str, valid: bool) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    key = api_key if valid else "otpc_" + "x" * 43
    headers = {"Authorization": f"Bearer {key}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 2
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=40,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        run()
    # Known good requests pass the same checks.
    ok = schema["/api/v1/validate"]["POST"].Case(
        body={"login": "employee", "password": DEFAULT_PASSWORD, "code": "000000"},
        media_type="application/json",
    )
    ok.call_and_validate(headers=headers, checks=CHECKS)
