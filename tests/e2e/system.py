"""Starting the real system as an operator does (`telemed migrate`, `seed`, `run`) and talking
to it: the helpers every end-to-end test shares."""

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from telemed.registry import SERVICES

TELEMED = [sys.executable, "-m", "telemed"]


def environment(var_dir: Path, database_urls: dict[str, str] | None) -> dict[str, str]:
    env = {**os.environ}
    for service in SERVICES:
        env[service.env_prefix + "VAR_DIR"] = str(var_dir)
        if database_urls:
            env[service.env_prefix + "DATABASE_URL"] = database_urls[service.name]
    return env


def wait_ready(gateway: str, process: subprocess.Popen[bytes], timeout: float = 150) -> None:
    """Until the gateway finds every service ready; longer than `telemed run` waits itself."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"telemed run exited early ({process.returncode})"
        try:
            if httpx.get(gateway + "/ready/upstreams", timeout=4).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError("the system did not become ready")


def login(client: httpx.Client, accounts: dict[str, Any], username: str) -> dict[str, str]:
    (account,) = [user for user in accounts["users"] if user["username"] == username]
    response = client.post(
        "/api/auth/token",
        data={"grant_type": "password", "username": username, "password": account["password"]},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
