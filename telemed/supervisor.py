"""Keeps `telemed run`'s processes running: one that dies is restarted with back-off while the
others carry on, and said to be back once it answers `/health` again."""

import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NoReturn, Protocol

import httpx


class Polled(Protocol):
    def poll(self) -> int | None: ...


class Processes(Protocol):
    """What the supervisor needs of the launcher."""

    @property
    def processes(self) -> Mapping[str, Polled]: ...

    def spawn(self, name: str) -> None: ...
    def healthy(self, client: httpx.Client, name: str) -> bool: ...


@dataclass(frozen=True)
class Backoff:
    """The wait before a restart: `first`, doubled after each death up to `longest`, and back
    to `first` once the process has answered and stayed up `stable_after` seconds. One that
    cannot start (a bad setting, a port taken) so costs a line every `longest` seconds."""

    first: float = 0.5
    longest: float = 30.0
    stable_after: float = 60.0


@dataclass
class Watch:
    """One process under supervision."""

    started: float  # when its current process was started
    delay: float  # how long its next restart will wait
    died: float | None = None  # when it died, until its replacement answers `/health`
    restart_at: float | None = None  # when its replacement starts, while it waits
    restarts: int = 0


def describe(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with status {returncode}"


class Supervisor:
    def __init__(
        self,
        launcher: Processes,
        backoff: Backoff = Backoff(),
        say: Callable[[str], None] = print,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.launcher, self.backoff, self.say, self.clock = launcher, backoff, say, clock
        now = clock()
        self.watches = {name: Watch(now, backoff.first) for name in launcher.processes}

    def run(self, poll: float = 0.2) -> NoReturn:
        """Watches until interrupted (Ctrl-C, or the launcher's signal handlers)."""
        with httpx.Client(timeout=1.0) as client:
            while True:
                self.step(client)
                time.sleep(poll)

    def step(self, client: httpx.Client) -> None:
        """One round over every process: note deaths, start replacements that are due, and
        tell when a replacement answers."""
        for name, watch in self.watches.items():
            now = self.clock()
            if watch.restart_at is not None:
                if now >= watch.restart_at:
                    self.launcher.spawn(name)
                    watch.started, watch.restart_at = now, None
                continue
            returncode = self.launcher.processes[name].poll()
            if returncode is not None:
                self._died(name, watch, returncode, now)
            elif watch.died is not None:
                if self.launcher.healthy(client, name):
                    back = self.clock() - watch.died
                    self.say(f"{name} answers again, {back:.1f} s after it died")
                    watch.died = None
            elif now - watch.started >= self.backoff.stable_after:
                watch.delay = self.backoff.first

    def _died(self, name: str, watch: Watch, returncode: int, now: float) -> None:
        if watch.died is None:  # a replacement that dies too still counts from the first death
            watch.died = now
        watch.restart_at = now + watch.delay
        watch.restarts += 1
        self.say(f"{name} {describe(returncode)}; restarting it in {watch.delay:g} s")
        watch.delay = min(watch.delay * 2, self.backoff.longest)
