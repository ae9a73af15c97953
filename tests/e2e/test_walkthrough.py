"""End to end over real processes started by `telemed run` (the launcher `make run` uses):
a district medic asks, a regional cardiologist concludes, the medic reads a signed conclusion."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from telemed.registry import SERVICES
from telemed.samples import sample_case
from tests.servers import free_port

pytestmark = pytest.mark.e2e
TELEMED = [sys.executable, "-m", "telemed"]


def _environment(var_dir: Path, database_urls: dict[str, str] | None) -> dict[str, str]:
    env = {**os.environ}
    for service in SERVICES:
        env[service.env_prefix + "VAR_DIR"] = str(var_dir)
        if database_urls:
            env[service.env_prefix + "DATABASE_URL"] = database_urls[service.name]
    return env


@pytest.fixture
def running_system(tmp_path: Path) -> Iterator[tuple[str, dict[str, Any], subprocess.Popen[bytes]]]:
    """Migrates, seeds the demo directory and starts everything, as an operator would."""
    env = _environment(tmp_path, None)
    subprocess.run([*TELEMED, "migrate"], env=env, check=True, timeout=120)
    seeded = subprocess.run(
        [*TELEMED, "seed", "--demo", "--json"], env=env, check=True, timeout=120,
        capture_output=True,
    )  # fmt: skip
    accounts = json.loads(seeded.stdout)
    base_port = free_port()
    while any(_port_taken(base_port + offset) for offset in range(len(SERVICES))):
        base_port = free_port()
    process = subprocess.Popen(
        [*TELEMED, "run", "--var-dir", str(tmp_path), "--base-port", str(base_port)],
        env=env,
        start_new_session=True,
    )
    gateway = f"http://127.0.0.1:{base_port}"
    try:
        _wait_ready(gateway, process)
        yield gateway, accounts, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _port_taken(port: int) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{port}/", timeout=0.2)
    except httpx.HTTPError:
        return False
    return True


def _wait_ready(gateway: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "telemed run exited early"
        try:
            if httpx.get(gateway + "/ready/upstreams", timeout=4).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError("the system did not become ready")


def _login(client: httpx.Client, accounts: dict[str, Any], username: str) -> dict[str, str]:
    (account,) = [user for user in accounts["users"] if user["username"] == username]
    response = client.post(
        "/api/auth/token",
        data={"grant_type": "password", "username": username, "password": account["password"]},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _case_body(centre_id: str) -> dict[str, Any]:
    return sample_case(centre_id, submit=True)


def test_medic_asks_specialist_concludes_medic_reads(
    running_system: tuple[str, dict[str, Any], subprocess.Popen[bytes]],
) -> None:
    gateway, accounts, process = running_system
    centre = next(o for o in accounts["organizations"] if o["kind"] == "regional_centre")
    with httpx.Client(base_url=gateway, timeout=10) as client:
        medic = _login(client, accounts, "medic.tashtagol")
        cardiologist = _login(client, accounts, "cardiologist.kuzbass")
        neurologist = _login(client, accounts, "neurologist.kuzbass")

        created = client.post(
            "/api/consult/cases", json=_case_body(centre["id"]),
            headers={**medic, "Idempotency-Key": "e2e-case-1"},
        )  # fmt: skip
        assert created.status_code == 201, created.text
        case_id = created.json()["id"]
        assert created.json()["status"] == "submitted"

        queue = client.get("/api/consult/cases?status=submitted", headers=cardiologist).json()
        assert case_id in [item["id"] for item in queue["items"]]
        assert client.get(f"/api/consult/cases/{case_id}", headers=neurologist).status_code == 404

        for action in ("accept", "start"):
            step = client.post(f"/api/consult/cases/{case_id}/{action}", headers=cardiologist)
            assert step.status_code == 200, step.text
        conclusion = client.post(
            f"/api/consult/cases/{case_id}/conclusions",
            json={"content": {"findings": "NSTEMI, high GRACE risk.",
                              "diagnosis_text": "Acute subendocardial myocardial infarction",
                              "diagnosis_codes": ["I21.4"],
                              "recommendations": "Transfer to the PCI centre within 24 hours.",
                              "hospitalisation_needed": True}},
            headers=cardiologist,
        )  # fmt: skip
        assert conclusion.status_code == 201, conclusion.text

        read = client.get(f"/api/consult/cases/{case_id}/conclusions/1", headers=medic)
        assert read.status_code == 200
        assert read.json()["signature_valid"] is True
        assert client.get(f"/api/consult/cases/{case_id}", headers=medic).json()["status"] == (
            "concluded"
        )
        docs = client.get("/openapi.json").json()
        assert "/api/consult/cases/{case_id}/conclusions" in docs["paths"]

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=20) == 0
