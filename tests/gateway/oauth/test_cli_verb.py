"""`telemed admin create-oauth-client` registers a client the authorization endpoint takes."""

import re

import pytest

from tests.gateway.oauth.conftest import REDIRECT_URI, Ask, SignInWorld
from tests.test_cli import gateway_database, invoke  # noqa: F401 - the fixture


@pytest.mark.usefixtures("gateway_database")
async def test_a_client_registered_on_the_command_line_signs_people_in(
    world: SignInWorld,
) -> None:
    code, output = await invoke(
        "admin", "create-oauth-client", "Patient app", "--redirect-uri", REDIRECT_URI,
        "--client-id", "patient-app", "--first-party", "--scope", "openid",
    )  # fmt: skip
    assert code == 0, output
    assert "created OAuth client patient-app" in output
    assert "secret" not in output  # a public client has none
    ask = Ask("patient-app", scope="openid")
    issued = await world.code(world.browser(), ask, await world.person())
    assert (await world.exchange(ask, issued)).status_code == 200

    again, output = await invoke(
        "admin", "create-oauth-client", "Reports", "--redirect-uri", "https://r.example/cb",
        "--client-id", "patient-app", "--confidential",
    )  # fmt: skip
    assert again != 0
    assert "exists already" in output
    confidential, output = await invoke(
        "admin", "create-oauth-client", "Reports", "--redirect-uri", "https://r.example/cb",
        "--confidential",
    )  # fmt: skip
    assert confidential == 0, output
    assert re.search(r"client secret \(shown once\): \S{40,}", output)
    refused, output = await invoke(
        "admin", "create-oauth-client", "Bad", "--redirect-uri", "http://evil.example/cb"
    )
    assert refused != 0
