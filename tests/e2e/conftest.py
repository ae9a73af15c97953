"""The running system end-to-end tests share: migrated, seeded and started by `telemed run`."""

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from telemed.registry import SERVICES
from tests.e2e.system import TELEMED, environment, wait_ready
from tests.servers import free_port_run


@pytest.fixture
def running_system(tmp_path: Path) -> Iterator[tuple[str, dict[str, Any], subprocess.Popen[bytes]]]:
    """Migrates, seeds the demo directory and starts everything, as an operator would."""
    env = environment(tmp_path, None)
    subprocess.run([*TELEMED, "migrate"], env=env, check=True, timeout=120)
    seeded = subprocess.run(
        [*TELEMED, "seed", "--demo", "--json"], env=env, check=True, timeout=120,
        capture_output=True,
    )  # fmt: skip
    accounts = json.loads(seeded.stdout)
    base_port = free_port_run(len(SERVICES))
    process = subprocess.Popen(
        [*TELEMED, "run", "--var-dir", str(tmp_path), "--base-port", str(base_port)],
        env=env,
        start_new_session=True,
    )
    gateway = f"http://127.0.0.1:{base_port}"
    try:
        wait_ready(gateway, process)
        yield gateway, accounts, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
