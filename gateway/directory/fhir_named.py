"""Whether a record the reader sees names a person: a patient's appointment names its
specialist, a conclusion its author; a specialist's appointment names its patient. The services
holding those records are asked with the reader's own token, so what counts is exactly what each
of them shows the reader; the directory never learns the records, and no service asks it up."""

import uuid
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

import aiohttp
from fastapi import Request

from gateway.proxy import Upstreams
from services.common.context import current_request_id
from services.common.errors import ServiceUnavailable
from services.common.observability import REQUEST_ID_HEADER

# Whether a record the caller sees names the person (`Practitioner` or `Patient`, and id).
Named = Callable[[str, uuid.UUID], Awaitable[bool]]
# Where each kind of person is named: (service, FHIR type, search parameter), likeliest first.
NAMING: dict[str, tuple[tuple[str, str, str], ...]] = {
    "Practitioner": (
        ("scheduling", "Appointment", "practitioner"),
        ("consult", "DiagnosticReport", "performer"),
        ("consult", "Task", "owner"),
        ("consult", "Observation", "performer"),
    ),
    "Patient": (
        ("scheduling", "Appointment", "patient"),
        ("consult", "ServiceRequest", "patient"),
        ("consult", "Observation", "patient"),
    ),
}
ASK_SECONDS = 10.0


def named_in_records(request: Request) -> Named:
    """The check for this request's caller, by their token."""
    upstreams: Upstreams = request.app.state.upstreams
    headers = {
        "Authorization": request.headers.get("authorization", ""),
        REQUEST_ID_HEADER: current_request_id() or "",
    }

    async def named(resource_type: str, person_id: uuid.UUID) -> bool:
        for service, record, parameter in NAMING.get(resource_type, ()):
            query = urlencode({parameter: f"{resource_type}/{person_id}", "_count": "1"})
            response = await upstreams.request(
                service,
                "GET",
                f"/api/{service}/fhir/{record}?{query}",
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=ASK_SECONDS),
            )
            async with response:
                if response.status >= 500:
                    raise ServiceUnavailable(f"The {service} service could not be asked.")
                # A record type the caller's role does not read (403) names no one for them.
                if response.status == 200 and "entry" in await response.json(content_type=None):
                    return True
        return False

    return named
