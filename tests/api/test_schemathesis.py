"""schemathesis against the OpenAPI document, in process (WSGI), with a token: no server error and no
answer outside the document, stateless on every operation and stateful along the document's links.

Every check runs but positive_data_acceptance: schema-valid requests that the rules refuse by design (a
visit dated after today, a stale If-Match, another officer's project) answer 412/422/403 as documented.
Bounded here (API_FUZZ_EXAMPLES, default 5 per operation; API_FUZZ_STEPS for the state machine) so the
suite stays fast; ``make api-fuzz`` runs the long version.
"""
from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from schemathesis.specs.openapi.checks import positive_data_acceptance

from crm.api import tokens
from crm.api.tokens import create_personal_token
from crm.extensions import db

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "8"))
STEPS = int(os.environ.get("API_FUZZ_STEPS", "12"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=not os.environ.get("API_FUZZ_RANDOM"),
                suppress_health_check=list(HealthCheck), database=None)


@pytest.fixture
def api_headers(app, world):
    saved = app.extensions[tokens.THROTTLE_KEY]
    app.extensions[tokens.THROTTLE_KEY] = tokens.ApiThrottle("memory://", 100_000)  # the fuzzer is a fast client
    _, secret = create_personal_token(world.chief_a, "schemathesis", "write", 1)
    db.session.commit()
    yield {"Authorization": f"Bearer {secret}"}
    app.extensions[tokens.THROTTLE_KEY] = saved


@pytest.fixture
def api_schema(app, world):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def test_the_document_is_valid_openapi_3_1(client):
    from openapi_spec_validator import validate

    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_operation_answers_inside_the_document(api_schema, api_headers):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 12
    answered = []
    for operation in operations:
        @FUZZ
        @given(case=operation.as_strategy())
        def check(case):
            case.headers = {**(case.headers or {}), **api_headers}  # not the random token it generates
            response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
            answered.append(response.status_code)

        check()
    assert 200 in answered and 401 not in answered  # the token was used, and read something
