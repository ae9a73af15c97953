"""Health, readiness, metrics, request ids, unknown routes and the merged OpenAPI document."""

import re

from tests.conftest import Stack


async def test_ready_is_the_gateway_own_and_upstreams_are_reported_apart(stack: Stack) -> None:
    assert (await stack.client.get("/health")).json() == {"status": "ok"}
    ready = await stack.client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == ["database"]
    upstreams = await stack.client.get("/ready/upstreams")
    assert upstreams.status_code == 200, upstreams.text
    states = upstreams.json()["services"]
    assert set(states) == {"consult", "files", "video", "scheduling", "web"}
    assert all(set(urls.values()) == {"ready"} for urls in states.values())


async def test_request_id_is_echoed_generated_and_sanitised(stack: Stack) -> None:
    given = await stack.client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = await stack.client.get("/health")
    assert len(made.headers["x-request-id"]) == 32
    hostile = await stack.client.get("/health", headers={"X-Request-ID": "a\tb<script>"})
    assert hostile.headers["x-request-id"] != "a\tb<script>"


async def test_request_id_reaches_the_service_behind_the_proxy(stack: Stack) -> None:
    response = await stack.client.get("/api/consult/nowhere", headers={"X-Request-ID": "trace-42"})
    assert response.status_code == 404
    assert response.json()["request_id"] == "trace-42"
    assert response.headers["x-request-id"] == "trace-42"


async def test_unknown_routes_and_methods_are_problems(stack: Stack) -> None:
    # Under the gateway's own prefixes; any other path is the web console's (tests/web).
    missing = await stack.client.get("/api/nowhere")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    unknown_service = await stack.client.get("/api/nosuchservice/x")
    assert unknown_service.status_code == 404
    wrong_method = await stack.client.delete("/api/auth/token")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["title"] == "Method Not Allowed"


async def test_metrics_count_requests_by_route_template(stack: Stack) -> None:
    await stack.client.get("/health")
    metrics = (await stack.client.get("/metrics")).text
    assert 'http_requests_total{method="GET",route="/health",status="200"}' in metrics
    resident = re.search(r"^process_resident_memory_bytes (\S+)$", metrics, re.MULTILINE)
    assert resident is not None
    assert float(resident.group(1)) > 10 * 2**20
    assert "python_info{" in metrics


async def test_openapi_lists_every_service_under_public_paths(stack: Stack) -> None:
    document = (await stack.client.get("/openapi.json")).json()
    assert "/api/auth/token" in document["paths"]
    assert "/api/directory/organizations" in document["paths"]
    assert any(path.startswith("/api/consult/cases") for path in document["paths"])
    assert "Problem" in document["components"]["schemas"]
    docs = await stack.client.get("/docs")
    assert "swagger" in docs.text.lower()
