"""Each service's OpenAPI document, completed with what the kernel answers for every route:
problems are `application/problem+json` only, validation failures are problems (a FHIR route's
are OperationOutcomes, with a 400), and a request the kernel refuses before its route runs is
documented where a client can send one: an unparseable or oversized body, an ambiguous path."""

from typing import Any

from fastapi import FastAPI

from services.common.errors import PROBLEM_MEDIA_TYPE
from services.common.fhir import FHIR_MEDIA_TYPE

METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})
PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}
# What the kernel answers before (or around) a route: FastAPI's 400 for a body it cannot
# parse, `limits.RequestLimits`' 400 for a path with dot segments or encoded slashes (only a
# path parameter lets a client write one) and 413 past the body limit, and the validation 422.
BAD_REQUEST = "Bad Request: a body that cannot be parsed, or a path with dot segments or "
BAD_REQUEST += "encoded slashes"


def install_openapi(app: FastAPI) -> None:
    """`app.openapi()` returns the completed document (built once, as FastAPI caches it)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(document: dict[str, Any]) -> dict[str, Any]:
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method in METHODS:
                _complete_operation(operation)
    return document


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}}}


def _complete_operation(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    fhir = FHIR_MEDIA_TYPE in responses.get("200", {}).get("content", {})
    for status, response in responses.items():
        content = response.get("content", {})
        if status[:1] in "45" and PROBLEM_MEDIA_TYPE in content:
            # `problem_responses` names the model, so FastAPI lists it under the route's own
            # media type too; a problem is never served as anything but a problem.
            for media_type in [media for media in content if media != PROBLEM_MEDIA_TYPE]:
                if content[media_type].get("schema") == PROBLEM_SCHEMA:
                    del content[media_type]
    if fhir:
        # FhirRoute answers invalid input with a 400 OperationOutcome, never a 422.
        responses.pop("422", None)
    elif "422" in responses:
        responses["422"] = _problem("Validation error: the problem's `errors` say where")
    takes_body = "requestBody" in operation
    in_path = any(param.get("in") == "path" for param in operation.get("parameters", []))
    if takes_body or in_path:
        bad = responses.setdefault("400", {"description": BAD_REQUEST})
        bad.setdefault("content", {}).setdefault(PROBLEM_MEDIA_TYPE, {"schema": PROBLEM_SCHEMA})
    if takes_body and "413" not in responses:
        responses["413"] = _problem("Content Too Large: the body exceeds the route's limit")
