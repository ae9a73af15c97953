"""Which service a proxied path goes to: one route, first in the gateway's router, that reads
`/api/<service>/...` (and the video service's pages) by its leading segments.

FastAPI matches a path against every route of every included router in turn; the proxy's
catch-alls came after the gateway's own ~90 routes, and under `bench/gateway_overhead.py` that
walk was about 40% of the gateway's CPU per proxied request (cProfile). Here a dictionary
look-up decides. What a client sees stays what those routes made: the same paths proxied, a
405 for a method they did not take, every other path left to the routes after this one, and
metrics and spans labelled with the same route templates (`Template.path`)."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

from gateway.proxy import forward

API_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
PAGE_METHODS = frozenset({"GET", "HEAD"})
_TARGET = "telemed.proxy"  # the scope key of what `matches` found, for `handle`


@dataclass(frozen=True, slots=True)
class Template:
    """What a proxied request is labelled with as `scope["route"]`: the kernel's metrics and
    spans read its `path`, as they read a FastAPI route's."""

    path: str
    methods: frozenset[str] = API_METHODS


Target = tuple[Template, str, str | None]  # the template, the service, the instance's key

# A video room's peer connections, waiting room and recording, and an ICU ward's bedside
# sources, viewers and alarms, live in one video instance: every call of a room or ward goes
# to the instance that owns its key (`gateway/balancer.py`), the id after `rooms/` or
# `wards/`, lowercased.
ROOM = Template("/api/video/rooms/{room_id}{rest:path}")
WARD = Template("/api/video/wards/{ward_id}/{rest:path}")
WARD_ITSELF = Template("/api/video/wards/{ward_id}")
KEYED = {"rooms": (ROOM, ROOM), "wards": (WARD, WARD_ITSELF)}
# Patients open `/join/<token>` from a text message, a bedside tablet opens `/bedside`: the
# video service serves both pages, and any of its instances can (they only check a token and
# read the database).
JOIN = Template("/join/{token}", PAGE_METHODS)
BEDSIDE = Template("/bedside", PAGE_METHODS)
BEDSIDE_ASSET = Template("/bedside/{asset}", PAGE_METHODS)


class ProxyRoutes(BaseRoute):
    """The proxy's routes as one: `/api/<service>/<anything>` for each published service."""

    def __init__(self, services: Iterable[str]) -> None:
        self.services = {name: Template(f"/api/{name}/{{path:path}}") for name in services}

    def find(self, path: str) -> Target | None:
        """The route template, service and key `path` (decoded, as routing reads it) is sent
        on with, or None when it is not a proxied path."""
        if path.startswith("/api/"):
            service, slash, rest = path[5:].partition("/")
            template = self.services.get(service)
            if template is None or not slash:
                return None
            if service == "video":
                kind, slash, rest = rest.partition("/")
                if slash and kind in KEYED and (key := rest.partition("/")[0]):
                    below, itself = KEYED[kind]
                    return (below if "/" in rest else itself), service, key.lower()
            return template, service, None
        if "video" not in self.services:
            return None
        if path.startswith("/join/"):
            token = path[6:]
            return (JOIN, "video", None) if token and "/" not in token else None
        if path == "/bedside":
            return BEDSIDE, "video", None
        if path.startswith("/bedside/"):
            asset = path[9:]
            return (BEDSIDE_ASSET, "video", None) if asset and "/" not in asset else None
        return None

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or (target := self.find(scope["path"])) is None:
            return Match.NONE, {}
        # Another method is a 405, unless a later route takes it (none does).
        match = Match.FULL if scope["method"] in target[0].methods else Match.PARTIAL
        return match, {"route": target[0], _TARGET: target}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        template, service, key = scope[_TARGET]
        if scope["method"] not in template.methods:
            raise HTTPException(405, headers={"Allow": ", ".join(sorted(template.methods))})
        # The decoded path routing matched: the raw one would be cut at an encoded `?`.
        response = await forward(Request(scope, receive), service, scope["path"], room=key)
        await response(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)  # the proxy's routes have no names to build


def install(app: FastAPI, services: Iterable[str]) -> None:
    """Puts the proxy's routes before all others, so no proxied request walks them."""
    app.router.routes.insert(0, ProxyRoutes(services))
