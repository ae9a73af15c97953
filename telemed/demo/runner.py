"""Runs the demo's steps in order, printing each with what it did, and keeps the report."""

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from telemed.demo.api import Actor, Api, StepFailed
from telemed.demo.visits import Clock, Visits
from telemed.demo.webhooks import Webhooks

Credentials = dict[str, Any]  # the JSON `telemed seed --demo --json` prints
CredentialSource = Callable[[], Awaitable[tuple[Credentials, str]]]  # and where they came from


@dataclass
class StepReport:
    number: int
    title: str
    ok: bool = False
    seconds: float = 0.0
    lines: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass
class Context:
    """What the steps learn and hand on to the next ones."""

    credentials: Credentials = field(default_factory=dict)
    actors: dict[str, Actor] = field(default_factory=dict)
    case: dict[str, Any] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)
    episode_id: str = ""
    first_visit: dict[str, Any] = field(default_factory=dict)
    follow_ups: list[dict[str, Any]] = field(default_factory=list)
    webhooks: Webhooks | None = None
    visits: Visits | None = None
    # The local mail catcher's folder (`telemed run --mail-catcher`), when the system runs on
    # this machine; None for a system elsewhere.
    mail_folder: Path | None = None

    def user(self, username: str) -> dict[str, Any]:
        for account in self.credentials.get("users", []):
            if account["username"] == username:
                return dict(account)
        raise StepFailed(f"the credentials have no user {username!r}")

    def actor(self, username: str) -> Actor:
        return self.actors[username]


@dataclass
class Story:
    api: Api
    credential_source: CredentialSource
    out: TextIO
    clock: Clock = field(default_factory=Clock)
    context: Context = field(default_factory=Context)
    reports: list[StepReport] = field(default_factory=list)

    def say(self, line: str, **facts: Any) -> None:
        """One line of what the current step did; `facts` go into the JSON report."""
        report = self.reports[-1]
        report.lines.append(line)
        report.facts.update(facts)
        self._print(f"     {line}")

    def _print(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    async def run(self, steps: Sequence[tuple[str, "Step"]]) -> bool:
        """Each step in turn until one fails; the webhook subscription is removed either way."""
        started = time.monotonic()
        self._print(f"telemed demo against {self.api.client.base_url}")
        try:
            for number, (title, step) in enumerate(steps, start=1):
                report = StepReport(number, title)
                self.reports.append(report)
                self._print(f"{number:>2}. {title}")
                began = time.monotonic()
                try:
                    await step(self)
                except Exception as failure:  # any failure ends the story, told in one line
                    report.error = (
                        str(failure) if isinstance(failure, StepFailed)
                        else f"unexpected {type(failure).__name__}: {failure}"
                    )  # fmt: skip
                    self._print(f"     FAILED: {report.error}")
                    return False
                finally:
                    report.seconds = round(time.monotonic() - began, 3)
                report.ok = True
        finally:
            await self._clean_up()
        self._print(f"The story is complete: {len(steps)} steps in "
                    f"{time.monotonic() - started:.1f} s.")  # fmt: skip
        return True

    async def _clean_up(self) -> None:
        if self.context.webhooks is None:
            return
        try:
            await self.context.webhooks.close()
        except StepFailed as failure:
            self._print(f"     (clean-up: {failure})")

    def json_report(self, steps: int) -> dict[str, Any]:
        done = [report for report in self.reports if report.ok]
        return {
            "url": str(self.api.client.base_url),
            "ok": len(done) == steps,
            "steps": [asdict(report) for report in self.reports],
        }


Step = Callable[[Story], Awaitable[None]]
