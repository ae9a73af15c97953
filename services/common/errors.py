"""One typed error hierarchy, rendered as RFC 9457 `application/problem+json` by one handler."""

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.common.context import (
    REQUEST_ID_SCOPE_KEY,
    current_request_id,
    reset_request_id,
    set_request_id,
)
from services.common.headers import with_api_headers

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://telemed.example/problems/"
logger = logging.getLogger("telemed.errors")


class ValidationIssue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details, with `errors` for validation failures."""

    type: str = Field(examples=[PROBLEM_TYPE_BASE + "not-found"])
    title: str = Field(examples=["Not Found"])
    status: int = Field(examples=[404])
    detail: str | None = Field(default=None, examples=["No case with this id is visible to you."])
    instance: str | None = Field(default=None, examples=["/api/consult/cases/0b9c..."])
    request_id: str | None = None
    errors: list[ValidationIssue] | None = None


class ProblemError(Exception):
    """Base of every error a service raises on purpose; carries what the problem document says."""

    status: int = 500
    slug: str = "internal-error"
    title: str | None = None  # for statuses HTTP does not name, such as tus's 460

    def __init__(
        self, detail: str, *, headers: dict[str, str] | None = None, **extensions: Any
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.extensions = extensions


class BadRequest(ProblemError):
    status, slug = 400, "bad-request"


class Unauthorized(ProblemError):
    status, slug = 401, "unauthorized"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(
            detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}, **extensions
        )


class Forbidden(ProblemError):
    status, slug = 403, "forbidden"


class NotFound(ProblemError):
    status, slug = 404, "not-found"


class Conflict(ProblemError):
    status, slug = 409, "conflict"


class Gone(ProblemError):
    status, slug = 410, "gone"


class RequestTimeout(ProblemError):
    status, slug = 408, "request-timeout"


class PreconditionFailed(ProblemError):
    status, slug = 412, "precondition-failed"


class PayloadTooLarge(ProblemError):
    status, slug = 413, "payload-too-large"


class UnsupportedMediaType(ProblemError):
    status, slug = 415, "unsupported-media-type"


class RangeNotSatisfiable(ProblemError):
    status, slug = 416, "range-not-satisfiable"


class RequestHeaderFieldsTooLarge(ProblemError):
    status, slug = 431, "request-header-fields-too-large"


class Unprocessable(ProblemError):
    status, slug = 422, "unprocessable"


class UnknownReference(Unprocessable):
    """A 422 for an id in the request that names nothing the caller may name (a random id,
    another organisation's patient): a denial on the audit trail, like a 404."""


class TooManyRequests(ProblemError):
    status, slug = 429, "too-many-requests"


class BadGateway(ProblemError):
    status, slug = 502, "bad-gateway"


class ServiceUnavailable(ProblemError):
    status, slug = 503, "service-unavailable"


class GatewayTimeout(ProblemError):
    status, slug = 504, "gateway-timeout"


def problem_response(
    request: Request,
    status: int,
    *,
    slug: str | None = None,
    title: str | None = None,
    detail: str | None = None,
    headers: Mapping[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> JSONResponse:
    known = status in HTTPStatus._value2member_map_
    phrase = title or (HTTPStatus(status).phrase if known else "Error")
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + (slug or phrase.lower().replace(" ", "-")),
        "title": phrase,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "request_id": current_request_id(),
    }
    body.update(extensions or {})
    return JSONResponse(
        {k: v for k, v in body.items() if v is not None},
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def problem_error_response(request: Request, exc: ProblemError) -> JSONResponse:
    """The problem document `exc` stands for."""
    return problem_response(
        request,
        exc.status,
        slug=exc.slug,
        title=exc.title,
        detail=exc.detail,
        headers=exc.headers,
        extensions=exc.extensions,
    )


async def _problem_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_error_response(request, exc)


def _jsonable_loc(loc: Sequence[Any]) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in loc]


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    issues = [
        {"loc": _jsonable_loc(err.get("loc", ())), "msg": err.get("msg", ""), "type": err["type"]}
        for err in exc.errors()
    ]
    return problem_response(
        request,
        422,
        slug="validation-error",
        detail="The request is not valid; see `errors`.",
        extensions={"errors": issues},
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    if exc.status_code == 404 and detail == "Not Found":
        detail = "No such resource."
    return problem_response(request, exc.status_code, detail=detail, headers=exc.headers)


def _retry_shortly(request: Request, slug: str, detail: str) -> JSONResponse:
    return problem_response(request, 503, slug=slug, detail=detail, headers={"Retry-After": "1"})


async def _database_busy(request: Request, exc: Exception) -> JSONResponse:
    logger.warning("no database connection became free in time", exc_info=exc)
    return _retry_shortly(request, "database-busy", "The database is busy; retry shortly.")


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        logger.warning("database connection lost; the pool will reconnect", exc_info=exc)
        return _retry_shortly(
            request, "database-unavailable", "The database connection was lost; retry shortly."
        )
    return await _unexpected_error(request, exc)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # For an unhandled error Starlette calls this from its outermost middleware, after the
    # request-context middleware has let go of the request id and stopped adding its header:
    # take the id back from the scope for the log line, the body and the header.
    outside = current_request_id() is None
    token = set_request_id(current_request_id() or request.scope.get(REQUEST_ID_SCOPE_KEY))
    try:
        logger.exception("unhandled error", exc_info=exc)
        # The server drops the connection after an unhandled error; saying so keeps a client
        # (the gateway's pool) from sending its next request on a connection about to close.
        headers = {"Connection": "close"}
        if outside and (request_id := current_request_id()):
            headers["X-Request-ID"] = request_id
        response = problem_response(
            request,
            500,
            slug="internal-error",
            detail="An unexpected error occurred; it was logged.",
            headers=headers,
        )
        if outside:
            response.raw_headers = with_api_headers(response.raw_headers)
        return response
    finally:
        reset_request_id(token)


async def _statement_error(request: Request, exc: Exception) -> JSONResponse:
    # A value refused as SQLAlchemy bound it (`db.UTCDateTime`) reaches us wrapped.
    assert isinstance(exc, StatementError)
    if isinstance(exc.orig, ProblemError):
        return await _problem_error(request, exc.orig)
    return await _unexpected_error(request, exc)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _problem_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(StatementError, _statement_error)
    app.add_exception_handler(PoolTimeout, _database_busy)
    app.add_exception_handler(Exception, _unexpected_error)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries declaring which problems an endpoint can return."""
    return {
        status: {
            "model": Problem,
            "description": HTTPStatus(status).phrase
            if status in HTTPStatus._value2member_map_
            else "Error",
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
