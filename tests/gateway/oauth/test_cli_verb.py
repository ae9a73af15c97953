"""`telemed admin create-oauth-client` registers a client the authorization endpoint takes."""

import asyncio
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from telemed.cli import app as cli
from tests.gateway.oauth.conftest import REDIRECT_URI, Ask, SignInWorld


async def invoke(*args: str) -> tuple[int, str]:
    # The CLI runs its own event loop, so it is invoked from a worker thread.
    result = await asyncio.to_thread(CliRunner().invoke, cli, list(args))
    return result.exit_code, result.output


@pytest.fixture
def cli_settings(
    clean_databases: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TELEMED_GATEWAY_DATABASE_URL", clean_databases["gateway"])
    monkeypatch.setenv("TELEMED_GATEWAY_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("TELEMED_GATEWAY_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("TELEMED_GATEWAY_ARGON2_MEMORY_KIB", "64")


@pytest.mark.usefixtures("cli_settings")
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
