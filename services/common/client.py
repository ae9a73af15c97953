"""The base of every typed service client: the caller's bearer token on each call, and the
callee's answers mapped to the kernel's typed problems in one place."""

from collections.abc import Collection, Mapping
from typing import Any, ClassVar

import httpx

from services.common.errors import (
    BadGateway,
    BadRequest,
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    ProblemError,
    RangeNotSatisfiable,
    TooManyRequests,
    Unprocessable,
    UnsupportedMediaType,
)

# A callee's refusal is raised again as the same problem, in the callee's own words. A 401 is
# not among them: this service has already accepted the caller's token, so a callee refusing
# the token it was handed is a fault between services (keys, audiences, a service credential),
# not the caller's, and it is a 502 like any other unexpected answer.
PASSED_ON: Mapping[int, type[ProblemError]] = {
    problem.status: problem
    for problem in (
        BadRequest,
        Forbidden,
        NotFound,
        Conflict,
        Gone,
        PreconditionFailed,
        PayloadTooLarge,
        UnsupportedMediaType,
        RangeNotSatisfiable,
        Unprocessable,
        TooManyRequests,
    )
}
# Said for the callee when its refusal has no `detail` of its own.
_DEFAULT_DETAILS = {
    403: "The {name} refused this request.",
    404: "The {name} has nothing of this that is visible to you.",
}


class ServiceClient:
    """Calls one service through a pooled client from `new_client`, whose transport and hooks
    carry the trace context and the request id; typed clients subclass it and name the service.

    `problems` says which of the callee's statuses come back as which problem; a client whose
    callers rely on a different mapping overrides it."""

    problems: ClassVar[Mapping[int, type[ProblemError]]] = PASSED_ON

    def __init__(self, client: httpx.AsyncClient, prefix: str, name: str) -> None:
        self._client = client
        self.prefix = prefix  # the callee's path prefix, "/api/files"
        self.name = name  # for people: "files service"

    async def request(
        self,
        method: str,
        path: str,
        bearer: str,
        *,
        ok: Collection[int] = (200, 201),
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """The callee's response if its status is in `ok`, else the problem it stands for.
        `kwargs` go to `httpx.AsyncClient.request` (`params`, `json`, `content`, and `timeout`
        to override the client's own for one call)."""
        try:
            response = await self._client.request(
                method,
                self.prefix + path,
                headers={"Authorization": f"Bearer {bearer}", **(headers or {})},
                **kwargs,
            )
        except httpx.HTTPError as exc:
            raise BadGateway(f"The {self.name} could not be reached.") from exc
        if response.status_code in ok:
            return response
        raise self.refusal(response)

    def refusal(self, response: httpx.Response) -> Exception:
        """What `request` raises for an answer outside `ok`: the problem `problems` maps its
        status to, in the callee's words, else a 502. A client whose callers must tell a
        status apart in another way overrides it."""
        problem = self.problems.get(response.status_code)
        if problem is None:
            return BadGateway(f"The {self.name} answered {response.status_code}.")
        return problem(self._detail(response), headers=_retry_after(response))

    async def call(
        self,
        method: str,
        path: str,
        bearer: str,
        *,
        ok: Collection[int] = (200, 201),
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        """The callee's JSON answer, as `request` maps it."""
        response = await self.request(method, path, bearer, ok=ok, headers=headers, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise BadGateway(f"The {self.name} answered something other than JSON.") from exc

    def _detail(self, response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            body = None
        detail = body.get("detail") if isinstance(body, dict) else None
        if isinstance(detail, str) and detail:
            return detail
        default = _DEFAULT_DETAILS.get(response.status_code, "The {name} refused it.")
        return default.format(name=self.name)


def _retry_after(response: httpx.Response) -> dict[str, str]:
    """A callee's `Retry-After` (on a 429) holds for the caller too."""
    value = response.headers.get("Retry-After")
    return {"Retry-After": value} if value else {}
