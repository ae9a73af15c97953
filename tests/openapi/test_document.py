"""The aggregated OpenAPI document is one that tools accept: a clean lint, stable readable
operationIds, security declared per operation, one schema per model, problems as problems,
tags described and grouped by service, the FHIR views once."""

import re
from typing import Any

from openapi_spec_validator import OpenAPIV31SpecValidator

from gateway.oauth.enums import Scope
from gateway.openapi import SCOPES
from gateway.scopes import CLIENT_SCOPES, SERVICE_SCOPES
from services.common.errors import PROBLEM_MEDIA_TYPE
from services.common.fhir import FHIR_MEDIA_TYPE
from services.common.openapi import OPERATION_ID, PROBLEM_SCHEMA
from tests.openapi.conftest import operations

# Public by design: a token is what they hand out, they are reached before one exists (a
# sign-in, a password reset, a link's own token, Telegram's webhook with its secret), or they
# publish what anyone may read (keys, the deny-list, reference lists, health).
PUBLIC = {
    ("get", "/.well-known/jwks.json"),
    ("get", "/.well-known/openid-configuration"),
    ("get", "/.well-known/revocations"),
    ("get", "/api/consult/conclusion-keys"),
    ("get", "/api/consult/monitoring/programmes"),
    ("get", "/api/consult/worsening-signs"),
    ("get", "/api/fhir/metadata"),
    ("get", "/api/files/links/{token}"),
    ("get", "/health"),
    ("get", "/ready"),
    ("get", "/ready/upstreams"),
    ("get", "/oauth/authorize"),
    ("post", "/oauth/authorize"),
    ("get", "/oauth/federation/start"),
    ("get", "/oauth/federation/callback"),
    ("get", "/oauth/logout"),
    ("post", "/oauth/logout"),
    ("post", "/api/auth/token"),
    ("post", "/api/auth/password-reset"),
    ("post", "/api/auth/password-reset/complete"),
    ("post", "/api/consult/channels/telegram/{bot}"),
}
TOKEN: list[dict[str, list[str]]] = [{"oauth2": []}, {"bearer": []}]


def scoped(*scopes: str) -> list[dict[str, list[str]]]:
    return [{"oauth2": list(scopes)}, {"bearer": list(scopes)}]


def test_the_document_lints_clean(document: dict[str, Any]) -> None:
    errors = [str(error) for error in OpenAPIV31SpecValidator(document).iter_errors()]
    assert errors == []


def test_operation_ids_are_unique_and_readable(document: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert [name for name in ids if not OPERATION_ID.fullmatch(name)] == []
    assert sorted({name for name in ids if ids.count(name) > 1}) == []
    by_route = {(method, path): op["operationId"] for method, path, op in operations(document)}
    assert by_route[("post", "/api/consult/cases")] == "cases_create"
    assert by_route[("post", "/api/scheduling/appointments/{appointment_id}/cancel")] == (
        "appointments_cancel"
    )
    assert by_route[("post", "/api/consult/cases/{case_id}/cancel")] == "cases_cancel"
    assert by_route[("post", "/api/auth/token")] == "auth_token"
    assert by_route[("get", "/api/fhir/Task/{id}")] == "fhir_read_task"


def test_every_operation_declares_its_security(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    flows = schemes["oauth2"]["flows"]
    public_url = document["servers"][0]["url"]
    assert flows["authorizationCode"]["authorizationUrl"] == f"{public_url}/oauth/authorize"
    assert flows["authorizationCode"]["tokenUrl"] == f"{public_url}/api/auth/token"
    assert flows["clientCredentials"]["tokenUrl"] == f"{public_url}/api/auth/token"
    # Each flow offers what it can grant: a sign-in asking for an API client's scope is
    # refused (`invalid_scope`), and client credentials carry no person.
    assert set(flows["authorizationCode"]["scopes"]) == {scope.value for scope in Scope}
    assert set(flows["clientCredentials"]["scopes"]) == CLIENT_SCOPES | SERVICE_SCOPES
    assert schemes["bearer"] == schemes["bearer"] | {"type": "http", "scheme": "bearer"}
    # Exactly these say no credential at all: a route that reads a token by itself and forgets
    # to declare it would be published as public, and fails here.
    public = {(m, p) for m, p, op in operations(document) if op["security"] == []}
    assert public == PUBLIC
    secured = {(m, p): op["security"] for m, p, op in operations(document)}
    assert secured[("post", "/api/auth/introspect")] == [{"client": []}]
    # An API client's scopes are named for each way to present the token.
    assert secured[("post", "/api/consult/cases")] == scoped("consult:write")
    assert secured[("get", "/api/fhir/Task/{id}")] == scoped("consult:read")
    assert secured[("get", "/api/consult/patient-requests")] == TOKEN
    # Consult answers a search by case or patient, the files service any other: either's scope.
    shared = secured[("get", "/api/fhir/DocumentReference")]
    assert sorted(map(str, shared)) == sorted(
        map(str, scoped("consult:read") + scoped("files:read"))
    )
    assert secured[("post", "/api/video/rooms/{room_id}/sessions")] == [{"credential": []}]


def test_scopes_are_every_scope_a_token_can_carry() -> None:
    assert set(SCOPES) == {scope.value for scope in Scope} | CLIENT_SCOPES | SERVICE_SCOPES


def test_one_schema_per_model(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert [name for name in schemas if re.search(r"-(Input|Output)$|__", name)] == []
    for name in ("CaseOut", "ConclusionOut", "ConsiliumOut", "OpinionOut", "ProtocolOut"):
        assert name in schemas
    titles = [schema.get("title", name) for name, schema in schemas.items()]
    assert sorted({title for title in titles if titles.count(title) > 1}) == []


def _refs(node: Any) -> set[str]:
    text = repr(node)
    return set(re.findall(r"'#/components/schemas/([^']+)'", text))


def _answers_only(document: dict[str, Any]) -> set[str]:
    """Schemas answers use and no request does (bodies and parameters, at any depth)."""
    schemas = document["components"]["schemas"]

    def reach(names: set[str]) -> set[str]:
        while True:
            more = names | {ref for name in names for ref in _refs(schemas[name])}
            if more == names:
                return names
            names = more

    ops = [operation for _, _, operation in operations(document)]
    asked = reach(_refs([[op.get("requestBody"), op.get("parameters")] for op in ops]))
    return reach(_refs([op["responses"] for op in ops])) - asked


def test_answers_require_the_fields_they_always_hold(document: dict[str, Any]) -> None:
    """One schema per model leaves a field with a default optional (a request may omit it),
    but an answer always holds it: in a schema only answers use, only a field that may be
    null (and so left out, as the OAuth endpoints do) is optional."""
    schemas = document["components"]["schemas"]
    only = _answers_only(document)
    assert {"CaseSummary", "CaseOut", "TokenResponse"} <= only
    assert "overdue" in schemas["CaseSummary"]["required"]
    assert "overdue" in schemas["CaseOut"]["required"]
    assert "token_type" in schemas["TokenResponse"]["required"]
    optional = {
        (name, field)
        for name in only
        for field, prop in schemas[name].get("properties", {}).items()
        if field not in schemas[name].get("required", [])
        and "'null'" not in repr([prop.get("type"), prop.get("anyOf")])
    }
    assert optional == set()


def test_errors_are_problems(document: dict[str, Any]) -> None:
    """A 4xx is a problem, never plain JSON; besides it only the sign-in's pages (HTML) and
    the FHIR views' OperationOutcomes."""
    allowed = {PROBLEM_MEDIA_TYPE, FHIR_MEDIA_TYPE, "text/html"}
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            media = set(response.get("content", {}))
            if status.startswith("4"):
                assert media <= allowed, (method, path, status)
        if "422" in operation["responses"]:
            content = operation["responses"]["422"]["content"]
            assert content == {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}}


def test_tags_are_described_and_grouped_by_service(document: dict[str, Any]) -> None:
    tags = {tag["name"]: tag for tag in document["tags"]}
    assert [name for name, tag in tags.items() if not tag.get("description")] == []
    used = {tag for _, _, operation in operations(document) for tag in operation["tags"]}
    assert used <= set(tags)
    grouped = {tag for group in document["x-tagGroups"] for tag in group["tags"]}
    assert grouped == set(tags)  # ReDoc hides a tag in no group
    groups = {group["name"]: group["tags"] for group in document["x-tagGroups"]}
    assert "cases" in groups["Consultations"]
    assert "appointments" in groups["Scheduling"]


def test_servers_licence_and_contact(document: dict[str, Any]) -> None:
    assert document["servers"] == [{"url": "http://127.0.0.1:8000", "description": "This gateway"}]
    assert document["info"]["license"]["identifier"] == "Apache-2.0"
    assert document["info"]["contact"]["name"]


def test_fhir_paths_appear_once_under_the_facade(document: dict[str, Any]) -> None:
    fhir = [path for path in document["paths"] if "/fhir/" in path]
    assert [path for path in fhir if not path.startswith("/api/fhir/")] == []
    assert "/api/fhir/{resource_type}" not in document["paths"]
    # A search two services answer (consult by case or patient, files else) is one operation
    # with the parameters and descriptions of both.
    search = document["paths"]["/api/fhir/DocumentReference"]["get"]
    assert "Telemed-Grant" in {parameter["name"] for parameter in search["parameters"]}
    assert "case" in search["description"]
