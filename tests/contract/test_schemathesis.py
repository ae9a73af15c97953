"""Schemathesis against the one OpenAPI document the gateway aggregates, as every role: no
request is answered with a server error, every answer's status is documented for its
operation, and every body has the documented media type and conforms to the documented schema.

Bounded for CI: a few generated requests per operation and role
(`TELEMED_CONTRACT_EXAMPLES`, default 4), derandomized, so a run sends the same requests each
time; raise the number or set `TELEMED_CONTRACT_SEED` to explore further."""

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings, strategies

from tests.contract.conftest import ROLES, ThreadedStack, aggregated_document, signed_in
from tests.contract.figures import TALLY, count, new_tally

pytestmark = [
    pytest.mark.contract,
    # Schemathesis' own strategies call `random` (its problem, not the API's).
    pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies"),
]
MAX_EXAMPLES = int(os.environ.get("TELEMED_CONTRACT_EXAMPLES", "4"))
SEED = os.environ.get("TELEMED_CONTRACT_SEED")
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
]
REQUEST_TIMEOUT = 30.0  # one request; the whole run is bounded by the examples per operation


@pytest.fixture(scope="module", params=ROLES)
def role(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as pooled:
        yield pooled


# tus's chunks (`PATCH /api/files/uploads/{id}`) are bytes, sent as they are.
schemathesis.openapi.media_type("application/offset+octet-stream", strategies.binary(max_size=4096))
with tempfile.TemporaryDirectory() as scratch:
    DOCUMENT = aggregated_document(Path(scratch))
document_schema = schemathesis.openapi.from_dict(DOCUMENT)
document_schema.config.checks.update(included_check_names=CHECKS)
document_schema.config.update(request_timeout=REQUEST_TIMEOUT)
document_schema.config.generation.update(
    max_examples=MAX_EXAMPLES, deterministic=SEED is None, database="none"
)
if SEED is not None:
    document_schema.config.seed = int(SEED)
# The coverage phase's boundary values are kept, its invalid ones left to the fuzzing phase:
# nearly all are refused by validation (a 422) before a role makes any difference, and each
# role would send the same thousands again. Unexpected methods (a 405 per path and method)
# are the router's answer, not a role's.
document_schema.config.phases.coverage.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE]
)
document_schema.config.phases.coverage.unexpected_methods = set()
# Signing out ends the one token each role's run uses: every later request would be a 401.
# tests/gateway/test_sessions.py holds the route to what it documents.
schema = document_schema.exclude(method="POST", path="/api/auth/sign-out")


@pytest.fixture(scope="module")
def served(threaded_stack: ThreadedStack, session: requests.Session) -> str:
    """The gateway's base URL, once it is seen to serve the document the tests were made from.

    The gateway leaves out of its document a service that does not answer with its own within
    5 s, and a service builds its document on the first request: on a loaded machine the first
    answers can be partial, so the whole document is awaited, with a deadline."""
    deadline = time.monotonic() + 120
    while True:
        document = session.get(f"{threaded_stack.base_url}/openapi.json", timeout=30).json()
        if document == DOCUMENT or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert document == DOCUMENT
    return threaded_stack.base_url


@pytest.fixture(scope="module")
def token(threaded_stack: ThreadedStack, role: str) -> str:
    """A fresh token for `role`."""
    assert threaded_stack.stack is not None
    return threaded_stack.run(signed_in(threaded_stack.stack, role))


@pytest.fixture
def tally(request: pytest.FixtureRequest, role: str) -> dict[str, Any]:
    """What this operation's examples send as `role`, reported with the test."""
    found = new_tally(role)
    request.node.user_properties.append((TALLY, found))
    return found


@schema.parametrize()
# `tally` is meant to gather every example of the operation: its scope is the point.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_operation_keeps_its_contract(
    case: schemathesis.Case[Any],
    role: str,
    token: str,
    served: str,
    session: requests.Session,
    tally: dict[str, Any],
) -> None:
    response = case.call(
        base_url=served, session=session, headers={"Authorization": f"Bearer {token}"}
    )
    count(tally, response.status_code)
    try:
        case.validate_response(response, headers={"Authorization": f"Bearer {token}"})
    except schemathesis.errors.FailureGroup as failed:
        for failure in failed.exceptions:
            detail = failure.message.strip().splitlines()[0] if failure.message.strip() else ""
            found = (
                f"{case.operation.label} [{response.status_code}] {failure.code} "
                f"{failure.title}: {detail[:160]}"
            )
            if found not in tally["failures"]:
                tally["failures"].append(found)
        raise
