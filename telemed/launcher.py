"""Starts the gateway and every service as uvicorn processes and stops them together.

`make run` uses it with the default ports; the end-to-end tests use it with free ports and a
scratch `var/`, so they exercise exactly what an operator runs.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from telemed.registry import GATEWAY, SERVICES, ServiceSpec

# The HTTP server's own limits, the same wherever a process runs (docker-compose.yml and
# deploy/k8s pass them too; tests/deploy checks). h11 rather than httptools: httptools buffers a
# header of any size (one of 48 MiB held every request of the process for seconds), while h11
# refuses a request whose head passes `h11_max_incomplete_event_size` as it arrives; it costs
# the gateway about 0.1 ms more CPU per proxied request (1.08 against 0.99 ms measured with
# `bench/gateway_overhead.py`). Keep-alive is pinned because the gateway's pool lets go of idle
# connections before it (3 s). Concurrent connections are capped so that slow clients cannot
# hold unbounded memory (each at most 64 KiB of unparsed head); the gateway's pools hold at most
# 512 per service and instance.
SERVER_OPTIONS: dict[str, Any] = {
    "http": "h11",
    "h11_max_incomplete_event_size": 64 * 1024,
    "timeout_keep_alive": 5,
    "limit_concurrency": 2048,
}


def server_arguments() -> list[str]:
    """`SERVER_OPTIONS` as uvicorn's command-line options."""
    return [
        part
        for name, value in SERVER_OPTIONS.items()
        for part in ("--" + name.replace("_", "-"), str(value))
    ]


@dataclass
class Launcher:
    var_dir: Path
    ports: Mapping[str, int] = field(default_factory=lambda: {s.name: s.port for s in SERVICES})
    host: str = "127.0.0.1"
    extra_env: Mapping[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return f"http://{self.host}:{self.ports[name]}"

    def environment(self, service: ServiceSpec) -> dict[str, str]:
        env = {**os.environ, **self.extra_env}
        prefix = service.env_prefix
        env.setdefault(prefix + "VAR_DIR", str(self.var_dir))
        env.setdefault(prefix + "GATEWAY_URL", self.url(GATEWAY.name))
        if service.name == "video":  # join links lead patients to this gateway, on any port
            env.setdefault(prefix + "PUBLIC_URL", self.url(GATEWAY.name))
        if service is GATEWAY:
            upstreams = ",".join(f'"{s.name}":"{self.url(s.name)}"' for s in SERVICES[1:])
            env.setdefault(prefix + "SERVICES", "{" + upstreams + "}")
        return env

    def start(self) -> None:
        for service in SERVICES:
            command = [
                sys.executable, "-m", "uvicorn", service.app_factory, "--factory",
                "--host", self.host, "--port", str(self.ports[service.name]),
                "--no-access-log", "--timeout-graceful-shutdown", "5", "--loop", service.loop,
                *server_arguments(),
            ]  # fmt: skip
            self.processes[service.name] = subprocess.Popen(  # noqa: S603 - our own command
                command, env=self.environment(service)
            )

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Polls every process's `/ready` until all answer 200 or the deadline passes."""
        deadline = time.monotonic() + timeout
        pending = [service.name for service in SERVICES]
        with httpx.Client(timeout=1.0) as client:
            while pending:
                name = pending[0]
                if self.processes[name].poll() is not None:
                    raise RuntimeError(f"{name} exited with {self.processes[name].returncode}")
                try:
                    if client.get(self.url(name) + "/ready").status_code == 200:
                        pending.pop(0)
                        continue
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name} was not ready within {timeout} s")
                time.sleep(0.1)

    def stop(self, timeout: float = 10.0) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def run_forever(self) -> int:
        """Runs until Ctrl-C or until a process dies; always stops the others."""
        self.start()
        try:
            self.wait_ready()
            print(f"telemed is up: gateway on {self.url(GATEWAY.name)} (Ctrl-C stops it)")
            while all(process.poll() is None for process in self.processes.values()):
                time.sleep(0.5)
            return 1
        except KeyboardInterrupt:
            return 0
        finally:
            self.stop()
