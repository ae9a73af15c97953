"""Starts the gateway and every service as uvicorn processes, keeps them running, and stops
them together.

`make run` uses it with the default ports; the end-to-end tests use it with free ports and a
scratch `var/`, so they exercise exactly what an operator runs. Once every process answers
`/health`, a process that dies is restarted with back-off (telemed/supervisor.py) while the
others go on; Ctrl-C, SIGTERM or SIGHUP stop them all, and on Linux a child also gets SIGTERM
from the kernel if the launcher itself is killed, so none outlives it.
"""

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from telemed.registry import GATEWAY, SERVICES, ServiceSpec, spec
from telemed.supervisor import Supervisor

# The HTTP server's own limits, the same wherever a process runs (docker-compose.yml and
# deploy/k8s pass them too; tests/deploy checks). h11 rather than httptools: httptools buffers a
# header of any size (one of 48 MiB held every request of the process for seconds), while h11
# refuses a request whose head passes `h11_max_incomplete_event_size` as it arrives; it costs
# the gateway about 0.1 ms more CPU per proxied request (1.08 against 0.99 ms measured with
# `bench/gateway_overhead.py`). The parser runs in services/common/server.py's subclass of
# uvicorn's h11 protocol: it closes lingering, so that a client still sending a refused body reads
# its 413 instead of a reset, and answers a request it cannot parse with a problem document.
# Keep-alive is pinned because the gateway's pool lets go of idle connections before it (3 s).
# Concurrent connections are capped so that slow clients cannot hold unbounded memory (each at
# most 64 KiB of unparsed head); the gateway's pools hold at most 512 per service and instance.
SERVER_OPTIONS: dict[str, Any] = {
    "http": "services.common.server:Protocol",
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


# A loaded machine (CI, two cores shared by five Python processes importing their world) can
# take a minute to start everything; past this the launcher names the ones still silent.
READY_TIMEOUT = 120.0
LATE_REPORT_EVERY = 15.0
PR_SET_PDEATHSIG = 1  # prctl(2)


def uvicorn_command(service: ServiceSpec, host: str, port: int) -> list[str]:
    """How one process is started, here and by tests that start a single one."""
    return [
        sys.executable, "-m", "uvicorn", service.app_factory, "--factory",
        "--host", host, "--port", str(port),
        "--no-access-log", "--timeout-graceful-shutdown", "5", "--loop", service.loop,
        *server_arguments(),
    ]  # fmt: skip


def say(message: str) -> None:
    print(f"telemed: {message}", flush=True)


def _dies_with(parent: int) -> Callable[[], None]:
    """What a child runs before it execs: the kernel is to send it SIGTERM when the launcher
    dies. The library is looked up here, in the parent, so the child only makes the call."""
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def arrange() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the launcher died before the request was in place
            os._exit(1)

    return arrange


def _stop_signal(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM and SIGHUP stop everything as Ctrl-C does


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
        # Join links, sign-in redirects, the console's pages and the FHIR views' absolute URLs
        # lead to the gateway as clients reach it: its public URL, if one is set, is every
        # service's (so the FHIR views agree on their base); else this gateway, on any port.
        public = env.get(GATEWAY.env_prefix + "PUBLIC_URL") or self.url(GATEWAY.name)
        env.setdefault(prefix + "PUBLIC_URL", public)
        if service is GATEWAY:
            upstreams = ",".join(f'"{s.name}":"{self.url(s.name)}"' for s in SERVICES[1:])
            env.setdefault(prefix + "SERVICES", "{" + upstreams + "}")
        return env

    def start(self) -> None:
        for service in SERVICES:
            self.spawn(service.name)

    def spawn(self, name: str) -> None:
        """Starts (or starts again) one process."""
        service = spec(name)
        # Only from the main thread: the kernel's signal follows the thread that forked.
        tied = sys.platform == "linux" and threading.current_thread() is threading.main_thread()
        self.processes[name] = subprocess.Popen(  # noqa: S603 - our own command
            uvicorn_command(service, self.host, self.ports[name]),
            env=self.environment(service),
            preexec_fn=_dies_with(os.getpid()) if tied else None,
        )

    def healthy(self, client: httpx.Client, name: str) -> bool:
        try:
            return client.get(self.url(name) + "/health").status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Polls every process's `/health` until each answers 200; names the ones still
        starting every `LATE_REPORT_EVERY` seconds, and at the deadline."""
        start = time.monotonic()
        report_at = start + LATE_REPORT_EVERY
        pending = list(self.processes)
        with httpx.Client(timeout=2.0) as client:
            while True:
                for name in list(pending):
                    process = self.processes[name]
                    if process.poll() is not None:
                        raise RuntimeError(f"{name} exited with status {process.returncode}")
                    if self.healthy(client, name):
                        pending.remove(name)
                if not pending:
                    return
                waited = time.monotonic() - start
                if waited > timeout:
                    late = ", ".join(pending)
                    raise TimeoutError(f"no answer within {timeout:g} s from {late}")
                if time.monotonic() >= report_at:
                    say(f"still starting after {waited:.0f} s: {', '.join(pending)}")
                    report_at += LATE_REPORT_EVERY
                time.sleep(0.2)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM to every process, then SIGKILL to any still there after `timeout`."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self.processes.values():
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def run_forever(self) -> int:
        """Runs until Ctrl-C, SIGTERM or SIGHUP, restarting any process that dies once all
        have started; always stops every process. A process that dies while they start is an
        error (a port taken, a bad setting): everything stops and it returns 1."""
        handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        previous = {signum: signal.signal(signum, _stop_signal) for signum in handled}
        try:
            self.start()
            self.wait_ready()
            print(f"telemed is up: gateway on {self.url(GATEWAY.name)} (Ctrl-C stops it)")
            Supervisor(self, say=say).run()
        except KeyboardInterrupt:
            return 0
        except (RuntimeError, TimeoutError) as exc:
            say(f"could not start: {exc}")
            return 1
        finally:
            for signum in handled:  # a second Ctrl-C must not cut the stopping short
                signal.signal(signum, signal.SIG_IGN)
            self.stop()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
