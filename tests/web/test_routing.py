"""The gateway sends every path that is not its own to the console, and its own routes, added
in any order, still win."""

from fastapi.responses import JSONResponse
from httpx import Response

from tests.conftest import Stack


def from_console(response: Response) -> bool:
    """The console's pages all start with its skip link; the gateway's answers never do."""
    return 'class="skip-link"' in response.text


async def test_the_console_answers_paths_the_gateway_does_not_have(stack: Stack) -> None:
    home = await stack.client.get("/")
    assert home.status_code == 303
    assert home.headers["location"] == "/auth/sign-in?next=%2F"
    missing = await stack.client.get("/no/such/page")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert from_console(missing)
    assert "Страница не найдена" in missing.text  # no Accept-Language: Russian


async def test_the_gateways_own_routes_win(stack: Stack) -> None:
    health = await stack.client.get("/health")
    assert health.json() == {"status": "ok"}
    jwks = await stack.client.get("/.well-known/jwks.json")
    assert "keys" in jwks.json()
    me = await stack.client.get("/api/directory/me")
    assert me.status_code == 401
    assert me.headers["content-type"] == "application/problem+json"
    discovery = await stack.client.get("/.well-known/openid-configuration")
    assert discovery.json()["authorization_endpoint"].endswith("/oauth/authorize")
    # A method the route lacks stays the gateway's 405, not a page of the console.
    assert (await stack.client.post("/health")).status_code == 405


async def test_unknown_paths_under_the_gateways_prefixes_never_reach_the_console(
    stack: Stack,
) -> None:
    for path in (
        "/api/nothing",
        "/api/web/pages",  # the console has no API of its own
        "/oauth/nothing",
        "/account/nothing",
        "/notify/nothing",
        "/visit/nothing",
        "/.well-known/nothing",
        "/ready/nothing",
        "/docs/nothing",  # /docs/oauth2-redirect is Swagger UI's, served by the gateway
    ):
        response = await stack.client.get(path)
        assert response.status_code == 404, path
        assert not from_console(response), path


async def test_a_route_the_gateway_adds_after_the_console_still_wins(stack: Stack) -> None:
    """Routers are added by several parts of the gateway; the console is the fallback, not a
    route among them, so the order they are added in cannot matter."""
    gateway = stack.apps["gateway"]

    async def late() -> JSONResponse:
        return JSONResponse({"late": True})

    gateway.router.add_api_route("/late-page", late, methods=["GET"])
    assert (await stack.client.get("/late-page")).json() == {"late": True}
    assert from_console(await stack.client.get("/late-page-not"))


async def test_the_merged_api_document_leaves_the_console_out(stack: Stack) -> None:
    document = (await stack.client.get("/openapi.json")).json()
    assert not [path for path in document["paths"] if path.startswith(("/auth/", "/profile"))]
    # Every API service answered, so the document is kept (it was not, with the console in).
    assert stack.apps["gateway"].state.merged_openapi


async def test_static_files_have_versioned_names_and_a_years_cache(stack: Stack) -> None:
    assets = stack.apps["web"].state.assets
    url = assets.url("css/console.css")
    digest = url.split("/")[2]
    answer = await stack.client.get(url, headers={"Accept-Encoding": "gzip"})
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert answer.headers["content-type"] == "text/css; charset=utf-8"
    assert answer.headers["content-encoding"] == "gzip"  # relayed as web compressed it
    assert ":focus-visible" in answer.text
    stale = await stack.client.get(url.replace(digest, "0" * len(digest)))
    assert stale.status_code == 404
    htmx = await stack.client.get(assets.url("vendor/htmx.min.js"))
    assert htmx.status_code == 200
    assert htmx.headers["content-type"] == "text/javascript; charset=utf-8"
