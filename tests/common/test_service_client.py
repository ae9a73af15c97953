"""The client base every typed client builds on, against a real app: the bearer token, each
kind of answer mapped to its typed problem with the callee's words, and the trace context and
request id of the calling request carried along."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from opentelemetry import context as otel_context
from opentelemetry import trace

from services.common.client import PASSED_ON, ServiceClient
from services.common.context import reset_request_id, set_request_id
from services.common.errors import (
    BadGateway,
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    ProblemError,
    TooManyRequests,
    Unprocessable,
    install_problem_handlers,
)
from services.common.http import new_client
from services.common.settings import ServiceSettings
from services.common.tracing import Tracing
from tests.servers import free_port

PREFIX = "/api/things"


def things_app() -> FastAPI:
    """A callee answering each way a service can; errors render as the services render them."""
    app = FastAPI()
    install_problem_handlers(app)

    @app.get(PREFIX + "/echo")
    async def echo(request: Request) -> dict[str, str | None]:
        names = ("authorization", "traceparent", "x-request-id", "x-extra")
        return {name: request.headers.get(name) for name in names}

    @app.post(PREFIX + "/things", status_code=201)
    async def create() -> dict[str, str]:
        return {"id": "t-1"}

    @app.get(PREFIX + "/missing")
    async def missing() -> None:
        raise NotFound("No thing with this id is visible to you.")

    @app.get(PREFIX + "/forbidden")
    async def forbidden() -> Response:
        return Response(status_code=403)  # a bare refusal, no problem document

    @app.get(PREFIX + "/conflict")
    async def conflict() -> None:
        raise Conflict("The thing is closed.", current_status="closed")

    @app.get(PREFIX + "/gone")
    async def gone() -> None:
        raise Gone("The room is closed.")

    @app.get(PREFIX + "/validated")
    async def validated(size: int) -> dict[str, int]:
        return {"size": size}

    @app.get(PREFIX + "/busy")
    async def busy() -> None:
        raise TooManyRequests("Slow down.", headers={"Retry-After": "7"})

    @app.get(PREFIX + "/unauthorized")
    async def unauthorized() -> Response:
        return Response(status_code=401)

    @app.get(PREFIX + "/broken")
    async def broken() -> None:
        raise RuntimeError("a bug in the callee")

    @app.get(PREFIX + "/text")
    async def text() -> Response:
        return Response("not json", media_type="text/plain")

    return app


@pytest.fixture
def settings() -> ServiceSettings:
    return ServiceSettings(service_name="caller", http_read_timeout=5.0)


@pytest.fixture
def tracing(settings: ServiceSettings) -> Tracing:
    return Tracing(settings)


@pytest.fixture
async def things(settings: ServiceSettings, tracing: Tracing) -> AsyncIterator[ServiceClient]:
    transport = httpx.ASGITransport(app=things_app(), raise_app_exceptions=False)
    http = new_client("http://gateway", settings, transport=transport, tracing=tracing)
    async with http:
        yield ServiceClient(http, PREFIX, "things service")


async def test_an_expected_answer_is_returned_with_the_bearer_token_sent(
    things: ServiceClient,
) -> None:
    echoed = await things.call("GET", "/echo", "tok-1", headers={"X-Extra": "yes"})
    assert echoed["authorization"] == "Bearer tok-1"
    assert echoed["x-extra"] == "yes"
    assert await things.call("POST", "/things", "tok-1") == {"id": "t-1"}
    response = await things.request("POST", "/things", "tok-1", ok=(201,))
    assert response.status_code == 201


async def test_a_status_outside_ok_is_not_an_answer(things: ServiceClient) -> None:
    with pytest.raises(BadGateway, match=r"^The things service answered 201\.$"):
        await things.call("POST", "/things", "tok", ok=(200,))
    # ...and a status in `ok` is one, whatever it is.
    assert (await things.request("GET", "/missing", "tok", ok=(404,))).status_code == 404


@pytest.mark.parametrize(
    ("path", "problem", "detail"),
    [
        ("/missing", NotFound, "No thing with this id is visible to you."),
        ("/forbidden", Forbidden, "The things service refused this request."),
        ("/conflict", Conflict, "The thing is closed."),
        ("/gone", Gone, "The room is closed."),
        ("/validated", Unprocessable, "The request is not valid; see `errors`."),
        ("/busy", TooManyRequests, "Slow down."),
        ("/unauthorized", BadGateway, "The things service answered 401."),
        ("/broken", BadGateway, "The things service answered 500."),
        ("/text", BadGateway, "The things service answered something other than JSON."),
    ],
)
async def test_each_answer_is_its_typed_problem_in_the_callees_words(
    things: ServiceClient, path: str, problem: type[ProblemError], detail: str
) -> None:
    with pytest.raises(ProblemError) as raised:
        await things.call("GET", path, "tok")
    assert type(raised.value) is problem
    assert raised.value.detail == detail
    assert raised.value.extensions == {}  # only the words travel, not the callee's extensions


async def test_a_callees_retry_after_is_passed_on(things: ServiceClient) -> None:
    with pytest.raises(TooManyRequests) as raised:
        await things.call("GET", "/busy", "tok")
    assert raised.value.headers == {"Retry-After": "7"}


async def test_a_client_may_map_a_status_its_own_way(settings: ServiceSettings) -> None:
    class RoomsClient(ServiceClient):
        problems = {**PASSED_ON, 410: Conflict}

    transport = httpx.ASGITransport(app=things_app())
    async with new_client("http://gateway", settings, transport=transport) as http:
        rooms = RoomsClient(http, PREFIX, "rooms service")
        with pytest.raises(Conflict, match=r"^The room is closed\.$"):
            await rooms.call("GET", "/gone", "tok")


async def test_a_client_may_tell_a_refusal_apart_its_own_way(settings: ServiceSettings) -> None:
    class SignedOut(Exception):
        pass

    class PeoplesClient(ServiceClient):
        def refusal(self, response: httpx.Response) -> Exception:
            if response.status_code == 401:  # the person's own token, not a service's
                return SignedOut()
            return super().refusal(response)

    transport = httpx.ASGITransport(app=things_app())
    async with new_client("http://gateway", settings, transport=transport) as http:
        people = PeoplesClient(http, PREFIX, "gateway")
        with pytest.raises(SignedOut):
            await people.call("GET", "/unauthorized", "tok")
        with pytest.raises(NotFound, match=r"^No thing with this id is visible to you\.$"):
            await people.request("GET", "/missing", "tok")


async def test_a_closed_port_is_a_bad_gateway_naming_the_service(
    settings: ServiceSettings,
) -> None:
    async with new_client(f"http://127.0.0.1:{free_port()}", settings) as http:
        nowhere = ServiceClient(http, PREFIX, "things service")
        with pytest.raises(BadGateway, match=r"^The things service could not be reached\.$"):
            await nowhere.call("GET", "/echo", "tok")


async def test_a_timeout_may_be_set_per_call(settings: ServiceSettings) -> None:
    seen: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, json={})

    async with new_client("http://x", settings, transport=httpx.MockTransport(answer)) as http:
        things = ServiceClient(http, PREFIX, "things service")
        await things.call("GET", "/echo", "tok")
        await things.call("GET", "/echo", "tok", timeout=0.5)
    assert seen[0]["read"] == 5.0
    assert seen[1]["read"] == 0.5


async def test_the_trace_context_and_request_id_of_the_calling_request_are_carried(
    things: ServiceClient, tracing: Tracing
) -> None:
    caller = tracing.start_span("GET /api/caller")
    attached = otel_context.attach(trace.set_span_in_context(caller))
    request_id = set_request_id("req-42")
    try:
        echoed = await things.call("GET", "/echo", "tok")
    finally:
        reset_request_id(request_id)
        otel_context.detach(attached)
    version, trace_id, span_id, _flags = echoed["traceparent"].split("-")
    assert (version, trace_id) == ("00", f"{caller.get_span_context().trace_id:032x}")
    assert span_id != f"{caller.get_span_context().span_id:016x}"  # the client span's own
    assert echoed["x-request-id"] == "req-42"

    outside = await things.call("GET", "/echo", "tok")  # no calling request: a trace of its own
    assert outside["x-request-id"] is None
    assert outside["traceparent"].split("-")[1] != trace_id
