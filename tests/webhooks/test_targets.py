"""Where deliveries may connect: a host's addresses are checked by the connection itself, so a
name rebound between a check and the connection (DNS rebinding) reaches nothing private."""

import asyncio
import datetime
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from gateway.webhooks import targets
from gateway.webhooks.models import WebhookAttempt
from gateway.webhooks.targets import PinnedTransport, TargetRefused
from services.common.db import Database
from tests.webhooks.receiver import event, eventually, manager, relay, subscribe, webhook_stack

PUBLIC = "93.184.215.14"  # never connected to: the tests' backends only record
LIMITS = httpx.Limits(max_connections=4, max_keepalive_connections=4)


class Rebinding:
    """A resolver whose first answer is `first` and every later one `then`."""

    def __init__(self, first: list[str], then: list[str]) -> None:
        self.answers = [first]
        self.then = then
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        return self.answers.pop(0) if self.answers else self.then


class Recorder(httpcore.AsyncNetworkBackend):
    """Records where a connection would go, and refuses it: no packet leaves the machine."""

    def __init__(self) -> None:
        self.connected: list[tuple[str, int]] = []

    async def connect_tcp(self, host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        self.connected.append((host, port))
        raise httpcore.ConnectError(f"{host} refused (test)")

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("not used")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def post(transport: httpx.AsyncBaseTransport, url: str) -> BaseException:
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(httpx.ConnectError) as caught:
            await client.post(url, content=b"{}")
    return caught.value


async def test_a_rebound_name_is_connected_to_the_address_that_was_checked() -> None:
    resolver = Rebinding([PUBLIC], ["127.0.0.1"])
    recorder = Recorder()
    transport = PinnedTransport(
        allow_private=False, limits=LIMITS, resolver=resolver, inner=recorder
    )
    await post(transport, "https://mis.example.org/hooks")
    # One look-up, and the connection went to the address it gave, never a second answer.
    assert resolver.asked == ["mis.example.org"]
    assert recorder.connected == [(PUBLIC, 443)]
    # The next connection looks the name up again: now private, so nothing is connected.
    refused = await post(transport, "https://mis.example.org/hooks")
    assert isinstance(refused.__cause__, TargetRefused)
    assert "loopback, private or link-local" in str(refused)
    assert recorder.connected == [(PUBLIC, 443)]


@pytest.mark.parametrize(
    "answer",
    [[PUBLIC, "10.0.0.7"], ["169.254.169.254"], ["::1"], ["::ffff:192.168.0.1"], []],
)
async def test_one_private_address_in_an_answer_refuses_the_host(answer: list[str]) -> None:
    recorder = Recorder()
    transport = PinnedTransport(
        allow_private=False, limits=LIMITS, resolver=Rebinding(answer, answer), inner=recorder
    )
    refused = await post(transport, "https://mis.example.org/hooks")
    assert isinstance(refused.__cause__, TargetRefused)
    assert recorder.connected == []


async def test_an_address_in_the_url_is_checked_without_a_look_up() -> None:
    resolver, recorder = Rebinding([PUBLIC], [PUBLIC]), Recorder()
    transport = PinnedTransport(
        allow_private=False, limits=LIMITS, resolver=resolver, inner=recorder
    )
    await post(transport, "https://[fd00::1]:8443/hooks")
    await post(transport, f"https://{PUBLIC}:8443/hooks")
    assert resolver.asked == []
    assert recorder.connected == [(PUBLIC, 8443)]


def _certificate(name: str, folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@asynccontextmanager
async def tls_receiver(cert: Path, key: Path, seen: dict[str, Any]) -> AsyncIterator[int]:
    """An HTTPS server on loopback that notes the SNI name and `Host` it was sent."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: seen.__setitem__("sni", name)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        seen["host"] = next(
            line.split(":", 1)[1].strip()
            for line in head.split("\r\n")
            if line.lower().startswith("host:")
        )
        writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def test_the_pinned_connection_keeps_the_urls_name_for_tls_and_host(
    tmp_path: Path,
) -> None:
    name = "hooks.mis.example"
    cert, key = _certificate(name, tmp_path)
    trust = ssl.create_default_context(cafile=str(cert))
    seen: dict[str, Any] = {}
    async with tls_receiver(cert, key, seen) as port:
        transport = PinnedTransport(
            allow_private=True,  # the receiver is on loopback; the pinning is what is tested
            limits=LIMITS,
            resolver=Rebinding(["127.0.0.1"], ["127.0.0.1"]),
            verify=trust,
        )
        async with httpx.AsyncClient(transport=transport) as client:
            response = await client.post(f"https://{name}:{port}/hooks", content=b"{}")
    assert response.status_code == 204
    assert seen == {"sni": name, "host": f"{name}:{port}"}


async def test_a_delivery_to_a_name_rebound_to_loopback_never_reaches_it(
    clean_databases: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Subscribed while the name was public; by the delivery it points at a loopback
    receiver. The attempt is recorded as refused and the receiver hears nothing."""
    connections = 0

    async def count(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        writer.close()

    listener = await asyncio.start_server(count, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    monkeypatch.setattr(targets, "resolve", Rebinding([PUBLIC], ["127.0.0.1"]))
    try:
        async with webhook_stack(
            clean_databases, tmp_path, webhook_allow_private_targets=False
        ) as stack:
            organization = await stack.organization()
            client = await manager(stack, organization)
            await subscribe(stack, client, f"https://rebound.mis.example:{port}/hooks")
            await relay(stack, event([organization["id"]]))
            database: Database = stack.apps["gateway"].state.database

            async def refused() -> str | None:
                async with database.sessionmaker() as session:
                    errors = (await session.scalars(select(WebhookAttempt.error))).all()
                return next((error for error in errors if error), None)

            error = await eventually(refused, lambda error: error is not None)
            assert error is not None
            assert "loopback, private or link-local" in error
    finally:
        listener.close()
        await listener.wait_closed()
    assert connections == 0
