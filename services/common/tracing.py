"""Distributed tracing: W3C trace context in and out, and OpenTelemetry spans per app."""

import asyncio
from dataclasses import dataclass, field

import httpx
from fastapi import FastAPI
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, TraceIdRatioBased
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext, SpanKind, StatusCode
from opentelemetry.trace import TraceFlags as Flags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.observability import redact_path
from services.common.settings import ServiceSettings

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
# Trace Context Level 2: names the server span that answered, so a caller can quote it.
TRACERESPONSE = "traceresponse"
# What a proxy must not pass along: it sends its own span's context, and answers with its own.
TRACE_HEADERS = frozenset({TRACEPARENT, TRACESTATE, TRACERESPONSE})

_SCOPE_KEY = "telemed.trace"
_NO_PARENT = Context()
_propagator = TraceContextTextMapPropagator()


def _exporter(settings: ServiceSettings) -> SpanExporter | None:
    if settings.otel_exporter == "otlp":
        # Imported only when used: it brings protobuf and requests along.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=settings.otel_endpoint or None)
    if settings.otel_exporter == "console":
        return ConsoleSpanExporter()
    return None


class Tracing:
    """One app's tracer provider: several apps share a process in tests, so never the global one.

    With no exporter nothing would read a recorded span, so spans are then only ids and a
    sampling decision (about a third of the cost): enough to propagate `traceparent` and to put
    trace ids in log lines. Adding a span processor turns recording on."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.sampler = ParentBased(TraceIdRatioBased(settings.otel_sample_ratio))
        self.provider = TracerProvider(
            sampler=self.sampler,
            resource=Resource.create({SERVICE_NAME: settings.service_name}),
            shutdown_on_exit=False,  # the app's lifespan shuts it down; tests make many apps
        )
        self._tracer = self.provider.get_tracer("telemed")
        self._ids = RandomIdGenerator()
        self.recording = False
        exporter = _exporter(settings)
        if exporter is not None:
            self.add_span_processor(BatchSpanProcessor(exporter))

    def add_span_processor(self, processor: SpanProcessor) -> None:
        self.provider.add_span_processor(processor)
        self.recording = True

    def start_span(
        self, name: str, *, kind: SpanKind = SpanKind.INTERNAL, parent: Context | None = None
    ) -> Span:
        """A span under `parent`'s span, or under the current one when `parent` is None."""
        if self.recording:
            return self._tracer.start_span(name, parent, kind)
        caller = trace.get_current_span(parent).get_span_context()
        if caller.is_valid:
            trace_id, flags = caller.trace_id, caller.trace_flags & Flags.RANDOM_TRACE_ID
        else:
            trace_id, flags = self._ids.generate_trace_id(), Flags.RANDOM_TRACE_ID
        decision = self.sampler.should_sample(parent, trace_id, name, kind)
        if decision.decision is Decision.RECORD_AND_SAMPLE:
            flags |= Flags.SAMPLED
        return NonRecordingSpan(
            SpanContext(trace_id, self._ids.generate_span_id(), False, Flags(flags),
                        decision.trace_state)
        )  # fmt: skip

    async def aclose(self) -> None:
        """Exports what is still batched, off the event loop: a slow collector must not stall it."""
        await asyncio.to_thread(self.provider.shutdown)


def traceparent(span: Span) -> str:
    context = span.get_span_context()
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"


def trace_headers(span: Span) -> list[tuple[str, str]]:
    """`traceparent` naming `span` as the parent, and the trace's `tracestate` if it has one."""
    headers = [(TRACEPARENT, traceparent(span))]
    state = span.get_span_context().trace_state
    if state:
        headers.append((TRACESTATE, state.to_header()))
    return headers


def end_span(span: Span, status: int, *, error_from: int) -> None:
    """Ends an HTTP span with its response status: a server's error is a 5xx, a client's any
    4xx or 5xx (OpenTelemetry's HTTP conventions)."""
    if span.is_recording():
        span.set_attribute("http.response.status_code", status)
        if status >= error_from:
            span.set_status(StatusCode.ERROR)
    span.end()


def record_failure(span: Span, exc: BaseException) -> None:
    if span.is_recording():
        span.record_exception(exc)
        span.set_status(StatusCode.ERROR, type(exc).__name__)


def _caller_context(headers: list[tuple[bytes, bytes]]) -> Context:
    """The caller's span from a valid `traceparent`; anything else starts a new trace (a
    server never continues the in-process context: the caller is another service)."""
    parent: bytes | None = None
    states: list[str] = []
    for name, value in headers:
        if name == b"traceparent":
            if parent is not None:
                return _NO_PARENT  # two of them: neither can be trusted
            parent = value
        elif name == b"tracestate":
            states.append(value.decode("latin-1"))
    if parent is None:
        return _NO_PARENT
    carrier: dict[str, str | list[str]] = {TRACEPARENT: parent.decode("latin-1")}
    if states:
        carrier[TRACESTATE] = states
    return _propagator.extract(carrier, context=_NO_PARENT)


@dataclass(slots=True)
class _Exchange:
    """What the server span of one request shares with the code handling it."""

    tracing: Tracing
    forwards: list[Span] = field(default_factory=list)


class TracingMiddleware:
    """A server span per HTTP request, named by method and route template; a 5xx marks it as
    an error. It is the current span while the request runs, so log lines and outbound calls
    made meanwhile carry its trace."""

    def __init__(self, app: ASGIApp, tracing: Tracing) -> None:
        self.app = app
        self.tracing = tracing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        span = self.tracing.start_span(
            method, kind=SpanKind.SERVER, parent=_caller_context(scope["headers"])
        )
        exchange = _Exchange(self.tracing)
        scope[_SCOPE_KEY] = exchange
        answered = (TRACERESPONSE.encode(), traceparent(span).encode())
        status = 500

        async def send_traced(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), answered]
            await send(message)

        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            await self.app(scope, receive, send_traced)
        except Exception as exc:
            if span.is_recording():
                span.record_exception(exc)
            raise
        finally:
            for forward in exchange.forwards:
                end_span(forward, status, error_from=400)
            if span.is_recording():
                route = getattr(scope.get("route"), "path", None)
                span.set_attributes(
                    {"http.request.method": method, "url.path": redact_path(scope["path"])}
                )
                if route is not None:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
            end_span(span, status, error_from=500)
            otel_context.detach(token)


def forward_trace_headers(scope: Scope) -> list[tuple[str, str]]:
    """The trace headers of the request the gateway forwards for `scope`, under a new client
    span. That span ends with the gateway's own response: a proxied response streams through,
    so the exchange with the service is over only then, and its status is the caller's."""
    exchange: _Exchange | None = scope.get(_SCOPE_KEY)
    if exchange is None:  # not under TracingMiddleware
        return []
    span = exchange.tracing.start_span(scope["method"], kind=SpanKind.CLIENT)
    if span.is_recording():
        span.set_attributes(
            {"http.request.method": scope["method"], "url.path": redact_path(scope["path"])}
        )
    exchange.forwards.append(span)
    return trace_headers(span)


class TracedTransport(httpx.AsyncBaseTransport):
    """Wraps a transport: each outbound request is a client span and carries its context."""

    def __init__(self, transport: httpx.AsyncBaseTransport, tracing: Tracing) -> None:
        self._transport = transport
        self._tracing = tracing

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        span = self._tracing.start_span(request.method, kind=SpanKind.CLIENT)
        if span.is_recording():
            # Without the query: it may name a patient, and traces leave for another system.
            url = redact_path(str(request.url.copy_with(query=None)))
            span.set_attributes({"http.request.method": request.method, "url.full": url})
        for name, value in trace_headers(span):
            request.headers[name] = value
        try:
            response = await self._transport.handle_async_request(request)
        except Exception as exc:
            record_failure(span, exc)
            span.end()
            raise
        end_span(span, response.status_code, error_from=400)
        return response

    async def aclose(self) -> None:
        await self._transport.aclose()


def install_tracing(app: FastAPI, tracing: Tracing) -> None:
    """Add it after the request-context middleware so its span wraps the access log line."""
    app.add_middleware(TracingMiddleware, tracing=tracing)
