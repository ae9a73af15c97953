"""`telemed demo` against the system `make run` starts: `telemed migrate` and `telemed run
--mail-catcher` as real processes (free ports, a scratch var/, nothing seeded), the demo as a
subprocess; the patient's invitation email reaches the local catcher, and the time it took from
the booking is printed."""

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from telemed.registry import SERVICES
from tests.conftest import reset_database
from tests.e2e.system import wait_ready
from tests.servers import free_port, free_port_run

pytestmark = pytest.mark.e2e
TELEMED = [sys.executable, "-m", "telemed"]


@dataclass(frozen=True)
class System:
    gateway: str
    var_dir: Path
    env: dict[str, str]


@pytest.fixture(scope="module")
def system(
    database_urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[System]:
    """Migrated and running, as after `make run`: the demo finds its directory empty."""
    var_dir = tmp_path_factory.mktemp("var")
    # Cheap password hashing: the demo seeds and signs in a dozen times, and the defaults cost
    # a second each on a busy CI runner (hashes carry their parameters, so any cost verifies).
    env = {**os.environ, "TELEMED_GATEWAY_ARGON2_TIME_COST": "1",
           "TELEMED_GATEWAY_ARGON2_MEMORY_KIB": "64"}  # fmt: skip
    for service in SERVICES:
        env[service.env_prefix + "VAR_DIR"] = str(var_dir)
        env[service.env_prefix + "DATABASE_URL"] = database_urls[service.name]
    subprocess.run([*TELEMED, "migrate"], env=env, check=True, timeout=120)
    base_port = free_port_run(len(SERVICES))
    command = [
        *TELEMED, "run", "--var-dir", str(var_dir), "--base-port", str(base_port),
        "--mail-catcher",
    ]  # fmt: skip
    with subprocess.Popen(command, env=env, start_new_session=True) as launcher:
        try:
            wait_ready(f"http://127.0.0.1:{base_port}", launcher)
            yield System(f"http://127.0.0.1:{base_port}", var_dir, env)
        finally:
            _interrupt(launcher)
    for url in database_urls.values():  # the next tests expect empty databases
        asyncio.run(reset_database(url))


def _interrupt(launcher: subprocess.Popen[bytes]) -> None:
    """Ctrl-C, as an operator stops `make run`; killed if it does not stop in time."""
    if launcher.poll() is not None:
        return
    os.killpg(launcher.pid, signal.SIGINT)
    try:
        launcher.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(launcher.pid, signal.SIGKILL)


def demo(system: System, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TELEMED, "demo", "--url", system.gateway, *args],
        env=system.env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def test_the_demo_tells_the_whole_story_and_exits_0(system: System) -> None:
    done = demo(system, "--var-dir", str(system.var_dir), "--json")
    output = done.stderr  # the progress; the JSON report is on stdout
    assert done.returncode == 0, output
    for line in (
        f"telemed demo against {system.gateway}",
        "seeded the demo directory",
        "medic.tashtagol opened case",
        "stored as application/pdf",
        "MiB in a first PATCH, then the link dropped",
        "stored as application/dicom: CR CHEST 2048x2048",
        "submitted with 2 attachments",
        "reads it: signature valid, case concluded",
        "the visit is fulfilled; remote follow-ups may be booked: True",
        "first remote follow-up",
        f"patient.petrov took the join link {system.gateway}/join/",
        "second remote follow-up",
        "patient.petrov@demo.example.org was sent",
        f"the personal link in it: {system.gateway}/visit/",
        "s from booking the visit to the email in the catcher",
        "the bot patient joined (waiting) and the doctor admitted them",
        "delivered case.submitted",
        "delivered case.concluded",
        "delivered appointment.booked",
        "The story is complete: 14 steps",
    ):
        assert line in output, f"{line!r} missing from:\n{output}"
    report = json.loads(done.stdout)
    assert report["ok"] is True
    assert [step["ok"] for step in report["steps"]] == [True] * 14
    facts = {step["title"]: step["facts"] for step in report["steps"]}
    dicom = facts["DICOM image by tus, resumed after a dropped link"]
    assert dicom["bytes"] // 3 <= dicom["resumed_at"] < dicom["bytes"]  # kept what arrived
    mail = facts["The patient's invitation email"]
    assert mail["catcher"] is True
    assert 0 < mail["seconds"] < 30
    # The figure: booking a remote visit to its invitation in the catcher, through the real
    # outbox, relay, message and SMTP delivery.
    print(f"booking -> invitation email in the catcher: {mail['seconds']:.2f} s")
    video = facts["Video visit: the doctor and a bot patient"]
    assert min(video["frames_to_doctor"], video["frames_to_patient"]) >= 20
    webhooks = facts["Webhook deliveries"]
    assert "failed" not in webhooks["statuses"]
    # A reminder may be due too (the follow-up is within the hour), and still on its way.
    assert webhooks["events"] | {"appointment.reminder_due": 0} == {
        "case.submitted": 1, "case.accepted": 1, "case.concluded": 1,
        "appointment.booked": 3, "appointment.reminder_due": 0,
    }  # fmt: skip
    assert webhooks["refused"] == 0
    kept = system.var_dir / "demo" / "credentials.json"
    assert kept.stat().st_mode & 0o777 == 0o600
    assert {user["username"] for user in json.loads(kept.read_text())["users"]} >= {
        "medic.tashtagol", "cardiologist.kuzbass", "patient.petrov",
    }  # fmt: skip


def test_a_failing_step_stops_the_demo_with_the_apis_problem(
    system: System, tmp_path: Path
) -> None:
    seeded = subprocess.run(
        [*TELEMED, "seed", "--demo", "--json"], env=system.env, check=True, timeout=120,
        capture_output=True, text=True,
    )  # fmt: skip
    accounts = json.loads(seeded.stdout)
    for user in accounts["users"]:
        if user["username"] == "cardiologist.kuzbass":
            user["password"] = "not her password"
    credentials = tmp_path / "credentials.json"
    credentials.write_text(json.dumps(accounts))

    done = demo(system, "--credentials", str(credentials), "--json")

    assert done.returncode == 1
    assert " 2. Demo directory and sign-in" in done.stderr
    refused = "FAILED: POST /api/auth/token -> 400: Bad Request: The username or password is wrong"
    assert refused in done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is False
    assert [step["ok"] for step in report["steps"]] == [True, False]
    assert "The username or password is wrong" in report["steps"][1]["error"]


def test_an_unreachable_gateway_is_a_clear_failure(tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    done = subprocess.run(
        [*TELEMED, "demo", "--url", nowhere, "--var-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert f"FAILED: cannot reach the gateway at {nowhere}" in done.stdout
    assert "is the system running (`make run`)?" in done.stdout
