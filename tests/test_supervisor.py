"""The supervisor's restart policy on fake processes and a fake clock: back-off, reset, report."""

import httpx

from telemed.supervisor import Backoff, Supervisor


class FakeProcess:
    def __init__(self) -> None:
        self.returncode: int | None = None

    def poll(self) -> int | None:
        return self.returncode


class FakeLauncher:
    def __init__(self, *names: str) -> None:
        self.processes = {name: FakeProcess() for name in names}
        self.spawned: list[str] = []
        self.answering: set[str] = set()

    def spawn(self, name: str) -> None:
        self.processes[name] = FakeProcess()
        self.spawned.append(name)

    def healthy(self, client: httpx.Client, name: str) -> bool:
        return name in self.answering


class World:
    def __init__(self) -> None:
        self.now = 1000.0
        self.said: list[str] = []
        self.launcher = FakeLauncher("gateway", "consult", "video")
        self.supervisor = Supervisor(
            self.launcher, Backoff(), say=self.said.append, clock=lambda: self.now
        )
        self.client = httpx.Client()

    def kill(self, name: str) -> None:
        self.launcher.processes[name].returncode = -9

    def run_for(self, seconds: float, step: float = 0.1) -> None:
        end = self.now + seconds
        while self.now < end:
            self.supervisor.step(self.client)
            self.now += step

    def restart_delay_after_death(self, name: str) -> float:
        """Kills `name` and measures how long its restart waits."""
        self.kill(name)
        died, before = self.now, len(self.launcher.spawned)
        while len(self.launcher.spawned) == before:
            self.supervisor.step(self.client)
            self.now += 0.05
        return round(self.now - 0.05 - died, 1)


def test_a_dead_process_is_restarted_with_doubling_back_off_and_the_others_are_left() -> None:
    world = World()
    delays = [world.restart_delay_after_death("consult") for _ in range(8)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert set(world.launcher.spawned) == {"consult"}
    assert world.said[0] == "consult was killed by SIGKILL; restarting it in 0.5 s"


def test_the_back_off_starts_over_once_a_process_has_answered_for_a_minute() -> None:
    world = World()
    assert [world.restart_delay_after_death("video") for _ in range(3)] == [0.5, 1.0, 2.0]
    world.run_for(90)  # up, but never answering
    assert world.restart_delay_after_death("video") == 4.0
    world.launcher.answering.add("video")
    world.run_for(59)
    assert world.restart_delay_after_death("video") == 8.0
    world.run_for(61)
    assert world.restart_delay_after_death("video") == 0.5


def test_a_restarted_process_is_reported_back_once_it_answers() -> None:
    world = World()
    world.kill("consult")
    world.run_for(3)
    assert world.launcher.spawned == ["consult"]
    assert not any("answers again" in line for line in world.said)
    world.launcher.answering.add("consult")
    world.run_for(0.2)
    assert world.said[-1] == "consult answers again, 3.0 s after it died"
