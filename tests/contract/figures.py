"""The contract suite's figures per role (requests, 5xx, seconds, statuses), summed from every
test's report and printed at the end of the run.

A plugin of the root conftest (`pytest_plugins`), not of tests/contract/conftest.py: under
xdist the controller, which prints the summary, loads only the root conftest."""

from dataclasses import dataclass, field
from typing import Any, cast

import pytest


@dataclass
class RoleFigures:
    requests: int = 0
    server_errors: int = 0
    seconds: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: set[str] = field(default_factory=set)  # distinct: operation, status, check


# What one operation's test sent as one role, kept in its report's `user_properties` so that
# the figures reach the summary from an xdist worker too (plain values: they travel as JSON).
TALLY = "schemathesis"


def new_tally(role: str) -> dict[str, Any]:
    return {"role": role, "requests": 0, "server_errors": 0, "statuses": {}, "failures": []}


def count(tally: dict[str, Any], status: int) -> None:
    tally["requests"] += 1
    tally["server_errors"] += status >= 500
    tally["statuses"][str(status)] = tally["statuses"].get(str(status), 0) + 1


FIGURES: dict[str, RoleFigures] = {}  # per role, from the reports of this process


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call":
        return
    for name, value in report.user_properties:
        if name != TALLY:
            continue
        tally = cast(dict[str, Any], value)
        figures = FIGURES.setdefault(tally["role"], RoleFigures())
        figures.requests += tally["requests"]
        figures.server_errors += tally["server_errors"]
        figures.seconds += report.duration
        for status, times in tally["statuses"].items():
            figures.statuses[int(status)] = figures.statuses.get(int(status), 0) + times
        figures.failures.update(tally["failures"])


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    terminalreporter.section("schemathesis per role")
    terminalreporter.write_line(f"{'role':<16}{'requests':>10}{'5xx':>6}{'seconds':>10}  statuses")
    for role, figures in FIGURES.items():
        statuses = " ".join(f"{code}:{n}" for code, n in sorted(figures.statuses.items()))
        terminalreporter.write_line(
            f"{role:<16}{figures.requests:>10}{figures.server_errors:>6}"
            f"{figures.seconds:>10.1f}  {statuses}"
        )
    for role, figures in FIGURES.items():
        for failure in sorted(figures.failures):
            terminalreporter.write_line(f"{role}: {failure}")
