"""Request ids, JSON logs, Prometheus metrics, and the `/health`, `/ready`, `/metrics` routes."""

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from fastapi import APIRouter, FastAPI, Request, Response
from opentelemetry import trace
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.context import (
    REQUEST_ID_SCOPE_KEY,
    current_request_id,
    reset_request_id,
    set_request_id,
)
from services.common.errors import ServiceUnavailable

REQUEST_ID_HEADER = "x-request-id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
ReadinessCheck = Callable[[], Awaitable[None]]
# Paths whose last segment is a bearer token: whoever reads a log line must not be able to
# open the patient's join page or download the file (the gateway and the service log both).
_TOKEN_IN_PATH = re.compile(r"^((?:https?://[^/]+)?(?:/join/|/api/files/links/))[^/?#]+")
# Query parameters that carry a token (the join page's event stream).
_TOKEN_IN_QUERY = re.compile(r"([?&](?:token|access_token)=)[^&#]*", re.IGNORECASE)
REDACTED = "[redacted]"


def redact_path(path: str) -> str:
    """`path` (with its query, if any; or a whole URL) as it may be logged or traced: bearer
    tokens in it are replaced by `[redacted]`."""
    return _TOKEN_IN_QUERY.sub(rf"\1{REDACTED}", _TOKEN_IN_PATH.sub(rf"\1{REDACTED}", path))


class RedactedAccessLog(logging.Filter):
    """uvicorn's access log (off under `telemed run`, on wherever someone turns it on) with
    the tokens of its request line redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn logs '%s - "%s %s HTTP/%s" %d' with (client, method, path+query, ...).
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_path(args[2]), *args[3:])
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        span = trace.get_current_span().get_span_context()
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": current_request_id(),
            # The trace and span the line was written in (services/common/tracing.py).
            "trace_id": f"{span.trace_id:032x}" if span.is_valid else None,
            "span_id": f"{span.span_id:016x}" if span.is_valid else None,
        }
        for name in ("service", "method", "path", "status", "duration_ms"):
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, *, json_logs: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json_logs:
        handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    access = logging.getLogger("uvicorn.access")
    access.disabled = True  # our middleware logs each request
    if not any(isinstance(known, RedactedAccessLog) for known in access.filters):
        access.addFilter(RedactedAccessLog())
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per outbound call is noise


class RequestContextMiddleware:
    """Accepts a sane `X-Request-ID` or makes one, echoes it, logs and measures each request."""

    def __init__(self, app: ASGIApp, service: str, registry: CollectorRegistry) -> None:
        self.app = app
        self.service = service
        self.logger = logging.getLogger("telemed.access")
        self.requests = Counter(
            "http_requests_total", "HTTP requests", ["method", "route", "status"], registry=registry
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = set_request_id(request_id)
        scope[REQUEST_ID_SCOPE_KEY] = request_id
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER.encode(), request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            # The router leaves the matched route in the scope: label by its template so
            # metrics do not grow a series per case id.
            route = str(getattr(scope.get("route"), "path", "unmatched"))
            self.requests.labels(scope["method"], route, str(status)).inc()
            self.latency.labels(scope["method"], route).observe(elapsed)
            self.logger.info(
                "request",
                extra={
                    "service": self.service,
                    "method": scope["method"],
                    "path": redact_path(scope["path"]),
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            reset_request_id(token)


def health_router(registry: CollectorRegistry, checks: dict[str, ReadinessCheck]) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/health", summary="Liveness: the process answers")
    async def health() -> dict[str, str]:
        """`{"status": "ok"}` while the process serves requests: the liveness probe. Checks
        nothing else, so a database outage does not get the process restarted. No token."""
        return {"status": "ok"}

    @router.get("/ready", summary="Readiness: the database and dependencies answer")
    async def ready(request: Request) -> dict[str, object]:
        """The readiness probe: 200 with the checks run when the database (and whatever else
        the service depends on) answers, else a 503 problem whose `checks` name each failure.
        No token."""
        failed: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await check()
            except Exception as exc:  # readiness reports any failure, it never raises
                failed[name] = type(exc).__name__
        if failed:
            raise ServiceUnavailable("Not ready: " + ", ".join(sorted(failed)), checks=failed)
        return {"status": "ready", "checks": sorted(checks)}

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router


def install_observability(
    app: FastAPI, service: str, checks: dict[str, ReadinessCheck]
) -> CollectorRegistry:
    registry = CollectorRegistry()
    # Memory, CPU seconds, open file descriptors and the interpreter, per process: what sizing
    # and leak hunting need beside the request figures.
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    app.add_middleware(RequestContextMiddleware, service=service, registry=registry)
    app.include_router(health_router(registry, checks))
    return registry
