"""The scopes an operation's `security` names are those its route holds API clients to: every
operation is called as a client holding no scope (with the document's own example bodies and
made-up ids, so most stop at the first check), and each one naming scopes again as a client
holding exactly those. A service naming scopes on any of its operations names them on every
one whose route refused the bare client for lack of a scope."""

import base64
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from gateway.scopes import SERVICE_SCOPES
from services.common.openapi import OAUTH2_NAME
from tests.conftest import Stack
from tests.openapi.conftest import operations

LACKS = re.compile(r"lacks the (\S+) scope")
SERVICE_PATH = re.compile(r"^/api/(?P<service>[a-z]+)/")
Call = Callable[[str, str, dict[str, Any]], Awaitable[httpx.Response]]


def _value(schema: dict[str, Any]) -> Any:
    """A value the schema accepts, made up: ids name nothing, so lookups find nothing."""
    if "anyOf" in schema:
        return _value(schema["anyOf"][0])
    if "enum" in schema:
        return schema["enum"][0]
    if schema.get("format") == "uuid":
        return str(uuid.uuid4())
    if schema.get("type") == "integer":
        return max(1, schema.get("minimum", 1))
    return "x"


def _request(path: str, operation: dict[str, Any]) -> dict[str, Any]:
    """The operation's path with ids filled in, its required query and header parameters, and
    its JSON body's example."""
    params, headers = {}, {}
    for parameter in operation.get("parameters", []):
        value = parameter.get("example", _value(parameter.get("schema", {})))
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", str(value))
        elif parameter.get("required") and parameter["in"] == "query":
            params[parameter["name"]] = value
        elif parameter.get("required") and parameter["in"] == "header":
            headers[parameter["name"]] = str(value)
    request: dict[str, Any] = {"url": path, "params": params, "headers": headers}
    media = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if media is not None:
        example = media.get("example")
        if example is None and media.get("examples"):
            example = next(iter(media["examples"].values())).get("value")
        request["json"] = example if example is not None else {}
    return request


def _lacking(answer: httpx.Response) -> str | None:
    """The scope a 403 says the client lacks (a problem's `detail`, an OperationOutcome's
    `diagnostics`), else None."""
    if answer.status_code != 403 or "json" not in answer.headers.get("content-type", ""):
        return None
    found = LACKS.search(str(answer.json()))
    return found.group(1) if found else None


def _named(operation: dict[str, Any]) -> set[str]:
    return {scope for entry in operation["security"] for scope in entry.get(OAUTH2_NAME, [])}


async def _api_client(stack: Stack, organization: dict[str, Any], scopes: set[str]) -> Call:
    assert stack.admin is not None
    created = await stack.client.post(
        "/api/directory/api-clients",
        json={"name": f"MIS {' '.join(sorted(scopes)) or 'bare'}",
              "organization_id": organization["id"], "scopes": sorted(scopes),
              # Only a service client may hold video:rooms.
              "is_service": bool(scopes & SERVICE_SCOPES)},
        headers=stack.admin.headers,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    secret = f"{created.json()['client_id']}:{created.json()['client_secret']}"
    token = await stack.client.post(
        "/api/auth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {base64.b64encode(secret.encode()).decode()}"},
    )
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}

    async def call(method: str, path: str, operation: dict[str, Any]) -> httpx.Response:
        request = _request(path, operation)
        request["headers"] |= bearer
        return await stack.client.request(method.upper(), **request)

    return call


async def test_named_scopes_are_the_ones_routes_enforce(stack: Stack) -> None:
    document: dict[str, Any] = (await stack.client.get("/openapi.json")).json()
    organization = await stack.organization(kind="regional_centre")
    bare = await _api_client(stack, organization, set())
    secured = [(m, p, op) for m, p, op in operations(document) if op["security"] != []]
    refused: dict[tuple[str, str], str | None] = {}
    for method, path, operation in secured:
        refused[method, path] = _lacking(await bare(method, path, operation))

    naming = {(m, p): _named(op) for m, p, op in secured if _named(op)}
    assert naming, "no operation names a scope"
    for (method, path), scopes in naming.items():
        lacked = refused[method, path]
        assert lacked is None or lacked in scopes, (method, path, lacked, scopes)
    # Reached where cheap: a route refusing for another reason first (consult's grant) is not.
    assert [key for key in naming if refused[key] is not None]

    holders: dict[frozenset[str], Call] = {}
    for method, path, operation in secured:
        held = frozenset(_named(operation))
        if held:
            if held not in holders:
                holders[held] = await _api_client(stack, organization, set(held))
            answer = await holders[held](method, path, operation)
            assert _lacking(answer) is None, (method, path, answer.text)

    adopted = {
        found["service"] for key in naming if (found := SERVICE_PATH.match(key[1])) is not None
    }
    unnamed = [
        (method, path, lacked)
        for (method, path), lacked in refused.items()
        if lacked is not None
        and (found := SERVICE_PATH.match(path)) is not None
        and found["service"] in adopted
        and lacked not in naming.get((method, path), set())
    ]
    assert unnamed == []
