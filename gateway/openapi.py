"""One OpenAPI document for the whole system: the gateway's own paths plus every service's,
finished for generators and browsers: the gateway's servers, licence, contact and OAuth flows
with their scopes (`install`), each tag described and grouped by the service that serves it,
and the FHIR views once, under the facade's public paths (`merge_documents`)."""

import copy
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp
from fastapi import APIRouter, FastAPI, Request

from gateway.console import api_services
from gateway.proxy import Upstreams
from gateway.settings import GatewaySettings
from services.common.errors import ProblemError
from services.common.fhir import PUBLIC_PREFIX as FHIR_PREFIX
from services.common.openapi import METHODS, rename_schemas, security_schemes

logger = logging.getLogger("telemed.gateway.openapi")
CACHE_SECONDS = 30.0
router = APIRouter(include_in_schema=False)

LICENSE = {"name": "Apache-2.0", "identifier": "Apache-2.0"}
# Every scope a token can carry (a test holds this to gateway/scopes.py and oauth/enums.py).
SCOPES = {
    "openid": "An ID token: who signed in (people's sign-in only)",
    "profile": "Their name and username in the ID token and userinfo",
    "email": "Their e-mail address in the ID token and userinfo",
    "offline_access": "A refresh token: the application stays signed in",
    "consult:read": "API clients: read the organisation's cases and conclusions",
    "consult:write": "API clients: create, change and submit cases",
    "files:read": "API clients: read files",
    "files:write": "API clients: upload files",
    "telephony:events": "A PBX reporting its calls",
    "webhooks:manage": "API clients: manage their webhook subscriptions",
    "video:rooms": "Service clients only: control every appointment's video room",
}
# The gateway's own tags come first; the rest are listed under the service serving them.
SERVICE_NAMES = {
    "gateway": "Gateway: sign-in, people, notifications, webhooks",
    "consult": "Consultations",
    "scheduling": "Scheduling",
    "video": "Video",
    "files": "Files",
}
TAGS = {
    # gateway
    "operations": "Liveness and readiness of the gateway and the services behind it.",
    "auth": "Tokens (the OAuth 2.0 token, revocation and introspection endpoints), passwords "
    "and a person's sign-ins.",
    "sign-in": "OpenID Connect: authorization (with PKCE), discovery, userinfo, sign-out and "
    "federated sign-in. Browsers are sent here; pages, not JSON, answer most of it.",
    "directory": "Organisations, users, API clients and OAuth clients: who may do what.",
    "patients": "Patients registered with an organisation, found by the staff who serve them.",
    "notify": "Messages to people (e-mail, SMS) and each person's preferences.",
    "webhooks": "Subscriptions to the system's events, delivered signed to your URL.",
    "fhir": "Read-only FHIR R4 views (`application/fhir+json`) of cases, conclusions, files "
    "and appointments; errors are OperationOutcomes.",
    "audit": "Verification of a service's tamper-evident audit trail (administrators).",
    # consult
    "cases": "Doctor-to-doctor consultation cases: a district medic asks, a regional "
    "centre's specialist concludes.",
    "queue": "The work queue of cases and what is overdue.",
    "lifecycle": "Moving a case through its states: submit, accept, start, ask for and "
    "provide information, decline, cancel.",
    "messages": "The conversation on a case.",
    "conclusions": "A specialist's signed conclusion on a case, and the keys to verify it.",
    "patient requests": "Patients' own requests, their worsening signs and follow-up visits.",
    "consilium": "Several specialists' opinions on one case, and their protocol.",
    "monitoring": "Remote monitoring programmes: enrolments, patients' check-ins and the "
    "tasks their readings raise.",
    "appeals": "The hotline: appeals from the public, routed to the organisation answering.",
    "appeal lifecycle": "Routing, taking, reassigning, resolving and closing an appeal.",
    "territory map": "Which organisation answers the appeals from each territory.",
    "callbacks": "Calling people back about their appeals.",
    "calls": "A PBX's calls: events in, linked to appeals, with their recordings.",
    "knowledge base": "Articles the hotline answers with, versioned and searchable.",
    "home visits": "Home visits: requested, assigned to a visiting team, done.",
    "chats": "Chat channels (Telegram): the bot's webhook in, and people's chat bindings.",
    "redirect answers": "What an organisation's callers are told on topics its channels "
    "do not handle, in Russian and English.",
    "statistics": "Figures of the consultations and the hotline.",
    # files
    "files": "Files (documents, images, DICOM studies): upload, download, links, holds.",
    "resumable uploads (tus 1.0)": "Large files uploaded in parts with the tus 1.0 protocol.",
    # scheduling
    "availability": "Free slots of the organisations' schedules.",
    "schedules": "Who receives when: weekly hours and their exceptions.",
    "appointments": "Booked visits, in person or by video.",
    "appointment lifecycle": "Confirming, checking in, fulfilling, cancelling and "
    "rescheduling an appointment.",
    "episodes": "Episodes of care, and the follow-ups they plan.",
    # video
    "video": "Video rooms of appointments and consilia: tokens, invitees, recordings.",
    "video signalling": "Joining a room (an SDP offer and answer), ICE, events, consent.",
    "ICU wards": "Intensive care wards watched by video: beds, their cameras, alarms.",
    "ICU ward signalling": "Bed cameras publishing and viewers watching a ward.",
}


def install(app: FastAPI, settings: GatewaySettings) -> None:
    """The gateway's own document, the one the services' are merged into, gets the public
    servers, licence, contact and the OAuth flows at the gateway's real endpoints."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            public = settings.public_url.rstrip("/")
            document["servers"] = [{"url": public, "description": "This gateway"}]
            contact = {"name": settings.api_contact_name, "url": public}
            if settings.api_contact_email:
                contact["email"] = settings.api_contact_email
            document["info"] |= {"license": LICENSE, "contact": contact}
            document.setdefault("components", {})["securitySchemes"] = security_schemes(
                public, SCOPES
            )
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def merge_documents(own: dict[str, Any], services: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Services already serve their paths under `/api/<service>/`, so paths merge as they are;
    a component name two documents define differently is prefixed with the service's name
    (`ConsultPatient`)."""
    merged = copy.deepcopy(own)
    paths = merged.setdefault("paths", {})
    components = merged.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    used = {"gateway": _tags(own)}
    for service, document in sorted(services.items()):
        renames = {
            name: service.title() + name
            for name, schema in document.get("components", {}).get("schemas", {}).items()
            if name in schemas and schemas[name] != schema
        }
        text = rename_schemas(document, renames)
        for name, schema in text.get("components", {}).get("schemas", {}).items():
            schemas[renames.get(name, name)] = schema
        published = {
            path: item
            for path, item in text.get("paths", {}).items()
            if path.startswith(f"/api/{service}/")
        }
        for path, item in published.items():
            if path.startswith(f"/api/{service}/fhir/"):
                _add_fhir(paths, FHIR_PREFIX + path.removeprefix(f"/api/{service}/fhir"), item)
            else:
                paths[path] = item
        used[service] = _tags({"paths": published})
    if any(path.startswith(f"{FHIR_PREFIX}/") and "{" not in path for path in paths):
        # The facade's generic routes are what the typed paths above are served by.
        paths.pop(f"{FHIR_PREFIX}/{{resource_type}}", None)
        paths.pop(f"{FHIR_PREFIX}/{{resource_type}}/{{resource_id}}", None)
    _describe_tags(merged, used)
    return merged


def _tags(document: dict[str, Any]) -> list[str]:
    seen: dict[str, None] = {}
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method in METHODS:
                seen.update(dict.fromkeys(operation.get("tags", [])))
    return list(seen)


def _add_fhir(paths: dict[str, Any], path: str, item: dict[str, Any]) -> None:
    """A service's FHIR route under the facade's path; a search two services answer (the
    facade picks one by the parameters) is one operation with both services' parameters
    and either one's scopes."""
    existing = paths.get(path)
    if existing is None:
        paths[path] = item
        return
    for method, operation in item.items():
        if method not in existing:
            existing[method] = operation
            continue
        kept = existing[method]
        names = {(param["name"], param["in"]) for param in kept.get("parameters", [])}
        kept.setdefault("parameters", []).extend(
            param
            for param in operation.get("parameters", [])
            if (param["name"], param["in"]) not in names
        )
        # Which service answers depends on the parameters, so either one's scopes will do.
        security = kept.setdefault("security", [])
        security.extend(entry for entry in operation.get("security", []) if entry not in security)
        for status, response in operation.get("responses", {}).items():
            kept["responses"].setdefault(status, response)
        if operation.get("description") and operation["description"] not in kept.get(
            "description", ""
        ):
            kept["description"] = "\n\n".join(
                text for text in (kept.get("description"), operation["description"]) if text
            )


def _describe_tags(merged: dict[str, Any], used: dict[str, list[str]]) -> None:
    """Each tag once, described, and grouped by service for ReDoc (`x-tagGroups`): a tag two
    services share (`fhir`, `audit`) is in both groups."""
    names = [tag for tags in used.values() for tag in tags]
    merged["tags"] = [
        {"name": name, **({"description": TAGS[name]} if name in TAGS else {})}
        for name in dict.fromkeys(names)
    ]
    merged["x-tagGroups"] = [
        {"name": SERVICE_NAMES.get(service, service), "tags": tags}
        for service, tags in used.items()
        if tags
    ]


async def _fetch(upstreams: Upstreams) -> dict[str, dict[str, Any]]:
    documents = {}
    for name in api_services(upstreams.urls):
        try:
            documents[name] = await upstreams.get_json(name, "/openapi.json", seconds=5.0)
        except (ProblemError, aiohttp.ClientError, ValueError):
            logger.warning("OpenAPI of %s is unavailable; left out of the merged document", name)
    return documents


@router.get("/openapi.json")
async def openapi(request: Request) -> dict[str, Any]:
    app: FastAPI = request.app
    cached = getattr(app.state, "merged_openapi", None)
    if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
        document: dict[str, Any] = cached[1]
        return document
    services = await _fetch(app.state.upstreams)
    document = merge_documents(app.openapi(), services)
    if len(services) == len(api_services(app.state.upstreams.urls)):
        app.state.merged_openapi = (time.monotonic(), document)
    return document
