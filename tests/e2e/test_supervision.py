"""Faults under `telemed run`: a service killed with SIGKILL comes back by itself while the
gateway and the other services keep answering, and SIGTERM to the launcher leaves no process."""

import os
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from telemed.registry import SERVICES
from tests.e2e.system import login

pytestmark = pytest.mark.e2e
# What each process answers a medic through the gateway, with what status. The ids are ones
# that do not exist: only the service itself says 404; with the service down the gateway
# answers 502 or 503.
PROBES = {
    "gateway": ("/health", 200),
    "consult": ("/api/consult/cases", 200),
    "scheduling": ("/api/scheduling/appointments", 200),
    "files": (f"/api/files/files/{uuid.uuid4()}", 404),
    "video": (f"/api/video/rooms/{uuid.uuid4()}", 404),
    "web": ("/auth/signed-out", 200),  # a console page anyone may open
}
BACK_WITHIN = 120.0  # seconds; a loaded two-core machine restarts a service in a few


def children(launcher: int) -> dict[str, int]:
    """The launcher's processes by service name, read from /proc."""
    found: dict[str, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if parent != launcher:
            continue
        for service in SERVICES:
            if service.app_factory.encode() in command:
                found[service.name] = int(entry.name)
    return found


def answers(client: httpx.Client, name: str, headers: dict[str, str]) -> bool:
    path, status = PROBES[name]
    try:
        return client.get(path, headers=headers).status_code == status
    except httpx.HTTPError:
        return False


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_killed_service_comes_back_by_itself_while_the_others_answer(
    running_system: tuple[str, dict[str, Any], subprocess.Popen[bytes]],
) -> None:
    gateway, accounts, launcher = running_system
    back_after: dict[str, float] = {}
    with httpx.Client(base_url=gateway, timeout=10) as client:
        medic = login(client, accounts, "medic.tashtagol")
        assert all(answers(client, name, medic) for name in PROBES)
        for victim in ("consult", "video"):
            before = children(launcher.pid)
            os.kill(before[victim], signal.SIGKILL)
            killed = time.monotonic()
            while not answers(client, victim, medic):
                assert time.monotonic() - killed < BACK_WITHIN, f"{victim} did not come back"
                others = [name for name in PROBES if name != victim]
                silent = [name for name in others if not answers(client, name, medic)]
                assert silent == [], f"{silent} stopped answering while {victim} was down"
                time.sleep(0.1)
            back_after[victim] = time.monotonic() - killed
            assert launcher.poll() is None
            assert children(launcher.pid)[victim] != before[victim]
    print(
        "killed with SIGKILL, answering again through the gateway after: "
        + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in back_after.items())
    )

    # SIGTERM to the launcher alone (as a service manager sends it) stops every process.
    running = children(launcher.pid)
    assert set(running) == set(PROBES)
    launcher.send_signal(signal.SIGTERM)
    assert launcher.wait(timeout=30) == 0
    assert [name for name, pid in running.items() if alive(pid)] == []
