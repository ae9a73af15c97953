"""The security suites' stack, built once per module: the matrix probes over a thousand cells
and the bad inputs need the same world, not a fresh stack per test."""

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.conftest import Stack, reset_database, running_stack
from tests.security.wire import FIGURES, MIB
from tests.security.world import STACK_OVERRIDES


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def security_stack(
    database_urls: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Stack]:
    """The stack with `world.STACK_OVERRIDES`, or the test module's own `STACK_OVERRIDES`."""
    overrides = getattr(request.module, "STACK_OVERRIDES", STACK_OVERRIDES)
    var_dir = tmp_path_factory.mktemp("security")
    try:
        async with running_stack(database_urls, var_dir, overrides) as stack:
            yield stack
    finally:
        for url in database_urls.values():
            await reset_database(url)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    counts = {
        outcome: sum("test_matrix.py::test_cell[" in report.nodeid for report in reports)
        for outcome, reports in terminalreporter.stats.items()
        if outcome in ("passed", "failed")
    }
    if any(counts.values()):
        terminalreporter.section("authorisation matrix")
        terminalreporter.write_line(
            f"{sum(counts.values())} cells checked: {counts.get('passed', 0)} as documented, "
            f"{counts.get('failed', 0)} not"
        )
    if FIGURES:
        terminalreporter.section("bad input: the big refusals")
        for name, (answer, growth) in FIGURES.items():
            terminalreporter.write_line(
                f"{name}: {answer.status or answer.error} after {answer.seconds:.2f} s and "
                f"{answer.sent / MIB:.1f} MiB sent; serving process +{growth:.0f} MiB at most"
            )
