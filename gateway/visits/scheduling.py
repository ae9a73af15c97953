"""Scheduling as the gateway asks it for itself, through its own upstream (not the proxy):
an appointment, and the patient's join link of a remote visit, each with the bearer the call
is made for. Scheduling applies its own rules to that bearer, as for any caller."""

import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp
from fastapi import Request

from gateway.proxy import Upstreams
from gateway.settings import GatewaySettings
from services.common.context import current_request_id
from services.common.errors import BadGateway, ServiceUnavailable
from services.common.observability import REQUEST_ID_HEADER

SERVICE = "scheduling"
APPOINTMENTS = "/api/scheduling/appointments"


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]  # the JSON answer, or a problem; empty if the answer was neither


class Scheduling:
    def __init__(self, upstreams: Upstreams, settings: GatewaySettings) -> None:
        self._upstreams = upstreams
        self._timeout = aiohttp.ClientTimeout(total=settings.proxy_read_timeout)

    @classmethod
    def of(cls, request: Request) -> "Scheduling":
        return cls(request.app.state.upstreams, request.app.state.settings)

    async def _call(self, method: str, path: str, bearer: str) -> Answer:
        """Problems of reaching the service (down, not published here) are raised as such."""
        if SERVICE not in self._upstreams.urls:
            raise ServiceUnavailable("The scheduling service is not published by this gateway.")
        headers = {
            "Authorization": f"Bearer {bearer}",
            REQUEST_ID_HEADER: current_request_id() or "",
        }
        response = await self._upstreams.request(
            SERVICE, method, path, headers=headers, timeout=self._timeout
        )
        async with response:
            try:
                body = await response.json(content_type=None)
            except ValueError:
                body = None
            except aiohttp.ClientError as exc:
                raise BadGateway("The scheduling service's answer was cut short.") from exc
        return Answer(response.status, body if isinstance(body, dict) else {})

    async def appointment(self, appointment_id: uuid.UUID, bearer: str) -> Answer:
        return await self._call("GET", f"{APPOINTMENTS}/{appointment_id}", bearer)

    async def join_link(self, appointment_id: uuid.UUID, bearer: str) -> Answer:
        return await self._call("POST", f"{APPOINTMENTS}/{appointment_id}/join-link", bearer)
