"""Service boundaries, checked on every test run: services meet only through `client.py`."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold() -> None:
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint_imports, "import-linter is part of the [dev] extra"
    result = subprocess.run(
        [lint_imports], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_every_service_has_the_same_layout() -> None:
    expected = {"app.py", "api.py", "models.py", "schemas.py", "service.py", "settings.py",
                "client.py", "migrations"}  # fmt: skip
    for service in (ROOT / "services").iterdir():
        if service.is_dir() and service.name not in {"common", "__pycache__"}:
            present = {path.name for path in service.iterdir()}
            assert expected <= present, f"{service.name} lacks {sorted(expected - present)}"
