"""Shared parts of the benchmarks: a scratch stack, its users, a lean HTTP/1.1 client and load.

The stack is the real thing: `telemed.launcher.Launcher` starts the gateway and every service as
uvicorn processes on free loopback ports, with a scratch `var/` and migrated databases (SQLite
files there, or fresh PostgreSQL databases on 127.0.0.1:5432 that are dropped afterwards).

The load generator is deliberately lean so that it is not what limits the figures on a small
machine: it runs in its own process, speaks HTTP/1.1 keep-alive over raw asyncio streams with one
precomputed request, holds one connection per concurrent client and parses only the status line,
`Content-Length` and chunked framing.
"""

import asyncio
import contextlib
import ipaddress
import multiprocessing
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import timeit
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from services.common.migrations import upgrade
from telemed.launcher import Launcher
from telemed.registry import GATEWAY, SERVICES
from telemed.samples import sample_case

PG_SERVER = "postgres@127.0.0.1:5432"
PASSWORD = "bench-password-not-secret"
MAX_BODY = 16 * 1024 * 1024
MAX_SAMPLES = 2_000_000  # latencies kept per load run; far above what one run produces
MAX_ERRORS_PER_CLIENT = 200
GRACE_SECONDS = 15.0  # how long in-flight requests may finish after a run's window closes


# --- small utilities ---------------------------------------------------------------------------


def require_loopback(host: str) -> None:
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"benchmarks only talk to loopback addresses, not {host}")


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """Ports nobody listens on; all probes stay bound until every port is chosen."""
    probes = []
    try:
        for _ in range(count):
            probe = socket.socket()
            probe.bind((host, 0))
            probes.append(probe)
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between closest ranks."""
    if not sorted_values:
        return float("nan")
    position = (len(sorted_values) - 1) * q / 100
    lower = int(position)
    upper = min(lower + 1, len(sorted_values) - 1)
    fraction = position - lower
    return sorted_values[lower] * (1 - fraction) + sorted_values[upper] * fraction


@dataclass(frozen=True)
class Summary:
    """Latency figures in milliseconds."""

    count: int
    p50: float
    p95: float
    p99: float
    mean: float
    max: float


def summarize(latencies_seconds: Sequence[float]) -> Summary:
    ordered = sorted(latencies_seconds)
    if not ordered:
        nan = float("nan")
        return Summary(0, nan, nan, nan, nan, nan)
    return Summary(
        count=len(ordered),
        p50=percentile(ordered, 50) * 1000,
        p95=percentile(ordered, 95) * 1000,
        p99=percentile(ordered, 99) * 1000,
        mean=sum(ordered) / len(ordered) * 1000,
        max=ordered[-1] * 1000,
    )


def process_memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak) of a process, in KiB, from `/proc/<pid>/status`."""
    figures = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in {"VmRSS", "VmHWM"}:
            figures[name] = int(value.split()[0])
    return figures


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (0 once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    # After the command name: state is field 3, so utime (14) and stime (15) are [11] and [12].
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pids_named(name: str) -> list[int]:
    """Every process whose command is `name` (the PostgreSQL server's backends, say)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
    return found


def pg_backends(databases: frozenset[str]) -> list[int]:
    """The PostgreSQL server's backends connected to any of `databases` (named in their
    process titles): the CPU a run's own queries cost, whatever else uses the same server."""
    found = []
    for pid in pids_named("postgres"):
        with contextlib.suppress(OSError):
            title = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split()
            # "postgres: [cluster:] user database host activity"
            if title[:1] == ["postgres:"] and not databases.isdisjoint(title[1:5]):
                found.append(pid)
    return found


def process_tree(pid: int) -> list[int]:
    """A process and all its descendants (nginx's master and its workers, say)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                parents.setdefault(parent, []).append(int(entry.name))
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending += parents.get(current, [])
    return found


Watched = Mapping[str, int | Callable[[], list[int]]]


def _cpu_sample(watch: Watched) -> dict[str, dict[int, float]]:
    sample = {}
    for name, target in watch.items():
        pids = target() if callable(target) else [target]
        sample[name] = {pid: process_cpu_seconds(pid) for pid in pids}
    return sample


def _cpu_used(
    before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]
) -> dict[str, float]:
    """CPU seconds per name between two samples; a process that started in between counts in
    full, one that ended in between is lost (so groups such as PostgreSQL's are a lower bound)."""
    return {
        name: sum(cpu - before[name].get(pid, 0.0) for pid, cpu in after[name].items())
        for name in before
    }


def _proc_stat_cpu() -> list[int]:
    return [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]


def machine_cpu_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine so far; time stolen by the hypervisor is not
    counted as busy (it is capacity this machine did not get)."""
    values = _proc_stat_cpu()
    total = sum(values[:8])  # guest time is already counted in user
    idle = values[3] + values[4] + values[7]  # idle + iowait + steal
    return float(total - idle), float(total)


def machine_report(seconds: float = 1.0) -> tuple[str, float]:
    """A line on the machine's state before a benchmark, and how busy it was (0..1).

    Shared virtual machines vary: besides what else runs here, the hypervisor may take CPU
    (steal) and a core may simply be slower at times, so the line includes a tiny pure-Python
    timing that makes figures of different runs comparable.
    """
    before = _proc_stat_cpu()
    time.sleep(seconds)
    after = _proc_stat_cpu()
    delta = [a - b for a, b in zip(after[:8], before[:8], strict=True)]
    total = sum(delta) or 1
    steal = delta[7] / total
    busy = (total - delta[3] - delta[4] - delta[7]) / total
    speed = min(timeit.repeat("sum(range(1000))", repeat=5, number=2000)) / 2000 * 1e6
    text = (
        f"machine: {os.cpu_count()} cores, {busy * 100:.0f}% busy and {steal * 100:.0f}% stolen "
        f"by the hypervisor just before the start; sum(range(1000)) takes {speed:.1f} us"
    )
    if busy > 0.25:
        text += " (other work is running: figures will suffer)"
    return text, busy


def load_average() -> str:
    """The kernel's 1-, 5- and 15-minute load averages: how many processes wanted a core."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} ({os.cpu_count()} cores)"


# --- the stack ---------------------------------------------------------------------------------


async def _pg_admin(statement: str) -> None:
    connection = await asyncpg.connect(f"postgresql://{PG_SERVER}/postgres", timeout=10)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def create_pg_database(name: str) -> str:
    """A fresh, empty database; returns its SQLAlchemy URL."""
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    return f"postgresql+asyncpg://{PG_SERVER}/{name}"


def drop_pg_database(name: str) -> None:
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://", 1)


@contextlib.contextmanager
def _children_output_to(path: Path) -> Iterator[None]:
    """Child processes started inside inherit a log file as stdout/stderr, not the terminal.

    Their per-request JSON access logs stay on (that is what an operator runs), but land in a
    file so the benchmark's own figures stay readable.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with path.open("ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


@dataclass
class Stack:
    """The running processes, their databases and where their logs go."""

    launcher: Launcher
    var_dir: Path
    database: str
    database_urls: dict[str, str]
    log_path: Path

    def url(self, name: str) -> str:
        return self.launcher.url(name)

    def port(self, name: str) -> int:
        return int(self.launcher.ports[name])

    def pid(self, name: str) -> int:
        return self.launcher.processes[name].pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@contextlib.contextmanager
def scratch_databases(database: str, var_dir: Path) -> Iterator[dict[str, str]]:
    """Each service's database URL, empty and not yet migrated: a SQLite file in `var_dir`
    (where the services look by default), or a fresh PostgreSQL database on 127.0.0.1:5432,
    dropped afterwards."""
    if database not in ("sqlite", "postgresql"):
        raise ValueError(f"unknown database {database!r}")
    run = uuid.uuid4().hex[:8]
    pg_names: list[str] = []
    try:
        urls: dict[str, str] = {}
        for service in SERVICES:
            if database == "postgresql":
                name = f"telemed_bench_{service.name}_{run}"
                pg_names.append(name)
                urls[service.name] = create_pg_database(name)
            else:
                urls[service.name] = f"sqlite+aiosqlite:///{var_dir / service.name}.sqlite3"
        yield urls
    finally:
        for name in pg_names:
            drop_pg_database(name)


@contextlib.contextmanager
def scratch_stack(
    database: str = "sqlite",
    *,
    log_level: str = "INFO",
    host: str = "127.0.0.1",
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[Stack]:
    """Migrated scratch databases and the real processes on free ports (`extra_env` set for
    them); always torn down."""
    require_loopback(host)
    with tempfile.TemporaryDirectory(prefix="telemed-bench-") as scratch:
        var_dir = Path(scratch) / "var"
        var_dir.mkdir()
        with scratch_databases(database, var_dir) as urls:
            for service in SERVICES:
                upgrade(service.migrations_dir, urls[service.name])
            env = dict(extra_env or {})
            for service in SERVICES:
                env[service.env_prefix + "DATABASE_URL"] = urls[service.name]
                env[service.env_prefix + "LOG_LEVEL"] = log_level
            ports = dict(
                zip([s.name for s in SERVICES], free_ports(len(SERVICES), host), strict=True)
            )
            launcher = Launcher(var_dir=var_dir, ports=ports, host=host, extra_env=env)
            stack = Stack(launcher, var_dir, database, urls, Path(scratch) / "processes.log")
            try:
                with _children_output_to(stack.log_path):
                    launcher.start()
                try:
                    launcher.wait_ready(timeout=60)
                except (RuntimeError, TimeoutError):
                    print(f"the stack did not start; its log ends with:\n{stack.log_tail()}")
                    raise
                yield stack
            finally:
                launcher.stop()


# --- users and cases through the real API ------------------------------------------------------


def bootstrap_admin(stack: Stack, username: str = "bench.admin") -> None:
    """The first administrator, written straight into the gateway's database like the CLI does."""
    from gateway.schemas import UserCreate
    from gateway.settings import GatewaySettings
    from telemed.demo.seed import create_users

    settings = GatewaySettings(
        database_url=stack.database_urls[GATEWAY.name], var_dir=stack.var_dir, json_logs=False
    )
    body = UserCreate(username=username, password=PASSWORD, full_name="Bench Admin", role="admin")
    asyncio.run(create_users(settings, [body]))


@dataclass
class Actor:
    id: str
    username: str
    role: str
    organization_id: str | None
    specialty: str | None
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Directory:
    """Creates organisations and users through the gateway's API, as an administrator would."""

    def __init__(self, stack: Stack) -> None:
        self.client = httpx.Client(base_url=stack.url(GATEWAY.name), timeout=30.0)
        bootstrap_admin(stack)
        self.admin_headers = {"Authorization": f"Bearer {self.login('bench.admin')}"}

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> "Directory":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @staticmethod
    def _ok(response: httpx.Response, status: int) -> dict[str, Any]:
        if response.status_code != status:
            raise RuntimeError(
                f"{response.request.method} {response.request.url.path} answered "
                f"{response.status_code}: {response.text[:500]}"
            )
        body: dict[str, Any] = response.json()
        return body

    def login(self, username: str) -> str:
        response = self.client.post(
            "/api/auth/token",
            data={"grant_type": "password", "username": username, "password": PASSWORD},
        )
        return str(self._ok(response, 200)["access_token"])

    def organization(
        self, name: str, kind: str, region: str = "42", timezone: str = "Asia/Novokuznetsk"
    ) -> dict[str, Any]:
        body = {"name": name, "kind": kind, "region": region, "timezone": timezone}
        response = self.client.post(
            "/api/directory/organizations", json=body, headers=self.admin_headers
        )
        return self._ok(response, 201)

    def actor(
        self, username: str, role: str, organization: dict[str, Any], specialty: str | None = None
    ) -> Actor:
        body = {
            "username": username,
            "password": PASSWORD,
            "full_name": f"Bench {role} {username}",
            "role": role,
            "organization_id": organization["id"],
            "specialty": specialty,
        }
        response = self.client.post("/api/directory/users", json=body, headers=self.admin_headers)
        user = self._ok(response, 201)
        return Actor(
            user["id"], username, role, organization["id"], specialty, self.login(username)
        )

    def submit_case(self, medic: Actor, centre: dict[str, Any], specialty: str) -> dict[str, Any]:
        """A submitted consultation, opened by `medic` and addressed to `centre`."""
        response = self.client.post(
            "/api/consult/cases",
            json=sample_case(centre["id"], specialty=specialty, submit=True),
            headers=medic.headers,
        )
        return self._ok(response, 201)


# --- a lean HTTP/1.1 client --------------------------------------------------------------------


def get_request(host: str, port: int, path: str, headers: Mapping[str, str]) -> bytes:
    """A complete keep-alive GET, encoded once and sent as is for every request."""
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Accept: application/json"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, then the blank line
                pass
            return bytes(body)
        if len(body) + size > MAX_BODY:
            raise ValueError("response body too large")
        body += await reader.readexactly(size)
        await reader.readexactly(2)


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, keep-alive) of one response, framed by Content-Length or chunks."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_end = head.index(b"\r\n")
    status = int(head[9:12])
    length, chunked, keep_alive = -1, False, True
    for line in head[status_end + 2 : -4].split(b"\r\n"):
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            keep_alive = value.strip().lower() != b"close"
    if chunked:
        return status, await _read_chunked(reader), keep_alive
    if length >= 0:
        if length > MAX_BODY:
            raise ValueError("response body too large")
        return status, await reader.readexactly(length), keep_alive
    return status, await reader.read(MAX_BODY), False  # framed by closing the connection


# Under the servers' keep-alive timeout (telemed/launcher.py: 5 s): a connection left idle longer
# may be closed by the server just as the next request is written, and fail it.
IDLE_SECONDS = 4.0


class HttpConnection:
    """One keep-alive connection for sequential requests (reconnects when the server closes,
    and after an idle spell the server may have ended it)."""

    def __init__(self, host: str, port: int, timeout: float = 30.0) -> None:
        require_loopback(host)
        self.host, self.port, self.timeout = host, port, timeout
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self._used = 0.0

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        if self._streams is not None and time.monotonic() - self._used > IDLE_SECONDS:
            await self.close()
        try:
            async with asyncio.timeout(self.timeout):
                if self._streams is None:
                    self._streams = await asyncio.open_connection(self.host, self.port)
                reader, writer = self._streams
                writer.write(raw)
                status, body, keep_alive = await read_response(reader)
        except (OSError, TimeoutError, asyncio.IncompleteReadError):
            await self.close()  # the next request starts on a new connection
            raise
        self._used = time.monotonic()
        if not keep_alive:
            await self.close()
        return status, body

    async def close(self) -> None:
        if self._streams is not None:
            writer = self._streams[1]
            self._streams = None
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


# --- the load generator ------------------------------------------------------------------------


@dataclass
class LoadResult:
    """What one load run saw in its measured window, merged over the generator's processes."""

    seconds: float
    concurrency: int
    ok: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    unfinished: int = 0
    latencies: list[float] = field(default_factory=list)
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    machine_busy: float = float("nan")

    @property
    def rate(self) -> float:
        return self.ok / self.seconds

    @property
    def non_ok(self) -> int:
        return sum(self.statuses.values())

    def merge(self, part: dict[str, Any]) -> None:
        self.ok += part["ok"]
        self.statuses.update(part["statuses"])
        self.errors += part["errors"]
        self.error_samples += part["error_samples"][: max(0, 5 - len(self.error_samples))]
        self.unfinished += part["unfinished"]
        self.latencies += part["latencies"][: MAX_SAMPLES - len(self.latencies)]


class _Tally:
    def __init__(self) -> None:
        self.ok = 0
        self.statuses: Counter[int] = Counter()
        self.errors = 0
        self.error_samples: list[str] = []
        self.latencies: list[float] = []

    def error(self, error: BaseException) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(f"{type(error).__name__}: {error}")


async def _open(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    async with asyncio.timeout(10):
        return await asyncio.open_connection(host, port)


async def _client_loop(
    streams: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    host: str,
    port: int,
    request: bytes,
    window: tuple[float, float],
    tally: _Tally,
) -> None:
    """Sends the request back to back until the window closes; only the window is counted."""
    measure_from, end = window
    clock = time.monotonic
    reader, writer = streams
    errors = 0
    try:
        while True:
            started = clock()
            if started >= end:
                return
            try:
                writer.write(request)
                status, _, keep_alive = await read_response(reader)
            except (
                OSError,
                asyncio.IncompleteReadError,
                asyncio.LimitOverrunError,
                ValueError,
            ) as exc:
                done = clock()
                if measure_from <= done <= end:
                    tally.error(exc)
                errors += 1
                if errors > MAX_ERRORS_PER_CLIENT:
                    return
                writer.close()
                await asyncio.sleep(0.05)
                try:
                    reader, writer = await _open(host, port)
                except (OSError, TimeoutError) as reconnect_error:
                    tally.error(reconnect_error)
                    return
                continue
            done = clock()
            if measure_from <= done <= end:
                if status == 200:
                    tally.ok += 1
                    if len(tally.latencies) < MAX_SAMPLES:
                        tally.latencies.append(done - started)
                else:
                    tally.statuses[status] += 1
            if not keep_alive:
                writer.close()
                reader, writer = await _open(host, port)
    finally:
        writer.close()


async def _generate(
    control: Connection, host: str, port: int, request: bytes, clients: int, warmup: float,
    seconds: float,
) -> dict[str, Any]:  # fmt: skip
    connections = await asyncio.gather(*(_open(host, port) for _ in range(clients)))
    control.send("ready")
    if not control.poll(60):
        raise TimeoutError("no start signal from the parent")
    go: float = control.recv()
    await asyncio.sleep(max(0.0, go - time.monotonic()))
    tally = _Tally()
    window = (go + warmup, go + warmup + seconds)
    tasks = [
        asyncio.create_task(_client_loop(streams, host, port, request, window, tally))
        for streams in connections
    ]
    _, pending = await asyncio.wait(tasks, timeout=window[1] - time.monotonic() + GRACE_SECONDS)
    for task in pending:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "ok": tally.ok,
        "statuses": dict(tally.statuses),
        "errors": tally.errors,
        "error_samples": tally.error_samples,
        "unfinished": len(pending),
        "latencies": tally.latencies,
    }


def _load_process(
    control: Connection, host: str, port: int, request: bytes, clients: int, warmup: float,
    seconds: float,
) -> None:  # fmt: skip
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    try:
        control.send(runner(_generate(control, host, port, request, clients, warmup, seconds)))
    except BaseException as exc:
        control.send({"failed": f"{type(exc).__name__}: {exc}"})
        raise


def run_load(
    host: str,
    port: int,
    request: bytes,
    *,
    concurrency: int,
    seconds: float,
    warmup: float,
    processes: int = 1,
    watch: Watched | None = None,
) -> LoadResult:
    """`concurrency` keep-alive clients send `request` for `warmup` + `seconds`; the last
    `seconds` are measured. `watch` names server processes whose CPU use is sampled over the
    measured window."""
    require_loopback(host)
    if not 1 <= concurrency <= 4096 or not 0 < seconds <= 600 or not 0 <= warmup <= 60:
        raise ValueError("concurrency 1..4096, seconds 0..600 and warm-up 0..60 please")
    processes = max(1, min(processes, concurrency))
    # fork: the child needs nothing re-imported, and this process runs no threads when it forks.
    context = multiprocessing.get_context("fork")
    workers = []
    shares = [concurrency // processes + (i < concurrency % processes) for i in range(processes)]
    try:
        for share in shares:
            parent_end, child_end = context.Pipe()
            worker = context.Process(
                target=_load_process,
                args=(child_end, host, port, request, share, warmup, seconds),
                daemon=True,
            )
            worker.start()
            workers.append((worker, parent_end))
        for _, control in workers:
            if not control.poll(30):
                raise TimeoutError("a load process did not connect in time")
            message = control.recv()
            if message != "ready":
                raise RuntimeError(f"load process failed: {message}")
        go = time.monotonic() + 0.2
        for _, control in workers:
            control.send(go)
        result = LoadResult(seconds=seconds, concurrency=concurrency)
        generator_pids = [worker.pid or 0 for worker, _ in workers]
        watched: dict[str, int | Callable[[], list[int]]] = dict(watch or {})
        watched["load generator"] = lambda: generator_pids
        time.sleep(max(0.0, go + warmup - time.monotonic()))
        cpu_before = _cpu_sample(watched)
        machine_before = machine_cpu_busy()
        time.sleep(max(0.0, go + warmup + seconds - time.monotonic()))
        cpu_after = _cpu_sample(watched)
        machine_after = machine_cpu_busy()
        result.cpu_seconds = _cpu_used(cpu_before, cpu_after)
        busy = machine_after[0] - machine_before[0]
        total = machine_after[1] - machine_before[1]
        result.machine_busy = busy / total if total else float("nan")
        for _, control in workers:
            if not control.poll(GRACE_SECONDS + 10):
                raise TimeoutError("a load process did not report")
            part = control.recv()
            if "failed" in part:
                raise RuntimeError(f"load process failed: {part['failed']}")
            result.merge(part)
        return result
    finally:
        for worker, control in workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.terminate()
                worker.join()
            control.close()


# --- processes beside the stack: an ASGI app under the services' server, nginx in front ----------


def _wait_until(ready: Callable[[], bool], process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start (exit status {process.poll()})")
        time.sleep(0.1)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def _stopped_at_exit(process: subprocess.Popen[bytes]) -> Iterator[None]:
    try:
        yield
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def asgi_process(
    factory: str, env: Mapping[str, str], log_path: Path, host: str = "127.0.0.1"
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """The app `factory` makes (`module:function`), in one uvicorn process run exactly as the
    launcher runs a service (telemed/launcher.py: its loop, protocol and limits), on a free
    port; yields (port, process) once `/health` answers 200, and stops it at the end."""
    from telemed.launcher import server_arguments
    from telemed.registry import ROOT

    require_loopback(host)
    port = free_ports(1, host)[0]
    command = [
        sys.executable, "-m", "uvicorn", factory, "--factory", "--host", host,
        "--port", str(port), "--no-access-log", "--timeout-graceful-shutdown", "5",
        "--loop", "auto", *server_arguments(),
    ]  # fmt: skip
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, env={**os.environ, **env}, cwd=ROOT, stdout=log, stderr=log
        )
    with _stopped_at_exit(process):
        _wait_until(lambda: _answers(f"http://{host}:{port}/health"), process, factory)
        yield port, process


NGINX = Path("/usr/sbin/nginx")
NGINX_CONFIG = """
worker_processes 1;
daemon off;
pid {scratch}/nginx.pid;
error_log {scratch}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {scratch}/client_body;
    proxy_temp_path {scratch}/proxy;
    fastcgi_temp_path {scratch}/fastcgi;
    uwsgi_temp_path {scratch}/uwsgi;
    scgi_temp_path {scratch}/scgi;
    # Clients keep their connection as long as they like, as with uvicorn (nginx's default
    # closes one after 1,000 requests, which would count reconnections against nginx).
    keepalive_requests 1000000;
    upstream upstream {{
        server {upstream};
        keepalive 512;  # idle connections kept, as many as the gateway's pool holds
        keepalive_requests 1000000;
        keepalive_timeout 4s;  # under the services' own 5 s, as the gateway's pool is
    }}
    server {{
        listen {listen};
        location / {{
            proxy_pass http://upstream;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"""


@contextlib.contextmanager
def nginx_proxy(
    upstream: str, scratch: Path, host: str = "127.0.0.1"
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """Debian's nginx as a plain keep-alive reverse proxy to `upstream` (`host:port`): one
    worker, no access log, everything it writes in `scratch`; yields (port, master process)
    once it accepts connections, and stops it at the end."""
    require_loopback(host)
    if not NGINX.is_file():
        raise RuntimeError(f"{NGINX} is missing: apt-get install nginx (Debian's package)")
    scratch.mkdir(parents=True, exist_ok=True)
    port = free_ports(1, host)[0]
    config = scratch / "nginx.conf"
    config.write_text(
        NGINX_CONFIG.format(scratch=scratch, upstream=upstream, listen=f"{host}:{port}")
    )
    with (scratch / "output.log").open("ab") as log:
        process = subprocess.Popen(
            [str(NGINX), "-p", str(scratch), "-c", str(config), "-e", str(scratch / "error.log")],
            stdout=log,
            stderr=log,
        )

    def accepting() -> bool:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            return False

    with _stopped_at_exit(process):
        _wait_until(accepting, process, "nginx")
        yield port, process


# --- an S3-compatible server, the stack's environment, peak memory -----------------------------


@dataclass
class S3Server:
    """An S3-compatible server in its own process; `endpoint` is `host:port` (no scheme)."""

    endpoint: str
    process: subprocess.Popen[bytes]
    access_key: str = "bench-access-key"
    secret_key: str = "bench-secret-key-not-secret"  # moto checks no signature

    log_path: Path | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path else 0

    def requests_since(self, offset: int) -> Counter[str]:
        """The requests the server logged after byte `offset` of its log, by method and status
        (`PUT part` for multipart parts): what a client's upload cost the store."""
        counts: Counter[str] = Counter()
        if self.log_path is None:
            return counts
        with self.log_path.open("rb") as log:
            log.seek(offset)
            text = log.read().decode("utf-8", "replace")
        for match in _ACCESS_LINE.finditer(_ANSI.sub("", text)):
            method, target, status = match.groups()
            if method == "PUT" and "partNumber=" in target:
                method = "PUT part"
            counts[f"{method} {status}"] += 1
        return counts


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_ACCESS_LINE = re.compile(r'"([A-Z]+) (\S+) HTTP/[0-9.]+" (\d{3}) ')


@contextlib.contextmanager
def s3_server(host: str = "127.0.0.1", log_path: Path | None = None) -> Iterator[S3Server]:
    """moto in server mode on a free loopback port, stopped at the end; its access log goes
    to `log_path` when given (see `S3Server.requests_since`).

    The MinIO server binary cannot be installed here; moto speaks the same S3 API (multipart
    uploads included) over real HTTP, so the `minio` SDK talks to it as it would to MinIO.
    Like MinIO it is a separate process, whose CPU use the benchmarks can watch.
    """
    require_loopback(host)
    port = free_ports(1, host)[0]
    with contextlib.ExitStack() as exits:
        output: Any = subprocess.DEVNULL
        if log_path is not None:
            output = exits.enter_context(log_path.open("ab"))
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)],
            stdout=output,
            stderr=output,
        )
        exits.enter_context(_stopped_at_exit(process))
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection((host, port), timeout=0.5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the S3-compatible server did not start") from None
                time.sleep(0.05)
        yield S3Server(f"{host}:{port}", process, log_path=log_path)


@contextlib.contextmanager
def environment(variables: Mapping[str, str]) -> Iterator[None]:
    """Sets environment variables for what starts inside (the stack's processes inherit them:
    `TELEMED_FILES_STORAGE=s3`, say), and restores the previous values afterwards."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def reset_peak_memory(pid: int) -> bool:
    """Resets a process's VmHWM to its current RSS (Linux `clear_refs` 5), so the next
    `process_memory_kib` shows the peak since now; False where the kernel does not allow it."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True
