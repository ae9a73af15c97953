"""The proxy's dispatch by leading path segments agrees with the route templates it labels
requests with, read as Starlette reads them, in the order the proxy's routes had."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.routing import compile_path

from gateway.dispatch import (
    BEDSIDE,
    BEDSIDE_ASSET,
    JOIN,
    ROOM,
    WARD,
    WARD_ITSELF,
    ProxyRoutes,
    Target,
    Template,
)

SERVICES = ("consult", "files", "video", "scheduling")
SEGMENTS = ["api", *SERVICES, "auth", "rooms", "wards", "join", "bedside", "", "R-1", "Ab.c"]
# Where the templates part ways, so that most paths drawn come near one of them.
STARTS = ["", "/api", "/api/video", "/api/video/rooms", "/api/video/wards", "/api/consult",
          "/api/auth", "/join", "/bedside"]  # fmt: skip
PATHS = st.builds(
    lambda start, tail: start + "".join("/" + segment for segment in tail) or "/",
    st.sampled_from(STARTS),
    st.lists(st.sampled_from(SEGMENTS), max_size=4),
)


def templates(services: tuple[str, ...]) -> list[Template]:
    """Each template in turn, a room's and a ward's before their service's catch-all."""
    ordered = []
    routes = ProxyRoutes(services)
    for service in services:
        if service == "video":
            ordered += [ROOM, WARD, WARD_ITSELF]
        ordered.append(routes.services[service])
    return ordered + ([JOIN, BEDSIDE, BEDSIDE_ASSET] if "video" in services else [])


def by_regex(path: str, services: tuple[str, ...]) -> Target | None:
    for template in templates(services):
        regex: re.Pattern[str] = compile_path(template.path)[0]
        if found := regex.match(path):
            service = template.path.split("/")[2] if template.path.startswith("/api/") else "video"
            keys = found.groupdict()
            key = keys.get("room_id") or keys.get("ward_id")
            return template, service, key.lower() if key else None
    return None


@settings(max_examples=500, deadline=None)
@given(
    PATHS,
    st.sampled_from([SERVICES, ("consult", "files")]),
)
def test_a_path_goes_where_its_route_template_says(path: str, services: tuple[str, ...]) -> None:
    assert ProxyRoutes(services).find(path) == by_regex(path, services)


def test_rooms_and_wards_are_keyed_and_other_paths_are_left_to_other_routes() -> None:
    routes = ProxyRoutes(SERVICES)
    assert routes.find("/api/video/rooms/AB12/offer") == (ROOM, "video", "ab12")
    assert routes.find("/api/video/wards/W7") == (WARD_ITSELF, "video", "w7")
    assert routes.find("/api/video/rooms/") == (routes.services["video"], "video", None)
    assert routes.find("/join/t0ken") == (JOIN, "video", None)
    for elsewhere in ("/api/consult", "/api/auth/token", "/api/web/x", "/", "/join/a/b"):
        assert routes.find(elsewhere) is None, elsewhere
