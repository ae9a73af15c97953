"""deploy/grafana's dashboard is valid and asks Prometheus only for what the services expose:
metric names found in the code, route templates the routers declare, jobs the registry runs."""

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from gateway import auth, directory
from services.common.observability import install_observability
from services.consult.cases import api as consult_api
from services.files import api as files_api
from services.files import tus
from services.scheduling import api as scheduling_api
from services.scheduling import eligibility_api, schedule_api
from services.scheduling.dependencies import PREFIX as SCHEDULING_PREFIX
from services.video import api as video_api
from services.video import joinpage, signalling
from telemed.registry import SERVICES
from tests.deploy.manifests import ROOT

DASHBOARD = ROOT / "deploy" / "grafana" / "telemed-dashboard.json"
CONSTRUCTOR = re.compile(r"\b(Counter|Gauge|Histogram|Summary)\(\s*\"([a-zA-Z_:][a-zA-Z0-9_:]*)\"")
SERIES = {
    "Counter": ["{}"],
    "Gauge": ["{}"],
    "Histogram": ["{}_bucket", "{}_sum", "{}_count"],
    "Summary": ["{}", "{}_sum", "{}_count"],
}
QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{")
ROUTERS: list[APIRouter] = [
    auth.router, directory.router, consult_api.router, files_api.router, tus.router,
    scheduling_api.router, eligibility_api.router, video_api.router, signalling.router,
    joinpage.router,
]  # fmt: skip


def exposed_series() -> set[str]:
    """Every series name a service's /metrics can show, from the metric constructors in the code
    and the process collectors every app registers, plus `up`, which Prometheus adds itself."""
    registry = install_observability(FastAPI(), "any", {})
    names = {"up"} | {sample.name for family in registry.collect() for sample in family.samples}
    for package in ("services", "gateway"):
        for path in (ROOT / package).rglob("*.py"):
            for kind, name in CONSTRUCTOR.findall(path.read_text()):
                if kind == "Counter" and not name.endswith("_total"):
                    name += "_total"
                names.update(series.format(name) for series in SERIES[kind])
    return names


def paths(router: APIRouter) -> set[str]:
    return {route.path for route in router.routes if isinstance(route, APIRoute)}


def route_templates() -> set[str]:
    """The `route` label values requests can get. A router included into another router (only
    scheduling's schedule_api) has its requests labelled by its own, unprefixed paths, so both
    forms are listed: the dashboard matches either."""
    routes = {path for router in ROUTERS for path in paths(router)}
    nested = paths(schedule_api.router)
    routes |= nested | {SCHEDULING_PREFIX + path for path in nested}
    # The kernel's own routes, and the gateway's proxy routes, one per service.
    routes |= {"/health", "/ready", "/metrics", "/join/{token}"}
    routes |= {f"/api/{spec.name}/{{path:path}}" for spec in SERVICES[1:]}
    return routes


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def queries(dashboard: dict[str, Any]) -> Iterator[str]:
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield target["expr"]


def test_the_dashboard_is_well_formed(dashboard: dict[str, Any]) -> None:
    assert dashboard["uid"]
    assert dashboard["title"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    variables = {variable["name"] for variable in dashboard["templating"]["list"]}
    assert variables == {"datasource", "job"}
    for panel in dashboard["panels"]:
        assert {"x", "y", "w", "h"} <= set(panel["gridPos"])
        if panel["type"] == "row":
            continue
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


def test_every_query_reads_series_the_services_expose(dashboard: dict[str, Any]) -> None:
    exposed = exposed_series()
    assert {"http_requests_total", "http_request_duration_seconds_bucket"} <= exposed
    assert "video_peer_connections" in exposed
    used: set[str] = set()
    for expr in queries(dashboard):
        selectors = SELECTOR.findall(QUOTED.sub('""', expr))
        assert selectors, f"no series selector in {expr}"
        used.update(selectors)
    assert used <= exposed, f"not exposed: {sorted(used - exposed)}"
    assert {name for name in exposed if name.startswith("video_")} <= used | {"up"}


def test_every_route_and_job_a_query_names_exists(dashboard: dict[str, Any]) -> None:
    routes = route_templates()
    jobs = {spec.name for spec in SERVICES}
    for expr in queries(dashboard):
        for route in re.findall(r'route="([^"]+)"', expr):
            assert route in routes, f"no route {route}"
        for pattern in re.findall(r'route=~"([^"]+)"', expr):
            matched = {route for route in routes if re.fullmatch(pattern, route)}
            assert len(matched) == 2, f"{pattern} should match a route with and without prefix"
        for job in re.findall(r'job="([^"]+)"', expr):
            assert job in jobs, f"no process {job}"
