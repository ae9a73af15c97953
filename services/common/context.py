"""Per-request context (request id) carried through logs, audit records and outbound calls."""

from contextvars import ContextVar

# Where the request-context middleware (services/common/observability.py) also leaves the id,
# for code that runs outside it: Starlette's handler of unhandled errors.
REQUEST_ID_SCOPE_KEY = "telemed.request_id"
_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def set_request_id(value: str | None) -> object:
    return _request_id.set(value)


def reset_request_id(token: object) -> None:
    _request_id.reset(token)  # type: ignore[arg-type]
