"""CORS through the real gateway on a socket: a tus upload seen from an allowed origin
(preflights, POST, PATCH, HEAD), problems readable there too, a bug's 500 as well, origins
matched however they are written, and nothing at all for an origin that is not configured."""

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from gateway.app import create_app
from gateway.settings import GatewaySettings
from telemed.registry import GATEWAY
from tests.conftest import Actor, running_stack, service_settings
from tests.files import samples
from tests.servers import serve

ALLOWED = "https://mis.example.org"
UPLOADS = "/api/files/uploads"
TUS = {"Tus-Resumable": "1.0.0"}


@dataclass
class Browser:
    """What a page of `origin` sends through the gateway, as a browser would."""

    http: httpx.AsyncClient
    medic: Actor
    origin: str = ALLOWED

    async def preflight(self, path: str, method: str, headers: str) -> httpx.Response:
        return await self.http.options(
            path,
            headers={
                "Origin": self.origin,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": headers,
            },
        )

    async def send(
        self, method: str, path: str, headers: dict[str, str], content: bytes = b""
    ) -> httpx.Response:
        headers = {"Origin": self.origin} | headers
        return await self.http.request(method, path, headers=headers, content=content)


@pytest.fixture
async def browser(clean_databases: dict[str, str], tmp_path: Path) -> AsyncIterator[Browser]:
    # Written with a trailing slash, as an operator might: the origin is what browsers send.
    overrides = {"gateway": {"cors_origins": [ALLOWED + "/"]}}
    async with running_stack(clean_databases, tmp_path, overrides) as stack:
        medic = await stack.actor("district_medic", await stack.organization())
        async with (
            serve(stack.apps["gateway"], lifespan="off") as url,
            # Other test workers share the machine: httpx's 5 s default is not this test's subject.
            httpx.AsyncClient(base_url=url, timeout=30) as http,
        ):
            yield Browser(http, medic)


def listed(response: httpx.Response, header: str) -> set[str]:
    return {item.strip().lower() for item in response.headers.get(header, "").split(",")}


def assert_allowed(response: httpx.Response) -> None:
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert "access-control-allow-credentials" not in response.headers
    assert "origin" in listed(response, "vary")


async def test_a_tus_upload_from_an_allowed_origin(browser: Browser) -> None:
    content = samples.pdf_bytes()
    asked = "authorization, tus-resumable, upload-length, upload-metadata, idempotency-key"
    preflight = await browser.preflight(UPLOADS, "POST", asked)
    assert preflight.status_code == 204
    assert_allowed(preflight)
    assert {"post", "patch", "head"} <= listed(preflight, "access-control-allow-methods")
    assert set(asked.split(", ")) <= listed(preflight, "access-control-allow-headers")
    assert int(preflight.headers["access-control-max-age"]) > 0

    metadata = ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}"
        for key, value in {"filename": "result.pdf", "kind": "lab_result"}.items()
    )
    created = await browser.send(
        "POST",
        UPLOADS,
        headers=browser.medic.headers
        | TUS
        | {"Upload-Length": str(len(content)), "Upload-Metadata": metadata},
    )
    assert created.status_code == 201, created.text
    assert_allowed(created)
    exposed = listed(created, "access-control-expose-headers")
    for header in ("location", "upload-offset", "upload-length", "tus-resumable", "tus-version",
                   "tus-extension", "tus-max-size", "retry-after", "etag"):  # fmt: skip
        assert header in exposed, header
    location = created.headers["location"]
    path = httpx.URL(location).path

    asked = "authorization, tus-resumable, upload-offset, content-type"
    patch_preflight = await browser.preflight(path, "PATCH", asked)
    assert patch_preflight.status_code == 204
    assert_allowed(patch_preflight)
    patched = await browser.send(
        "PATCH",
        path,
        content=content,
        headers=browser.medic.headers
        | TUS
        | {"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
    )
    assert patched.status_code == 204, patched.text
    assert_allowed(patched)
    assert patched.headers["upload-offset"] == str(len(content))

    head = await browser.send("HEAD", path, headers=browser.medic.headers | TUS)
    assert_allowed(head)
    assert head.headers["upload-offset"] == str(len(content))


async def test_a_problem_is_readable_from_an_allowed_origin(browser: Browser) -> None:
    refused = await browser.send("POST", UPLOADS, headers=TUS | {"Upload-Length": "10"})
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert_allowed(refused)


async def test_an_origin_not_configured_gets_no_cors_header(browser: Browser) -> None:
    browser.origin = "https://elsewhere.example.org"
    answers = [
        await browser.preflight(UPLOADS, "POST", "authorization, tus-resumable"),
        await browser.send("GET", "/api/consult/cases", headers=browser.medic.headers),
        await browser.send("GET", "/health", {}),
    ]
    assert answers[1].status_code == 200
    for answer in answers:
        assert not [name for name in answer.headers if name.startswith("access-control-")], (
            answer.headers
        )
    # The preflight went on as a plain OPTIONS, which the files service answers as tus's.
    assert answers[0].headers["tus-version"] == "1.0.0"


async def test_without_configured_origins_the_gateway_adds_nothing(
    clean_databases: dict[str, str], tmp_path: Path
) -> None:
    async with (
        running_stack(clean_databases, tmp_path) as stack,
        serve(stack.apps["gateway"], lifespan="off") as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        answer = await http.get("/health", headers={"Origin": ALLOWED})
    assert answer.status_code == 200
    assert "access-control-allow-origin" not in answer.headers
    assert "vary" not in answer.headers


@pytest.mark.parametrize(
    ("written", "origin"),
    [
        ("https://MIS.example.org", "https://mis.example.org"),
        ("https://mis.example.org:443", "https://mis.example.org"),
        ("http://127.0.0.1:5173/", "http://127.0.0.1:5173"),
        ("http://[::1]:5173/", "http://[::1]:5173"),
        ("HTTP://[0:0:0:0:0:0:0:1]:80", "http://[::1]"),
        ("https://[2001:DB8::1]:443", "https://[2001:db8::1]"),
    ],
)
def test_an_origin_is_kept_as_browsers_send_it(written: str, origin: str) -> None:
    assert GatewaySettings(cors_origins=[written]).cors_origins == [origin]


@pytest.mark.parametrize(
    "written",
    [
        "*",
        "mis.example.org",
        "https://mis.example.org/app",
        "ftp://mis.example.org",
        "http://[::1",
        "http://[zz::1]:5173",
        "http://[::1]:99999",
    ],
)
def test_what_is_not_an_origin_is_refused(written: str) -> None:
    with pytest.raises(ValidationError, match="not an origin"):
        GatewaySettings(cors_origins=[written])


@pytest.fixture
async def gateway(clean_databases: dict[str, str], tmp_path: Path) -> AsyncIterator[str]:
    """The gateway alone on a socket, allowing a site and a developer's page on IPv6 loopback,
    with one route that fails as a bug would."""
    settings = service_settings(
        GATEWAY, clean_databases, tmp_path, cors_origins=[ALLOWED, "http://[::1]:5173"]
    )
    app = create_app(settings)

    async def bug() -> None:
        raise RuntimeError("a bug, with a secret in its message")

    app.router.add_api_route("/api/bug", bug)
    async with serve(app) as url:
        yield url


async def test_a_bugs_500_is_readable_from_an_allowed_origin(gateway: str) -> None:
    async with httpx.AsyncClient(base_url=gateway) as http:
        answer = await http.get("/api/bug", headers={"Origin": ALLOWED})
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"].endswith("/internal-error")
    assert "secret" not in answer.text
    assert "Traceback" not in answer.text
    assert answer.headers["x-request-id"] == answer.json()["request_id"]
    assert_allowed(answer)


@pytest.mark.parametrize(
    ("sent", "allowed"),
    [
        ("http://[::1]:5173", True),
        ("http://[0:0::1]:5173", True),
        ("HTTPS://MIS.example.org:443", True),
        ("http://[::1]:5174", False),
        ("http://[::2]:5173", False),
        ("null", False),
        ("http://[::1", False),
    ],
)
async def test_an_origin_is_matched_however_it_is_written(
    gateway: str, sent: str, allowed: bool
) -> None:
    async with httpx.AsyncClient(base_url=gateway) as http:
        answer = await http.get("/health", headers={"Origin": sent})
        preflight = await http.options(
            "/api/consult/cases",
            headers={"Origin": sent, "Access-Control-Request-Method": "GET"},
        )
    assert answer.status_code == 200
    # The browser checks the origin it sent, as it sent it.
    expected = sent if allowed else None
    assert answer.headers.get("access-control-allow-origin") == expected
    assert preflight.headers.get("access-control-allow-origin") == expected
    assert (preflight.status_code == 204) is allowed
