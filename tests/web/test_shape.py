"""The console's shape, as the conventions ask of a process: its root files, no client.py
(nobody calls it), and pages that import no service (the import contract, in
tests/test_architecture.py, covers every module; this names the rule)."""

import ast
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "web"


def test_the_console_has_a_processs_root_files_and_no_client() -> None:
    present = {path.name for path in WEB.iterdir()}
    assert {"app.py", "settings.py", "deps.py", "tables.py", "migrations"} <= present
    assert {"auth.py", "account.py", "home.py", "templates", "static", "translations"} <= present
    assert "client.py" not in present


def test_no_module_of_the_console_imports_a_service_or_the_gateway() -> None:
    allowed = ("web", "services.common")
    for path in WEB.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                ours = name.split(".")[0] in {"web", "services", "gateway", "telemed"}
                assert not ours or name.startswith(allowed), f"{path.name} imports {name}"
