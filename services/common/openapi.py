"""Each service's OpenAPI document, completed with what the kernel answers for every route:
problems are `application/problem+json` only, validation failures are problems (a FHIR route's
are OperationOutcomes, with a 400), and a request the kernel refuses before its route runs is
documented where a client can send one: an unparseable or oversized body, an ambiguous path.
Also the parts generators need from every route alike: its operationId (`operation_id`), the
security schemes a token is declared by (`OAUTH2`, `BEARER`) with the scopes an API client
needs (`client_scopes`), `security: []` on the routes that take none, so that every operation
says what it needs, and, in a schema only answers use, every field an answer always holds
marked `required` (services/common/openapi_schemas.py)."""

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

# `METHODS` and `rename_schemas` also for the gateway, which merges documents with them.
from services.common.openapi_schemas import METHODS as METHODS
from services.common.openapi_schemas import SCHEMAS, always_present, module_names
from services.common.openapi_schemas import rename_schemas as rename_schemas

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
    document's own server), `scopes` what each scope lets a token do. A person's sign-in grants
    OpenID Connect's scopes (one word: `openid`) and an API client holds `<area>:<verb>` ones
    (gateway/scopes.py), so each flow offers only its own: one a sign-in cannot grant would be
    refused by the authorization endpoint (`invalid_scope`)."""
    sign_in = {name: text for name, text in scopes.items() if ":" not in name}
    clients = {name: text for name, text in scopes.items() if ":" in name}
    return {
        OAUTH2_NAME: {
            "type": "oauth2",
            "description": OAUTH2_DESCRIPTION,
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": base + AUTHORIZE_PATH,
                    "tokenUrl": base + TOKEN_PATH,
                    "scopes": sign_in,
                },
                "clientCredentials": {"tokenUrl": base + TOKEN_PATH, "scopes": clients},
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


def client_scopes(*scopes: str) -> list[Any]:
    """A route's `dependencies=`: the scopes an API client needs for it, which its service
    checks (`auth.require_client_scope`) and the operation's `security` names. People's tokens
    need none (their role decides). tests/openapi/test_scopes.py holds what a route names to
    what it refuses a client without them."""
    return [Security(OAUTH2, scopes=list(scopes))]


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


PROBLEM_SCHEMA = {"$ref": SCHEMAS + "Problem"}
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
    document = rename_schemas(
        document, module_names(document.get("components", {}).get("schemas", {}))
    )
    components = document.setdefault("components", {})
    if "securitySchemes" in components:
        # FastAPI writes only the schemes some route declares, so documents would differ.
        components["securitySchemes"] = security_schemes("", {})
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method in METHODS:
                _complete_operation(operation)
    always_present(document)
    return document


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}}}


def _complete_operation(operation: dict[str, Any]) -> None:
    # Said outright: a document with no top-level `security` leaves a route without its own
    # ambiguous to linters, and public routes (the token endpoint, JWKS, health) take none.
    security: list[dict[str, list[str]]] = operation.setdefault("security", [])
    named = [scope for entry in security for scope in entry.get(OAUTH2_NAME, [])]
    if named:
        # The same token however obtained, so the same scopes (OpenAPI 3.1 lets a scheme
        # other than OAuth name what it needs too).
        operation["security"] = [
            {
                name: named if name in (OAUTH2_NAME, BEARER_NAME) else scopes
                for name, scopes in entry.items()
            }
            for entry in security
        ]
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
