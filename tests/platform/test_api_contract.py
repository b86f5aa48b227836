"""The API keeps the promises of its OpenAPI document: Schemathesis generates requests from
/api/v1/openapi.json for every operation and runs all its checks on the answers of a live
uvicorn on the real stack (PostgreSQL, Redis), authenticated with a seeded user's bearer
token — once per operation (examples, coverage and fuzzing phases) and as stateful runs
that follow the document's links (a created post, comment, circle, conversation, message,
album feeding the operations that take its id).

Derandomized and bounded here (FUZZ_EXAMPLES, default 8 per operation); `make fuzz` runs
the same tests with FUZZ_EXAMPLES=100 and more stateful steps.

The one configured tolerance: a 400 for a schema-valid request is accepted when it is a
service's refusal of a rule no schema can state (a password too common, following
yourself, a cursor the server did not sign) — never when it is the text guard, the body
checks or a schema mismatch, which the document does state (`business_rule_refusal_only`).
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test
from schemathesis.config import SchemathesisConfig

from accounts.services import api_token_create
from circles.errors import INVALID_TEXT, SCHEMA_MISMATCH
from circles.openapi import (
    BODY_NOT_AN_OBJECT,
    BODY_NOT_JSON,
    UNKNOWN_FIELDS,
    UNSUPPORTED_CONTENT_TYPE,
)
from tests.factories import FollowFactory, UserFactory
from tests.servers import uvicorn_server

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
STATEFUL_STEPS = int(os.environ.get("FUZZ_STATEFUL_STEPS", "6"))
STATEFUL_EXAMPLES = int(os.environ.get("FUZZ_STATEFUL_EXAMPLES", "6"))
# a file whose bytes are not a photo is refused with 415 `unsupported_media_type`: a rule
# the document cannot state (it says "binary"); a content type it does not declare is
# `unsupported_content_type`, which it does state
SHAPE_ERRORS = {INVALID_TEXT, UNSUPPORTED_CONTENT_TYPE}
SHAPE_MESSAGES = {SCHEMA_MISMATCH, BODY_NOT_JSON, BODY_NOT_AN_OBJECT, UNKNOWN_FIELDS}


@pytest.fixture(scope="module")
def fuzz_server(django_db_setup, _real_services):
    # Rate limits off: the fuzzer must reach every operation's logic, not its 11th 429
    # (the limits have their own tests).
    with uvicorn_server(RATELIMIT_ENABLE="false") as base_url:
        yield base_url


@pytest.fixture
def token():
    """A seeded user (fuzzer) with a friend (alice, the document's example username,
    following each other: conversations can be opened) and a bearer token."""
    fuzzer = UserFactory(username="fuzzer")
    alice = UserFactory(username="alice")
    FollowFactory(follower=fuzzer, following=alice)
    FollowFactory(follower=alice, following=fuzzer)
    return api_token_create(user=fuzzer, name="fuzz")[1]


def _document() -> dict:
    """The document the server serves (test_the_served_document_is_this_one): built in
    this process, so the operations are known when the tests are collected."""
    import json

    from circles.api import api

    return json.loads(json.dumps(api.get_openapi_schema(), default=str))


def _multipart_operations(document: dict) -> list[dict]:
    """A multipart body carries text only: a negative case that turns a part's type into
    a JSON object or number arrives as the valid text "{}" or "0", so "a schema-violating
    request was accepted" cannot be judged there. Every other check still runs on them."""
    return [
        {
            "include-path": path,
            "include-method": method.upper(),
            "checks": {"negative_data_rejection": {"enabled": False}},
        }
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if "multipart/form-data" in (operation.get("requestBody") or {}).get("content", {})
    ]


CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            # a 400 is judged by business_rule_refusal_only (below)
            "positive_data_acceptance": {
                "expected-statuses": ["2XX", "400", "401", "403", "404", "409", "415", "429"]
            }
        },
        "operations": _multipart_operations(_document()),
    }
)
schema = schemathesis.openapi.from_dict(_document(), config=CONFIG)


def business_rule_refusal_only(ctx, response, case):
    """Schema-valid data may be refused (400) only for a rule the document cannot state."""
    meta = case.meta
    if (
        response.status_code not in (400, 415)
        or meta is None
        or not meta.generation.mode.is_positive
    ):
        return None
    error = response.json().get("error", {})
    shape = error.get("code") in SHAPE_ERRORS or error.get("message") in SHAPE_MESSAGES
    assert not shape, f"a schema-valid request was refused for its shape: {error}"
    return None


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_every_operation_keeps_the_document(case, fuzz_server, token):
    case.call_and_validate(
        base_url=fuzz_server,
        headers={"Authorization": f"Bearer {token}"},
        additional_checks=[business_rule_refusal_only],
    )


def test_the_served_document_is_this_one(fuzz_server):
    import json
    import urllib.request

    with urllib.request.urlopen(f"{fuzz_server}/api/v1/openapi.json") as response:
        assert json.load(response) == _document()


def test_stateful_runs_follow_the_links(fuzz_server, token):
    machine = schema.as_state_machine()
    assert machine.bundles, "the document has no links to follow"

    class Workflow(machine):
        def get_call_kwargs(self, case):
            return {"base_url": fuzz_server, "headers": {"Authorization": f"Bearer {token}"}}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            super().validate_response(
                response, case, additional_checks=[business_rule_refusal_only], **kwargs
            )

    run_state_machine_as_test(
        Workflow,
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=STATEFUL_STEPS,
            derandomize=True,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        ),
    )
