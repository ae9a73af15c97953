"""ICE servers handed to clients: STUN as configured, TURN with coturn REST credentials.

coturn's REST scheme (`use-auth-secret`): the username is `<expiry unix time>:<identity>` and
the password is base64(HMAC-SHA1(secret, username)), so TURN needs no per-user accounts and a
leaked credential dies on its own.
"""

import base64
import hashlib
import hmac
import time

from pydantic import BaseModel

from services.video.settings import VideoSettings


class IceServer(BaseModel):
    urls: list[str]
    username: str | None = None
    credential: str | None = None


def turn_credential(secret: str, identity: str, expires_at: int) -> tuple[str, str]:
    username = f"{expires_at}:{identity}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers(settings: VideoSettings, identity: str) -> list[IceServer]:
    servers = [IceServer(urls=settings.stun_urls)] if settings.stun_urls else []
    expires_at = int(time.time()) + settings.turn_credential_seconds
    for turn in settings.turn_servers:
        username, credential = turn_credential(turn.secret, identity, expires_at)
        servers.append(IceServer(urls=turn.urls, username=username, credential=credential))
    return servers


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def link_header(servers: list[IceServer]) -> str:
    """The WHIP (RFC 9725 §4.6) `Link: <url>; rel="ice-server"` list, with TURN credentials."""
    links = []
    for server in servers:
        for url in server.urls:
            link = f'<{url}>; rel="ice-server"'
            if server.username is not None and server.credential is not None:
                link += f"; username={_quoted(server.username)}"
                link += f'; credential={_quoted(server.credential)}; credential-type="password"'
            links.append(link)
    return ", ".join(links)
