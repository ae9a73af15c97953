"""Bad input at the front door: each answered with a 4xx problem document, quickly, and the
serving process's memory bounded.

Sizes (a 400 MB anonymous body, a 48 MiB header, 1,000 headers), paths that climb out of a
service's prefix, extreme dates in every date parameter and field, tokens that are not ASCII,
a multipart upload that never ends, and a body shorter than its Content-Length. The requests go
over a raw socket to the gateway on loopback (and to consult's own port where the service must
hold by itself), as no HTTP client would send them. Every app of the stack runs in the test
process (`tests/conftest.py` `running_stack`), so its resident memory is the servers'.
"""

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text

from gateway.webhooks.signing import signature_header, verify_signature
from telemed.samples import sample_case, sample_patient
from tests.conftest import Stack
from tests.fhir.conftest import NOW
from tests.security.wire import (
    FIGURES,
    MIB,
    Answer,
    chunked,
    exchange,
    peak_rss_growth,
    request_head,
)
from tests.security.world import (
    CONSULT,
    FILES,
    PDF,
    SCHEDULING,
    VIDEO,
    World,
    build_world,
)
from tests.security.world import STACK_OVERRIDES as WORLD_OVERRIDES
from tests.servers import serve

pytestmark = pytest.mark.asyncio(loop_scope="module")

# A body that stops arriving is given up after 2 s (3 s for uploads) here, so that the test of
# it is short; the defaults are 10 s and 60 s (services/common/settings.py).
SHORT_WAITS = {"body_read_timeout": 2.0, "upload_read_timeout": 3.0}
STACK_OVERRIDES = {
    name: WORLD_OVERRIDES.get(name, {}) | SHORT_WAITS
    for name in ("gateway", "consult", "files", "scheduling", "video")
}
PROBLEM = "application/problem+json"
GROWTH_MIB = 64  # what refusing one hostile request may cost the serving process, at most
QUICK = 5.0  # seconds


@dataclass
class Door:
    stack: Stack
    world: World
    gateway: str  # the in-process gateway, on a real socket
    consult: str  # the consult service's own uvicorn

    def url(self, where: str) -> str:
        return self.gateway if where == "gateway" else self.consult


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def door(security_stack: Stack) -> AsyncIterator[Door]:
    world = await build_world(security_stack)
    consult = security_stack.apps["gateway"].state.settings.services["consult"]
    async with serve(security_stack.apps["gateway"], lifespan="off") as gateway:
        yield Door(
            security_stack, world, gateway, consult if isinstance(consult, str) else consult[0]
        )


def assert_problem(answer: Answer, *statuses: int) -> None:
    assert answer.status in statuses, answer
    assert answer.content_type == PROBLEM, answer


# -- sizes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "path", "framing", "size_mib"),
    [
        ("gateway", "/api/consult/cases", "length", 400),
        ("gateway", "/api/consult/cases", "chunked", 400),
        ("consult", "/api/consult/cases", "length", 400),
        ("consult", "/api/consult/cases", "chunked", 400),
        ("gateway", "/api/directory/users", "chunked", 200),
    ],
)
async def test_a_huge_anonymous_body_is_refused_before_it_is_read(
    door: Door, where: str, path: str, framing: str, size_mib: int
) -> None:
    size = size_mib * MIB
    body = itertools.repeat(b"x" * MIB, size_mib)  # one buffer, sent again and again
    if framing == "length":
        head = request_head(
            "POST", path, "Content-Type: application/json", f"Content-Length: {size}"
        )
        parts = itertools.chain([head], body)
    else:
        head = request_head(
            "POST", path, "Content-Type: application/json", "Transfer-Encoding: chunked"
        )
        parts = itertools.chain([head], chunked(body))
    async with peak_rss_growth() as growth:
        answer = await exchange(door.url(where), parts, wait=60)
    FIGURES[f"{size_mib} MB {framing} body to {where} {path}"] = answer, growth[0]
    assert_problem(answer, 413)
    assert answer.sent < size, "the answer came only after the whole body"
    assert answer.seconds < QUICK, answer.seconds
    assert growth[0] < GROWTH_MIB, f"{growth[0]:.0f} MiB more while refusing {size_mib} MB"


@pytest.mark.parametrize("where", ["gateway", "consult"])
async def test_a_48_mib_header_is_refused_and_health_keeps_answering(
    door: Door, where: str
) -> None:
    big = itertools.repeat(b"a" * MIB, 48)
    parts = itertools.chain(
        [b"GET /health HTTP/1.1\r\nHost: telemed\r\nX-Big: "], big, [b"\r\n\r\n"]
    )
    async with peak_rss_growth() as growth:
        sending = asyncio.ensure_future(exchange(door.url(where), parts, wait=60))
        waits = []
        async with httpx.AsyncClient(base_url=door.url(where), timeout=30) as client:
            for _ in range(5):
                started = time.monotonic()
                assert (await client.get("/health")).status_code == 200
                waits.append(time.monotonic() - started)
        answer = await sending
    FIGURES[f"48 MiB header to {where}"] = answer, growth[0]
    assert_problem(answer, 400, 431)
    assert answer.seconds < QUICK, answer.seconds
    assert max(waits) < 1.0, f"/health took {max(waits):.1f} s meanwhile"
    assert growth[0] < GROWTH_MIB, f"{growth[0]:.0f} MiB more while refusing a 48 MiB header"


@pytest.mark.parametrize("where", ["gateway", "consult"])
async def test_a_thousand_headers_are_refused(door: Door, where: str) -> None:
    fillers = [f"X-Filler-{index}: {index}" for index in range(1000)]
    answer = await exchange(door.url(where), [request_head("GET", "/api/consult/cases", *fillers)])
    assert_problem(answer, 431)
    assert answer.seconds < QUICK


# -- paths -----------------------------------------------------------------------------------

CLIMBS = ["..%2f..%2f", "..%2F..%2F", "../../", "%2e%2e/%2e%2e/", ".%2e/.%2e/", "..%5c..%5c",
          "x/%252e%252e/%252e%252e/"]  # fmt: skip
TRAVERSALS = [
    f"/api/{service}/{climb}{leaf}"
    for service in ("consult", "files", "video", "scheduling")
    for climb in CLIMBS
    for leaf in ("metrics", "openapi.json")
] + [
    "/api/video/rooms/x/..%2f..%2f..%2f..%2fmetrics",
    "/api/video/rooms/x/../../../../metrics",
    "/api/consult/cases/..%2f..%2f..%2fdirectory%2fusers",
    "/join/..%2f..%2fmetrics",
    "/api/fhir/..%2f..%2fmetrics",
]


@pytest.mark.parametrize("target", TRAVERSALS)
async def test_dot_segments_and_encoded_slashes_are_refused(door: Door, target: str) -> None:
    answer = await exchange(door.gateway, [request_head("GET", target)])
    assert answer.status is not None, "no answer"
    assert 400 <= answer.status < 500, answer
    assert answer.content_type == PROBLEM, answer
    for leaked in (b"# HELP", b'"openapi"', b"process_resident_memory"):
        assert leaked not in answer.body


# -- extreme dates ---------------------------------------------------------------------------

# Instants whose UTC falls outside years 1-9999 (no datetime can hold them), and instants at
# the edges that can be held but that no visit, deadline or search of this system can mean.
OVERFLOWING = ["0001-01-01T00:00:00+07:00", "9999-12-31T23:59:59-07:00"]
EDGES = ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"]
DAYS = ["0001-01-01", "9999-12-31"]
FHIR_DATES = ["ge0001-01-01T00:00:00+07:00", "le9999-12-31T23:59:59-07:00", "ge0001-01-01",
              "le9999-12-31", "0001-01-01", "lt9999-12-31T23:59:59Z"]  # fmt: skip
Call = tuple[str, str, str, dict[str, str], Any]  # actor, method, path, query, body
DateProbe = Callable[[World, str], Call]
FAR = (NOW + timedelta(days=3)).isoformat()


def span(value: str) -> tuple[str, str]:
    """`value` as the start of a span when it is early, as the end when it is late."""
    return (value, FAR) if value.startswith("0001") else (FAR, value)


def _availability(w: World, value: str) -> Call:
    start, end = span(value)
    query = {"from": start, "to": end, "practitioner": str(w["spec@C"].id),
             "visit_type": "in_person"}  # fmt: skip
    return "medic@A", "GET", f"{SCHEDULING}/availability", query, None


def _booking(w: World, value: str) -> Call:
    body = {"practitioner_id": str(w["spec@C"].id), "visit_type": "in_person", "start": value,
            "patient_id": str(w["patient@A"].id)}  # fmt: skip
    return "medic@A", "POST", f"{SCHEDULING}/appointments", {}, body


def _exception(w: World, value: str) -> Call:
    start, end = span(value)
    body = {"kind": "unavailable", "start": start, "end": end}
    return "spec@C", "POST", f"{SCHEDULING}/schedules/{w.ids['schedule']}/exceptions", {}, body


def _case(w: World, value: str) -> Call:
    body = sample_case(w.orgs["C"]["id"], patient=sample_patient(birth_date=value))
    return "medic@A", "POST", f"{CONSULT}/cases", {}, body


def _stats(w: World, value: str) -> Call:
    first, last = (value, "2026-01-01") if value.startswith("0001") else ("2025-01-01", value)
    return "coord@A", "GET", f"{CONSULT}/stats", {"from": first, "to": last}, None


def _enrolment(w: World, value: str) -> Call:
    patient = sample_patient(birth_date=value, reference=f"MIS-{value[:4]}", sex="female")
    body = {"programme": "pregnancy_high_risk", "patient": patient,
            "contact_phone": "+7 911 555-01-23", "indication": "Week 32."}  # fmt: skip
    return "coord@A", "POST", f"{CONSULT}/monitoring/enrolments", {}, body


def sent_as(actor: str, method: str, path: str, name: str, **fixed: Any) -> DateProbe:
    """Sends the value as `name`: a query parameter of a GET, else a field of the JSON body;
    `path` may name the world's resources (`{appointment}`)."""

    def probe(w: World, value: str) -> Call:
        values = {name: value, **fixed}
        url = path.format(**w.ids)
        return (
            (actor, method, url, values, None)
            if method == "GET"
            else (actor, method, url, {}, values)
        )

    return probe


INSTANTS = OVERFLOWING + EDGES
APPOINTMENT = f"{SCHEDULING}/appointments/{{appointment}}"
DATE_PROBES: dict[str, tuple[DateProbe, list[str]]] = {
    "availability from/to": (_availability, INSTANTS),
    "appointments from": (
        sent_as("medic@A", "GET", f"{SCHEDULING}/appointments", "from"),
        INSTANTS,
    ),
    "appointments to": (sent_as("medic@A", "GET", f"{SCHEDULING}/appointments", "to"), INSTANTS),
    "booking start": (_booking, INSTANTS),
    "reschedule start": (
        sent_as("medic@A", "POST", f"{APPOINTMENT}/reschedule", "start"),
        INSTANTS,
    ),
    "follow-ups first_start": (
        sent_as(
            "spec@C",
            "POST",
            f"{SCHEDULING}/episodes/{{episode}}/follow-ups",
            "first_start",
            every_days=14,
            count=2,
        ),
        INSTANTS,
    ),
    "exception start/end": (_exception, INSTANTS),
    "case birth_date": (_case, DAYS),
    "enrolment birth_date": (_enrolment, DAYS),
    "stats from/to": (_stats, DAYS),
    "callback due_at": (
        sent_as(
            "coord@A",
            "POST",
            f"{CONSULT}/appeals/{{appeal}}/callbacks",
            "due_at",
            reason="dropped_call",
        ),
        INSTANTS,
    ),
    "follow-up start": (
        sent_as("spec@C", "POST", f"{CONSULT}/cases/{{patient_request}}/follow-up", "start"),
        INSTANTS,
    ),
    "consilium room starts_at": (
        sent_as("spec@C", "POST", f"{CONSULT}/cases/{{consilium}}/consilium/room", "starts_at"),
        INSTANTS,
    ),
    "room starts_at": (
        sent_as("spec@C", "POST", f"{VIDEO}/rooms", "starts_at", kind="follow_up", title="Visit"),
        INSTANTS,
    ),
}
FHIR_SEARCHES = {"ServiceRequest": "medic@A", "Task": "medic@A", "DiagnosticReport": "medic@A",
                 "Observation": "coord@A", "DocumentReference": "medic@A",
                 "Appointment": "medic@A"}  # fmt: skip
for _kind, _who in FHIR_SEARCHES.items():
    DATE_PROBES[f"FHIR {_kind} date"] = (
        sent_as(_who, "GET", f"/api/fhir/{_kind}", "date"),
        FHIR_DATES,
    )
DATE_CASES = [(name, value) for name, (_, values) in DATE_PROBES.items() for value in values]


@pytest.mark.parametrize(("name", "value"), DATE_CASES, ids=[f"{n}={v}" for n, v in DATE_CASES])
async def test_extreme_dates_are_bad_input_never_a_server_error(
    door: Door, name: str, value: str
) -> None:
    actor, method, path, query, body = DATE_PROBES[name][0](door.world, value)
    started = time.monotonic()
    response = await door.stack.client.request(
        method, path, params=query, json=body, headers=door.world[actor].headers
    )
    assert time.monotonic() - started < QUICK
    assert 400 <= response.status_code < 500, response.text
    fhir = path.startswith("/api/fhir/")
    assert response.headers["content-type"] == ("application/fhir+json" if fhir else PROBLEM)


# -- tokens that are not ASCII ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "status"),
    [
        ("/api/files/links/abc.%C3%A9", 404),
        ("/api/files/links/%C3%A9.%C3%A9", 404),
        ("/api/files/links/%E2%80%AE.%00", 400),  # a control character in the path
        ("/api/video/rooms/{room}/events?token=abc.%C3%A9", 401),
    ],
)
async def test_a_token_that_is_not_ascii_is_refused_not_a_crash(
    door: Door, target: str, status: int
) -> None:
    path = target.format(**door.world.ids)
    answer = await exchange(door.gateway, [request_head("GET", path)])
    assert_problem(answer, status)


@pytest.mark.parametrize(
    ("header", "status"),
    [("Authorization: Bearer \xe9\xe9.\xe9", 401), ("Telemed-Grant: \xe9t\xe9", 403)],
)
async def test_a_header_token_that_is_not_ascii_is_refused(
    door: Door, header: str, status: int
) -> None:
    # B's medic may not read A's file: only a grant could let them, and this one is not even text.
    bearer = f"Authorization: Bearer {door.world['medic@B'].access_token}"
    headers = [header] if header.startswith("Authorization") else [bearer, header]
    path = f"{FILES}/files/{door.world.ids['file']}/content"
    answer = await exchange(door.gateway, [request_head("GET", path, *headers)])
    assert_problem(answer, status)


async def test_a_webhook_signature_that_is_not_ascii_does_not_verify() -> None:
    secret, body, now = "whsec_test", b'{"id": 1}', int(time.time())
    assert verify_signature(secret, signature_header([secret], body, now), body)
    for header in (f"t={now},v1=\xe9\xe9", f"t={now},v1=é{'0' * 63}", "t=²,v1=00",
                   f"t={now},v1=\ud800"):  # fmt: skip
        assert verify_signature(secret, header, body) is False


# -- bodies that do not end ------------------------------------------------------------------


async def _stored(door: Door) -> tuple[int, int]:
    """The files service's records and stored objects."""
    database = door.stack.apps["files"].state.database
    async with database.engine.connect() as connection:
        records = (await connection.execute(text("SELECT count(*) FROM files"))).scalar_one()
    root = door.stack.apps["files"].state.settings.resolved_local_root()
    return int(records), sum(1 for path in root.rglob("*") if path.is_file())


async def test_a_multipart_upload_without_its_closing_boundary_is_not_stored(door: Door) -> None:
    boundary = "telemed-boundary-7f3a"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="ecg.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode() + PDF  # and no "\r\n--boundary--"
    before = await _stored(door)
    response = await door.stack.client.post(
        f"{FILES}/files",
        params={"kind": "ecg", "name": "ecg.pdf"},
        content=body,
        headers=door.world["medic@A"].headers
        | {"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == PROBLEM
    assert await _stored(door) == before


@pytest.mark.parametrize(
    ("where", "path", "limit"),
    [
        ("gateway", "/api/consult/cases", SHORT_WAITS["body_read_timeout"]),
        ("consult", "/api/consult/cases", SHORT_WAITS["body_read_timeout"]),
        ("gateway", "/api/files/files?kind=ecg&name=ecg.pdf", SHORT_WAITS["upload_read_timeout"]),
    ],
)
async def test_a_body_shorter_than_its_length_is_given_up_in_bounded_time(
    door: Door, where: str, path: str, limit: float
) -> None:
    bearer = f"Authorization: Bearer {door.world['medic@A'].access_token}"
    head = request_head(
        "POST", path, bearer, "Content-Type: application/json", "Content-Length: 1000"
    )
    answer = await exchange(door.url(where), [head, b'{"question": '], wait=limit + 10)
    assert_problem(answer, 408)
    assert answer.seconds < limit + 3, f"held {answer.seconds:.1f} s"
