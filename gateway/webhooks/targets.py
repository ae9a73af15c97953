"""Where webhook deliveries may go: with `webhook_allow_private_targets` off, https URLs whose
host resolves to public addresses only.

A check that resolves the name and a connection that resolves it again can be told apart by a
DNS server that answers a public address first and a private one next (DNS rebinding): the
check passes and the signed body goes to an internal service. So the check is made where the
connection is: `PinnedBackend` resolves a host once per connection, refuses it if any address
it got is not public, and connects to exactly the addresses it checked. TLS is unchanged by
that: httpcore takes the SNI name and the certificate's expected name, like `Host`, from the
URL, never from the address it connects to.
"""

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

import httpcore
import httpx

PRIVATE = "resolves to a loopback, private or link-local address"
Resolver = Callable[[str, int], Awaitable[list[str]]]


async def resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, in the resolver's order, each once."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def blocked_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def url_problem(url: str, allow_private: bool) -> str | None:
    """What is wrong with `url` itself, before any name is looked up, or None."""
    parts = urlsplit(url)
    if not allow_private and (parts.scheme != "https" or not parts.hostname):
        return "Webhook URLs must be https."
    return None


async def target_problem(
    url: str, allow_private: bool, resolver: Resolver | None = None
) -> str | None:
    """Why deliveries may not go to `url`, or None; for an early answer on subscribing. The
    connection of each delivery checks the addresses again, itself (`PinnedBackend`)."""
    if problem := url_problem(url, allow_private):
        return problem
    if allow_private:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        addresses = await _addresses(host, parts.port or 443, resolver or resolve)
    except OSError:
        return f"The host {host} does not resolve."
    if any(blocked_address(address) for address in addresses):
        return f"The host {host} {PRIVATE}."
    return None


async def _addresses(host: str, port: int, resolver: Resolver) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    addresses = await resolver(host, port)
    if not addresses:
        raise OSError(f"{host} has no address")
    return addresses


class TargetRefused(httpcore.ConnectError):
    """The connection was not made: the host's addresses are not allowed (or there are none)."""


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Resolves once per connection, checks every address, connects only to those."""

    def __init__(
        self,
        *,
        allow_private: bool,
        resolver: Resolver | None = None,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.allow_private = allow_private
        self.resolver = resolver or resolve
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await _addresses(host, port, self.resolver)
        except (OSError, TimeoutError) as exc:
            raise TargetRefused(f"The host {host} does not resolve.") from exc
        if not self.allow_private and any(blocked_address(address) for address in addresses):
            raise TargetRefused(f"The host {host} {PRIVATE}.")
        failure: Exception | None = None
        for address in addresses:  # the next one only if this one cannot be reached
            try:
                return await self.inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise TargetRefused("Webhooks are not delivered to local sockets.")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, its connections made by a `PinnedBackend`."""

    def __init__(
        self,
        *,
        allow_private: bool,
        limits: httpx.Limits,
        resolver: Resolver | None = None,
        inner: httpcore.AsyncNetworkBackend | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        super().__init__(limits=limits, trust_env=False, verify=verify)
        # httpx (0.28, 0.29) takes no network backend, so the pool it made is replaced by the
        # same pool with ours; its requests and responses are handled by httpx as usual.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PinnedBackend(
                allow_private=allow_private, resolver=resolver, inner=inner
            ),
        )
