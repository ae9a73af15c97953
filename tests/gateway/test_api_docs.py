"""The gateway's Swagger UI and ReDoc pages work without the internet: every script, style and
icon they load is served by the gateway itself, and Swagger UI's "Authorize" is set up for the
authorization code flow with PKCE through `/docs/oauth2-redirect`."""

import re

from tests.conftest import Stack

ASSET = re.compile(r'(?:src|href)="([^"]+)"')


async def _assets_load(stack: Stack, page: str) -> list[str]:
    answer = await stack.client.get(page)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    urls = ASSET.findall(answer.text)
    assert urls
    assert [url for url in urls if not url.startswith("/docs/assets/")] == []  # no CDN
    for url in urls:
        asset = await stack.client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 100, url
    return urls


async def test_swagger_ui_is_served_whole_and_authorizes_with_pkce(stack: Stack) -> None:
    urls = await _assets_load(stack, "/docs")
    assert "/docs/assets/swagger/swagger-ui-bundle.js" in urls
    page = (await stack.client.get("/docs")).text
    assert '"usePkceWithAuthorizationCodeGrant": true' in page
    assert '"clientId": "telemed-api-docs"' in page
    assert "/docs/oauth2-redirect" in page
    policy = (await stack.client.get("/docs")).headers["content-security-policy"]
    assert "script-src 'self' 'sha256-" in policy
    # "Try it out" may call the public address from a page opened under another name.
    public_url = stack.apps["gateway"].state.settings.public_url.rstrip("/")
    assert f"connect-src 'self' {public_url};" in policy
    redirect = await stack.client.get("/docs/oauth2-redirect")
    assert redirect.status_code == 200
    assert "oauth2" in redirect.text


async def test_redoc_is_served_whole(stack: Stack) -> None:
    urls = await _assets_load(stack, "/docs/redoc")
    assert "/docs/assets/redoc/redoc.standalone.js" in urls
    assert 'spec-url="/openapi.json"' in (await stack.client.get("/docs/redoc")).text


async def test_an_unknown_asset_is_a_404(stack: Stack) -> None:
    assert (await stack.client.get("/docs/assets/swagger/nothing.js")).status_code == 404
