"""What the console's browser tests share: the system started as an operator starts it,
Chromium, axe-core, and the gateway's sign-in page."""

import json
import os
import re
import signal
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, sync_playwright

from telemed.registry import SERVICES
from tests.e2e.system import TELEMED, environment, wait_ready
from tests.servers import free_port_run

CHROMIUM = "/usr/bin/chromium"
# A JWT (header.payload.), or a parameter that would carry a token.
TOKEN_IN_URL = re.compile(r"eyJ[\w-]+\.[\w-]+|[?&](access_token|refresh_token|id_token|token)=")
SERIOUS = {"serious", "critical"}


@dataclass
class System:
    url: str
    accounts: dict[str, Any]

    def password(self, username: str) -> str:
        (user,) = [u for u in self.accounts["users"] if u["username"] == username]
        password: str = user["password"]
        return password


@contextmanager
def running_console(var_dir: Path, **env_overrides: str) -> Iterator[System]:
    """Migrated, seeded with the demo (which registers the console for this address) and
    started, as an operator does, on free ports; stopped with SIGTERM, then SIGKILL."""
    base_port = free_port_run(len(SERVICES))
    url = f"http://127.0.0.1:{base_port}"
    env = environment(var_dir, None) | env_overrides
    env["TELEMED_WEB_PUBLIC_URL"] = env["TELEMED_GATEWAY_PUBLIC_URL"] = url
    subprocess.run([*TELEMED, "migrate"], env=env, check=True, timeout=120)
    seeded = subprocess.run(
        [*TELEMED, "seed", "--demo", "--json"], env=env, check=True, timeout=120,
        capture_output=True,
    )  # fmt: skip
    process = subprocess.Popen(
        [*TELEMED, "run", "--var-dir", str(var_dir), "--base-port", str(base_port)],
        env=env,
        start_new_session=True,
    )
    try:
        wait_ready(url, process)
        yield System(url, json.loads(seeded.stdout))
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextmanager
def headless_chromium(args: Sequence[str] = ()) -> Iterator[Browser]:
    """Debian's Chromium, driven by Playwright; `args` are extra command-line switches (a fake
    camera for the video pages)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=list(args)
        )
        yield browser
        browser.close()


def assert_accessible(page: Page, screen: str) -> None:
    """axe-core's rules on the screen as it is: no serious or critical violation."""
    violations = [
        (violation["id"], violation["impact"], [node["target"] for node in violation["nodes"]])
        for violation in Axe().run(page).response["violations"]
        if violation["impact"] in SERIOUS
    ]
    assert not violations, f"{screen}: {violations}"


def sign_in(page: Page, system: System, username: str) -> None:
    """At the gateway's sign-in page, as a person fills it in."""
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", system.password(username))
    page.click("button[type=submit]")
