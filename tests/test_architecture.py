"""The code's shape, checked on every test run: the import contracts, one folder per service and
per domain with the same core files, and service calls that run one way."""

import ast
import shutil
import subprocess
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ROOT / "services"
CONSULT = SERVICES / "consult"
# Every service's root; consult's root composes its domains and keeps nothing else. Consult, at
# the top of the call order, has no client.py: no service calls it.
SERVICE_ROOT = {"__init__.py", "app.py", "settings.py", "tables.py", "migrations"}
CONSULT_ROOT = SERVICE_ROOT | {"deps.py", "ports.py", "db.py", "values.py", "scopes.py"}
# A domain that keeps state has the full set; events.py where it records outbox events.
DOMAIN_CORE = {"__init__.py", "api.py", "service.py", "models.py", "schemas.py", "enums.py"}
STATEFUL_DOMAINS = ("cases", "appeals", "monitoring", "knowledge", "home_visits", "chats")
# The one order service calls may follow: each calls only those after it.
CALL_ORDER = ("consult", "scheduling", "video", "files", "gateway")


def _modules(folder: Path) -> set[str]:
    return {path.name for path in folder.iterdir() if path.name != "__pycache__"}


def test_import_contracts_hold() -> None:
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint_imports, "import-linter is part of the [dev] extra"
    result = subprocess.run(
        [lint_imports], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize("service", ["consult", "files", "scheduling", "video"])
def test_every_service_has_the_root_files(service: str) -> None:
    expected = SERVICE_ROOT if service == "consult" else SERVICE_ROOT | {"client.py"}
    present = _modules(SERVICES / service)
    assert present >= expected, f"{service} lacks {sorted(expected - present)}"


def test_consults_root_only_composes_its_domains() -> None:
    packages = {path.name for path in CONSULT.iterdir() if (path / "__init__.py").exists()}
    assert packages == {
        "cases",
        "appeals",
        "monitoring",
        "stats",
        "fhir",
        "knowledge",
        "home_visits",
        "chats",
    }
    loose = _modules(CONSULT) - packages - CONSULT_ROOT
    assert not loose, f"consult's root holds {sorted(loose)}: put them in their domain"


@pytest.mark.parametrize("domain", STATEFUL_DOMAINS)
def test_every_stateful_domain_has_the_core_files(domain: str) -> None:
    folder = CONSULT / domain
    present = _modules(folder)
    assert DOMAIN_CORE | {"access.py"} <= present, sorted(DOMAIN_CORE - present)
    records_events = any("OUTBOX" in path.read_text() for path in folder.glob("*.py"))
    assert records_events == ("events.py" in present)


def test_the_read_model_and_the_views_have_their_entry_points() -> None:
    assert {"api.py", "service.py", "models.py", "schemas.py"} <= _modules(CONSULT / "stats")
    assert "api.py" in _modules(CONSULT / "fhir")


@pytest.mark.parametrize(
    ("folder", "prefixes"),
    [
        (CONSULT, ("appeal_", "appeals_", "consilium_", "monitoring_", "stats_", "callbacks_")),
        (ROOT / "gateway", ("webhook_",)),
        (ROOT / "telemed", ("demo_",)),
    ],
)
def test_no_prefix_stands_in_for_a_folder(folder: Path, prefixes: tuple[str, ...]) -> None:
    prefixed = [name for name in _modules(folder) if name.startswith(prefixes)]
    assert not prefixed, f"{folder.name} holds {prefixed}: make them a package"


def _clients_called(folder: Path) -> set[str]:
    """The services whose `client.py` modules under `folder` import (their calls' targets)."""
    called = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                parts = node.module.split(".")
                if parts[-1] == "client" and len(parts) >= 2:
                    called.add(parts[-2])
    return called


def _call_graph() -> dict[str, set[str]]:
    folders = {name: SERVICES / name for name in CALL_ORDER[:-1]} | {"gateway": ROOT / "gateway"}
    return {name: _clients_called(folder) - {name, "common"} for name, folder in folders.items()}


def test_service_calls_form_no_cycle() -> None:
    graph = _call_graph()
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as error:  # pragma: no cover - the message is the point
        pytest.fail(f"service calls run in a cycle: {error.args[1]}")


def test_service_calls_run_down_the_documented_order() -> None:
    for caller, callees in _call_graph().items():
        below = set(CALL_ORDER[CALL_ORDER.index(caller) + 1 :])
        assert callees <= below, f"{caller} calls {sorted(callees - below)}, which are above it"
