"""Each service's OpenAPI document, completed with what the kernel answers for every route:
problems are `application/problem+json` only, validation failures are problems (a FHIR route's
are OperationOutcomes, with a 400), and a request the kernel refuses before its route runs is
documented where a client can send one: an unparseable or oversized body, an ambiguous path.
Also the parts generators need from every route alike: its operationId (`operation_id`), the
security schemes a token is declared by (`OAUTH2`, `BEARER`), and `security: []` on the routes
that take none, so that every operation says what it needs."""

import re
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Security
from fastapi.openapi.models import OAuthFlowAuthorizationCode, OAuthFlowClientCredentials
from fastapi.openapi.models import OAuthFlows as OAuthFlowsModel
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer, OAuth2

from services.common.errors import PROBLEM_MEDIA_TYPE
from services.common.fhir import FHIR_MEDIA_TYPE

# The gateway's endpoints, relative to the document's server (every service is behind it);
# the gateway's own document names them absolutely, with its scopes (`security_schemes`).
AUTHORIZE_PATH = "/oauth/authorize"
TOKEN_PATH = "/api/auth/token"
OAUTH2_NAME, BEARER_NAME = "oauth2", "bearer"
OAUTH2_DESCRIPTION = (
    "Access tokens from the gateway: people sign in with the authorization code flow and PKCE "
    "(S256; public clients must use it), programs with client credentials. Scopes limit API "
    "clients only: a person's rights follow their role."
)
BEARER_DESCRIPTION = "The same access token (a JWT, `at+jwt`) however it was obtained."
CLIENT_NAME = "client"
CLIENT_DESCRIPTION = (
    "A client's own id and secret (HTTP Basic, RFC 6749 section 2.3.1): an API client's, or a "
    "confidential OAuth client's, at the token endpoint's introspection and revocation."
)
# What introspection asks for; revocation asks it of confidential clients only, so a public
# client (the console's browser, an app) may name itself in the form instead.
CLIENT_SECURITY: list[dict[str, list[str]]] = [{CLIENT_NAME: []}]
CLIENT_OR_PUBLIC_SECURITY: list[dict[str, list[str]]] = [{CLIENT_NAME: []}, {}]
CREDENTIAL_NAME = "credential"
CREDENTIAL_DESCRIPTION = (
    "Not an access token: a video room's join token (`POST /api/video/rooms/{id}/tokens`, or "
    "the patient's link), an ICU ward's watch token or a bed camera's device credential."
)


def security_schemes(base: str, scopes: Mapping[str, str]) -> dict[str, Any]:
    """The document's `securitySchemes`: `base` is where the gateway is reached ('' for the
    document's own server), `scopes` what each scope lets a token do."""
    return {
        OAUTH2_NAME: {
            "type": "oauth2",
            "description": OAUTH2_DESCRIPTION,
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": base + AUTHORIZE_PATH,
                    "tokenUrl": base + TOKEN_PATH,
                    "scopes": dict(scopes),
                },
                "clientCredentials": {"tokenUrl": base + TOKEN_PATH, "scopes": dict(scopes)},
            },
        },
        BEARER_NAME: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": BEARER_DESCRIPTION,
        },
        CREDENTIAL_NAME: {
            "type": "http",
            "scheme": "bearer",
            "description": CREDENTIAL_DESCRIPTION,
        },
        CLIENT_NAME: {"type": "http", "scheme": "basic", "description": CLIENT_DESCRIPTION},
    }


# Declared only, never to read the header (`auth.bearer_token` does, with our problems): a
# route that depends on the caller's token lists them, so FastAPI writes its `security`.
OAUTH2 = OAuth2(
    flows=OAuthFlowsModel(
        authorizationCode=OAuthFlowAuthorizationCode(
            authorizationUrl=AUTHORIZE_PATH, tokenUrl=TOKEN_PATH, scopes={}
        ),
        clientCredentials=OAuthFlowClientCredentials(tokenUrl=TOKEN_PATH, scopes={}),
    ),
    scheme_name=OAUTH2_NAME,
    description=OAUTH2_DESCRIPTION,
    auto_error=False,
)
BEARER = HTTPBearer(
    bearerFormat="JWT", scheme_name=BEARER_NAME, description=BEARER_DESCRIPTION, auto_error=False
)
CREDENTIAL = HTTPBearer(
    scheme_name=CREDENTIAL_NAME, description=CREDENTIAL_DESCRIPTION, auto_error=False
)
# For routes that read a token themselves rather than through `auth.current_principal`.
TOKEN_SECURITY = [Security(OAUTH2), Security(BEARER)]
CREDENTIAL_SECURITY = [Security(CREDENTIAL)]
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"


def form_example(**fields: str) -> dict[str, Any]:
    """A route's `openapi_extra` showing a form body's example: FastAPI puts none on a form
    (OAuth's endpoints take forms, as their RFCs say)."""
    return {"requestBody": {"content": {FORM_MEDIA_TYPE: {"example": fields}}}}


# Tags whose own words would make a poor start of an id: the domain their routes act on.
DOMAINS = {
    "lifecycle": "cases",
    "queue": "cases",
    "appointment lifecycle": "appointments",
    "appeal lifecycle": "appeals",
    "territory map": "territories",
    "video": "rooms",
    "video signalling": "rooms",
    "ICU wards": "wards",
    "ICU ward signalling": "wards",
    "resumable uploads (tus 1.0)": "uploads",
    "knowledge base": "knowledge",
    "sign-in": "oauth",
    "statistics": "stats",
}
OPERATION_ID = re.compile(r"^[a-z][a-z0-9_]*$")
FHIR_PATH = re.compile(r"/fhir/(?P<type>[A-Z][A-Za-z]+)(?P<id>/\{[^}/]+\})?$")


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") else word


def operation_id(route: APIRoute) -> str:
    """`<domain>_<verb>`: the domain from the route's last (most specific) tag, the verb from
    the endpoint's name less the domain's own words (`cancel_case` under `lifecycle` is
    `cases_cancel`); a FHIR route's from its resource type. A route that reads badly so, or
    would repeat another, names its own (`operation_id=`); the aggregated document's ids are
    checked unique by a test."""
    fhir = FHIR_PATH.search(route.path_format)
    if fhir:  # one rule for every service's FHIR routes: `fhir_read_task`, `fhir_search_slot`
        kind = re.sub(r"(?<!^)(?=[A-Z])", "_", fhir["type"]).lower()
        return f"fhir_{'read' if fhir['id'] else 'search'}_{kind}"
    tag = str(route.tags[-1]) if route.tags else "default"
    domain = re.sub(r"[^a-z0-9]+", "_", DOMAINS.get(tag, tag).lower()).strip("_")
    own = {word for part in domain.split("_") for word in (part, _singular(part))}
    words = [word for word in route.name.lower().split("_") if word and word not in own]
    return "_".join([domain, *words]) if words else domain


METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})
SCHEMAS = "#/components/schemas/"
PROBLEM_SCHEMA = {"$ref": SCHEMAS + "Problem"}
# Module names that say nothing about which of two same-named models a schema is.
GENERIC_MODULES = frozenset({"services", "gateway", "consult", "schemas", "models", "enums"})
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


def rename_schemas(document: dict[str, Any], renames: Mapping[str, str]) -> dict[str, Any]:
    """The document with these component schemas renamed, every `$ref` to them with them, and
    their titles too: generators name classes by title, and keep one of two that share it."""
    if not renames:
        return document

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str) and value.startswith(SCHEMAS):
                    name = value.removeprefix(SCHEMAS)
                    value = SCHEMAS + renames.get(name, name)
                out[key] = walk(value)
            return out
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    renamed: dict[str, Any] = walk(document)
    schemas = renamed.get("components", {}).get("schemas", {})
    for old, new in renames.items():
        if old in schemas:
            schemas[new] = schemas.pop(old) | {"title": new}
    return renamed


def _module_names(schemas: Mapping[str, Any]) -> dict[str, str]:
    """FastAPI names two models of one name by their modules
    (`services__consult__cases__schemas__MessageOut`); the domain's name is enough:
    `CasesMessageOut`."""
    renames: dict[str, str] = {}
    for name in schemas:
        if "__" not in name:
            continue
        *modules, model = name.split("__")
        words = [module for module in modules if module not in GENERIC_MODULES]
        short = "".join(word.title().replace("_", "") for word in words[-1:]) + model
        if short not in schemas and short not in renames.values():
            renames[name] = short
    return renames


def complete(document: dict[str, Any]) -> dict[str, Any]:
    document = rename_schemas(
        document, _module_names(document.get("components", {}).get("schemas", {}))
    )
    components = document.setdefault("components", {})
    if "securitySchemes" in components:
        # FastAPI writes only the schemes some route declares, so documents would differ.
        components["securitySchemes"] = security_schemes("", {})
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method in METHODS:
                _complete_operation(operation)
    return document


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}}}


def _complete_operation(operation: dict[str, Any]) -> None:
    # Said outright: a document with no top-level `security` leaves a route without its own
    # ambiguous to linters, and public routes (the token endpoint, JWKS, health) take none.
    operation.setdefault("security", [])
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
