"""`/ready/upstreams`: every instance of every service behind the gateway, for operators.

Not a probe. The gateway's own `/ready` checks only its database: were it to include the
services, one service without a ready instance would turn every gateway replica unready and
take the whole portal, sign-in included, out of its Kubernetes Service.
"""

import asyncio

from fastapi import APIRouter, Request

from gateway.proxy import Upstreams
from services.common.errors import ServiceUnavailable, problem_responses

router = APIRouter(tags=["operations"])
READY = "ready"
PROBE_SECONDS = 3.0


async def _probe(upstreams: Upstreams, service: str, url: str) -> str:
    try:
        await upstreams.get_json(service, "/ready", PROBE_SECONDS, instance=url)
    except Exception as exc:  # a probe reports any failure, it never raises
        return type(exc).__name__
    return READY


@router.get(
    "/ready/upstreams",
    summary="Each service instance's readiness, and which ones the proxy is skipping",
    responses=problem_responses(503),
)
async def upstreams_ready(request: Request) -> dict[str, object]:
    """For operators and monitoring, not a probe: every configured instance of every service
    behind the gateway is asked for its `/ready` (3 s each), with the instances the balancer
    is resting. Any service without a ready instance makes it a 503 problem carrying the same
    `services` and `resting`. No token."""
    upstreams: Upstreams = request.app.state.upstreams
    instances = [(service, url) for service, urls in upstreams.urls.items() for url in urls]
    states = await asyncio.gather(*(_probe(upstreams, *instance) for instance in instances))
    services: dict[str, dict[str, str]] = {service: {} for service in upstreams.urls}
    failed: set[str] = set()
    for (service, url), state in zip(instances, states, strict=True):
        services[service][url] = state
        if state != READY:
            failed.add(service)
    resting = sorted(upstreams.balancer.resting())
    if failed:
        raise ServiceUnavailable(
            "Not ready: " + ", ".join(sorted(failed)), services=services, resting=resting
        )
    return {"status": READY, "services": services, "resting": resting}
