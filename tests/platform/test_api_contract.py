"""The API keeps the promises of its OpenAPI document: Schemathesis generates requests from
/api/v1/openapi.json for every operation and runs all its checks on the answers of a live
uvicorn on the real stack (PostgreSQL, Redis), authenticated with a seeded user's bearer
token (a staff member's for the admin API) — once per operation (examples, coverage and
fuzzing phases) and as stateful runs that follow the document's links (a created post,
comment, circle, conversation, message, album, and the follow requests, invites, album
items and admin lists feeding the operations that take their ids), each run from the same
seeded state.

Derandomized and bounded here (FUZZ_EXAMPLES, default 5 per operation); `make fuzz` runs
the same tests with FUZZ_EXAMPLES=100 and more stateful steps.

Configured, each by operation id: a 400 for a schema-valid request is accepted when it is
a service's refusal of a rule no schema can state (a password too common, following
yourself, a cursor the server did not sign) — never when it is the text guard, the body
checks or a schema mismatch, which the document does state (`business_rule_refusal_only`);
multipart operations skip "schema-violating request accepted" (`_multipart_operations`);
the admin API skips `ignored_auth` (`_admin_operations`).
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
from tests.factories import (
    CircleFactory,
    CircleInviteFactory,
    FollowFactory,
    FollowRequestFactory,
    UserFactory,
)
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


ADMIN = "/api/v1/admin/"


def _seed() -> dict[str, str]:
    """The world every test starts from, and its bearer tokens by who holds them.

    fuzzer (private) and alice (the document's example username) follow each other, so
    conversations can be opened; bob asked to follow fuzzer and alice invited fuzzer to
    her circle, so the follow-request and invite operations find one to answer;
    moderator is staff: the admin API is called with their token (anyone else gets 404
    there, as tests/staff/test_api.py checks)."""
    moderator = UserFactory(username="moderator", is_staff=True)
    fuzzer = UserFactory(username="fuzzer", is_private=True)
    alice = UserFactory(username="alice")
    FollowFactory(follower=fuzzer, following=alice)
    FollowFactory(follower=alice, following=fuzzer)
    FollowRequestFactory(requester=UserFactory(username="bob"), target=fuzzer)
    CircleInviteFactory(circle=CircleFactory(owner=alice, name="Climbing"), invitee=fuzzer)
    return {
        "fuzzer": api_token_create(user=fuzzer, name="fuzz")[1],
        "staff": api_token_create(user=moderator, name="fuzz")[1],
    }


def _auth(tokens: dict[str, str], case) -> dict[str, str]:
    holder = "staff" if case.operation.path.startswith(ADMIN) else "fuzzer"
    return {"Authorization": f"Bearer {tokens[holder]}"}


@pytest.fixture
def tokens():
    return _seed()


def _fresh_start() -> dict[str, str]:
    """Empty the database and Redis the server uses and seed them again: each stateful
    run starts from the same state, so a run replayed (to confirm or shrink a failure)
    meets the same answers. Hypothesis requires it: which steps can follow depends on what
    the server answered, and a replay that met yesterday's data draws differently
    (FlakyStrategyDefinition)."""
    import redis
    from django.conf import settings as django_settings
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)
    redis.Redis.from_url(django_settings.REDIS_URL).flushdb()
    return _seed()


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
            "include-operation-id": operation["operationId"],
            "checks": {"negative_data_rejection": {"enabled": False}},
        }
        for item in document["paths"].values()
        for operation in item.values()
        if "multipart/form-data" in (operation.get("requestBody") or {}).get("content", {})
    ]


def _admin_operations(document: dict) -> list[dict]:
    """The admin API answers 404, not 401/403, to anyone but staff (so nobody learns it
    is there): the `ignored_auth` check's probe without credentials expects 401 or 403.
    That rule is checked where it is stated, for every admin operation and every kind of
    caller (tests/staff/test_api.py::test_nobody_but_staff_gets_past_404); every other
    check still runs on these operations, with a staff token."""
    return [
        {
            "include-operation-id": operation["operationId"],
            "checks": {"ignored_auth": {"enabled": False}},
        }
        for path, item in document["paths"].items()
        if path.startswith(ADMIN)
        for operation in item.values()
    ]


# (One filter per entry: Schemathesis includes an operation matching *any* of an entry's
# include filters, so a path and a method in one entry would take in every POST.)
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            # a 400 is judged by business_rule_refusal_only (below)
            "positive_data_acceptance": {
                "expected-statuses": ["2XX", "400", "401", "403", "404", "409", "415", "429"]
            }
        },
        "operations": _multipart_operations(_document()) + _admin_operations(_document()),
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
def test_every_operation_keeps_the_document(case, fuzz_server, tokens):
    case.call_and_validate(
        base_url=fuzz_server,
        headers=_auth(tokens, case),
        additional_checks=[business_rule_refusal_only],
    )


def test_the_served_document_is_this_one(fuzz_server):
    import json
    import urllib.request

    with urllib.request.urlopen(f"{fuzz_server}/api/v1/openapi.json") as response:
        assert json.load(response) == _document()


def test_stateful_runs_follow_the_links(fuzz_server):
    machine = schema.as_state_machine()
    assert machine.bundles, "the document has no links to follow"

    class Workflow(machine):
        def setup(self):
            self.tokens = _fresh_start()

        def get_call_kwargs(self, case):
            return {"base_url": fuzz_server, "headers": _auth(self.tokens, case)}

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
            phases=[Phase.explicit, Phase.generate] if os.environ.get("NOSHRINK") else list(Phase),
        ),
    )
