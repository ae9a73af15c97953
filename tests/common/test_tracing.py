"""Tracing: one trace across gateway and services, a caller's `traceparent` continued, a
malformed one ignored, trace ids in log lines, job runs as traces, spans exported over OTLP."""

import asyncio
import io
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from gateway.app import create_app
from services.common.jobs import periodic_job
from services.common.observability import JsonFormatter
from services.common.settings import ServiceSettings
from services.common.tracing import Tracing
from telemed.registry import SERVICES
from tests.conftest import Stack, service_settings
from tests.consult import conftest as consult
from tests.files import samples
from tests.servers import free_port

CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c"
CALLER_SPAN = "b7ad6b7169203331"
SERVER, CLIENT = SpanKind.SERVER, SpanKind.CLIENT

world = consult.world  # the consult tests' region and people, a fixture here too


def service_of(span: ReadableSpan) -> Any:
    return span.resource.attributes["service.name"]


@pytest.fixture
def exported(stack: Stack) -> InMemorySpanExporter:
    """Every app of the stack records its spans into one in-memory exporter."""
    exporter = InMemorySpanExporter()
    for app in stack.apps.values():
        app.state.tracing.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


async def spans_once(
    exporter: InMemorySpanExporter, done: Callable[[Sequence[ReadableSpan]], bool]
) -> Sequence[ReadableSpan]:
    """The finished spans once `done` holds: a service's server span ends just after its
    response has left, so the caller may have its answer a moment before."""
    deadline = time.monotonic() + 5
    while not done(spans := exporter.get_finished_spans()):
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.01)
    return spans


def lineage(span: ReadableSpan, spans: Sequence[ReadableSpan]) -> list[tuple[Any, SpanKind]]:
    """`span` and its ancestors as (service, kind), up to the root, which has no parent."""
    by_id = {candidate.context.span_id: candidate for candidate in spans}
    chain = [(service_of(span), span.kind)]
    while span.parent is not None:
        span = by_id[span.parent.span_id]
        chain.append((service_of(span), span.kind))
    return chain


async def test_one_request_is_one_trace_through_the_gateway_consult_and_files(
    world: consult.World, exported: InMemorySpanExporter
) -> None:
    ecg = await world.upload(samples.pdf_bytes(), "ECG.pdf", "ecg")
    exported.clear()
    await world.create(attachment_ids=[ecg["id"]])  # consult checks the file with files

    def files_answered(spans: Sequence[ReadableSpan]) -> bool:
        return any(service_of(span) == "files" and span.kind is SERVER for span in spans)

    spans = await spans_once(exported, files_answered)
    # Root server spans only: the gateway's background jobs (the webhook relay) are traces too.
    (root,) = [
        span
        for span in spans
        if span.parent is None and span.kind is SERVER and service_of(span) == "gateway"
    ]
    assert root.name == "POST /api/consult/{path:path}"
    traced = [span for span in spans if span.context.trace_id == root.context.trace_id]
    assert {service_of(span) for span in traced} == {"gateway", "consult", "files"}
    by_id = {span.context.span_id: span for span in traced}
    for server in [span for span in traced if span.kind is SERVER and span is not root]:
        assert server.parent is not None
        assert server.parent.is_remote
        caller = by_id[server.parent.span_id]
        assert caller.kind is CLIENT
        assert service_of(caller) == ("consult" if service_of(server) == "gateway" else "gateway")
    (case,) = [span for span in traced if service_of(span) == "consult" and span.kind is SERVER]
    assert case.name == "POST /api/consult/cases"
    assert case.attributes is not None
    assert case.attributes["http.response.status_code"] == 201
    files = next(span for span in traced if service_of(span) == "files" and span.kind is SERVER)
    assert lineage(files, traced) == [
        ("files", SERVER), ("gateway", CLIENT), ("gateway", SERVER),
        ("consult", CLIENT), ("consult", SERVER), ("gateway", CLIENT), ("gateway", SERVER),
    ]  # fmt: skip


async def test_a_callers_traceparent_and_tracestate_are_continued(
    stack: Stack, exported: InMemorySpanExporter
) -> None:
    assert stack.admin is not None
    response = await stack.client.get(
        "/api/consult/cases",
        headers={
            **stack.admin.headers,
            "traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01",
            "tracestate": "district=mis42",
        },
    )
    spans = await spans_once(exported, lambda spans: any(service_of(s) == "consult" for s in spans))
    (root,) = [
        span for span in spans if span.parent and span.parent.span_id == int(CALLER_SPAN, 16)
    ]
    assert root.parent is not None
    assert (service_of(root), root.kind, root.parent.is_remote) == ("gateway", SERVER, True)
    assert f"{root.context.trace_id:032x}" == CALLER_TRACE
    (listing,) = [span for span in spans if service_of(span) == "consult" and span.kind is SERVER]
    assert f"{listing.context.trace_id:032x}" == CALLER_TRACE
    assert listing.context.trace_state.to_header() == "district=mis42"
    assert response.headers["traceresponse"] == f"00-{CALLER_TRACE}-{root.context.span_id:016x}-01"


def gateway_app(urls: dict[str, str], var_dir: Path, **overrides: Any) -> FastAPI:
    """The gateway alone: no published services unless `overrides` name some."""
    spec = next(spec for spec in SERVICES if spec.name == "gateway")
    settings = service_settings(spec, urls, var_dir, **({"services": {}} | overrides))
    app: FastAPI = create_app(settings)
    return app


@pytest.fixture
async def gateway(
    database_urls: dict[str, str], tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the gateway alone, which exports nothing: spans are only ids."""
    app = gateway_app(database_urls, tmp_path)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as client:
        yield client


def traceresponse(response: httpx.Response) -> tuple[str, str, str]:
    version, trace_id, span_id, flags = response.headers["traceresponse"].split("-")
    assert version == "00"
    return trace_id, span_id, flags


@pytest.mark.parametrize(
    "malformed",
    [
        f"00-{CALLER_TRACE}-{CALLER_SPAN}",  # no flags
        f"00-{'0' * 32}-{CALLER_SPAN}-01",  # the all-zero trace id
        f"00-{CALLER_TRACE.upper()}-{CALLER_SPAN}-01",  # hex must be lower case
        f"ff-{CALLER_TRACE}-{CALLER_SPAN}-01",  # the forbidden version
        f"00-{CALLER_TRACE}-{CALLER_SPAN}-01-extra",  # version 00 has four fields
    ],
)
async def test_a_malformed_traceparent_starts_a_new_trace(
    gateway: httpx.AsyncClient, malformed: str
) -> None:
    response = await gateway.get("/health", headers={"traceparent": malformed})
    trace_id, _, _ = traceresponse(response)
    assert trace_id not in (CALLER_TRACE, CALLER_TRACE.upper(), "0" * 32)


async def test_unrecorded_spans_still_carry_the_callers_trace_and_sampling_decision(
    gateway: httpx.AsyncClient,
) -> None:
    for flags in ("00", "01"):
        response = await gateway.get(
            "/health", headers={"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-{flags}"}
        )
        trace_id, span_id, answered_flags = traceresponse(response)
        assert (trace_id, answered_flags) == (CALLER_TRACE, flags)
        assert span_id not in (CALLER_SPAN, "0" * 16)


@pytest.fixture
def access_log() -> Iterator[io.StringIO]:
    """The access log lines, formatted as in production."""
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("telemed.access")
    logger.addHandler(handler)
    try:
        yield lines
    finally:
        logger.removeHandler(handler)


async def test_log_lines_carry_the_trace_and_span_ids(
    gateway: httpx.AsyncClient, access_log: io.StringIO
) -> None:
    response = await gateway.get(
        "/health", headers={"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"}
    )
    _, span_id, _ = traceresponse(response)
    (line,) = [json.loads(text) for text in access_log.getvalue().splitlines()]
    assert line["message"] == "request"
    assert (line["trace_id"], line["span_id"]) == (CALLER_TRACE, span_id)


async def test_a_failed_forward_marks_both_spans_as_errors(
    database_urls: dict[str, str], tmp_path: Path
) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"  # connections are refused
    app = gateway_app(database_urls, tmp_path, services={"consult": nobody})
    exporter = InMemorySpanExporter()
    app.state.tracing.add_span_processor(SimpleSpanProcessor(exporter))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client,
    ):
        response = await client.get("/api/consult/cases")
    assert response.status_code == 503
    forward, server = exporter.get_finished_spans()
    assert (server.name, server.kind, forward.kind) == (
        "GET /api/consult/{path:path}",
        SERVER,
        CLIENT,
    )
    assert forward.parent is not None
    assert forward.parent.span_id == server.context.span_id
    for span in (server, forward):
        assert span.status.status_code is StatusCode.ERROR
        assert span.attributes is not None
        assert span.attributes["http.response.status_code"] == 503


class Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP receiver: keeps what is posted, answers an empty export response."""

    received: list[tuple[str, str, bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    """A collector on loopback in its own thread (the exporter posts from a worker thread)."""
    received: list[tuple[str, str, bytes]] = []
    handler = type("Handler", (Collector,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/traces", received
    finally:
        server.shutdown()
        server.server_close()


async def test_spans_are_exported_over_otlp_http(
    database_urls: dict[str, str],
    tmp_path: Path,
    collector: tuple[str, list[tuple[str, str, bytes]]],
) -> None:
    endpoint, received = collector
    app = gateway_app(database_urls, tmp_path, otel_exporter="otlp", otel_endpoint=endpoint)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway"
        ) as client:
            response = await client.get("/health")
        trace_id, _, _ = traceresponse(response)
        assert app.state.tracing.provider.force_flush(5000)
    finally:
        await app.state.tracing.aclose()
    (path, content_type, body), *_ = received
    assert (path, content_type) == ("/v1/traces", "application/x-protobuf")
    export = ExportTraceServiceRequest.FromString(body)
    (resource_spans,) = export.resource_spans
    service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert service["service.name"] == "gateway"
    (span,) = [span for scope in resource_spans.scope_spans for span in scope.spans]
    assert span.name == "GET /health"
    assert span.trace_id.hex() == trace_id


async def test_each_run_of_a_periodic_job_is_a_trace_of_its_own() -> None:
    tracing = Tracing(ServiceSettings(service_name="consult"))
    exporter = InMemorySpanExporter()
    tracing.add_span_processor(SimpleSpanProcessor(exporter))
    runs: list[int] = []

    async def run() -> None:
        runs.append(trace.get_current_span().get_span_context().trace_id)
        if len(runs) == 1:
            raise RuntimeError("the database went away")

    async with periodic_job("escalation", 0.001, run, tracing=tracing):
        spans = await spans_once(exporter, lambda spans: len(spans) >= 2)
    failed, succeeded = spans[:2]
    assert failed.name == succeeded.name == "escalation"
    assert failed.parent is None
    assert (failed.context.trace_id, succeeded.context.trace_id) == (runs[0], runs[1])
    assert runs[0] != runs[1]
    assert failed.status.status_code is StatusCode.ERROR
    assert succeeded.status.status_code is StatusCode.UNSET
