"""A service's own access token, from the gateway by the OAuth 2.0 client credentials grant:
scheduling sets video rooms up with it, consult's chats read the directory with it."""

import time
from collections.abc import Callable

import httpx
from pydantic import SecretStr

from services.common.errors import BadGateway, ServiceUnavailable

# Renewed this long before it expires, so no token runs out on its way to another service.
RENEW_BEFORE_SECONDS = 60.0


class ServiceToken:
    """The token of the API client a service is registered as, reused until shortly before it
    expires. Two callers that find it stale at once both fetch one; either token is good.
    `service` names it in refusals, `missing` says how to configure one."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        credentials: Callable[[], tuple[str, SecretStr] | None],
        *,
        service: str,
        missing: str,
    ) -> None:
        self._client = client
        self._credentials = credentials
        self._service = service
        self._missing = missing
        self._token: str | None = None
        self._renew_at = 0.0

    @property
    def available(self) -> bool:
        return self._credentials() is not None

    async def get(self) -> str:
        if self._token is not None and time.monotonic() < self._renew_at:
            return self._token
        credentials = self._credentials()
        if credentials is None:
            raise ServiceUnavailable(
                f"{self._service} has no API client to act as ({self._missing})."
            )
        client_id, secret = credentials
        try:
            response = await self._client.post(
                "/api/auth/token",
                data={"grant_type": "client_credentials"},
                auth=(client_id, secret.get_secret_value()),
            )
        except httpx.HTTPError as exc:
            raise BadGateway(
                f"The gateway could not be reached for {self._service}'s token."
            ) from exc
        if response.status_code != 200:
            raise BadGateway(
                f"The gateway refused {self._service}'s credentials ({response.status_code})."
            )
        try:
            body = response.json()
            token, lifetime = str(body["access_token"]), float(body["expires_in"])
        except (ValueError, KeyError, TypeError) as exc:
            raise BadGateway(
                f"The gateway's token answer for {self._service} is unreadable."
            ) from exc
        self._token = token
        self._renew_at = time.monotonic() + lifetime - RENEW_BEFORE_SECONDS
        return self._token
