"""Databases, keys and everything under `var/` are readable by the service's own user only."""

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from services.common.db import Database
from services.common.keys import load_or_create_private_key, load_or_create_secret
from tests.conftest import TEST_DB, Stack


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """022, as on most machines, whatever the test runner's: modes must not depend on it."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def loose_permissions(root: Path) -> dict[str, str]:
    """Every file under `root` not 0600 and every folder not 0700, with its mode."""
    found = {}
    for path in [root, *root.rglob("*")]:
        wanted = 0o700 if path.is_dir() else 0o600
        if mode(path) != wanted:
            found[str(path.relative_to(root))] = oct(mode(path))
    return found


async def test_a_sqlite_database_and_its_journal_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "var" / "nested" / "service.sqlite3"
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        async with database.engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x INTEGER)"))
            await connection.execute(text("INSERT INTO t VALUES (1)"))
        wal = path.with_name(path.name + "-wal")
        assert wal.exists()  # the connection is still open, so its journal is there
        assert mode(path) == mode(wal) == 0o600
        assert mode(path.parent) == mode(path.parent.parent) == 0o700
    finally:
        await database.dispose()


async def test_a_database_an_older_version_made_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "gateway.sqlite3"
    path.touch(mode=0o644)
    os.chmod(path, 0o644)
    Database(f"sqlite+aiosqlite:///{path}")
    assert mode(path) == 0o600


def test_keys_are_created_owner_only(tmp_path: Path) -> None:
    secret = tmp_path / "var" / "files" / "link_key"
    private = tmp_path / "var" / "gateway" / "jwt_signing_key.pem"
    load_or_create_secret(secret)
    load_or_create_private_key(private)
    assert loose_permissions(tmp_path / "var") == {}


async def test_nothing_under_var_is_readable_by_others(stack: Stack, tmp_path: Path) -> None:
    """The stack's `var/` (keys, the files service's store) once it has run a while; and its
    SQLite databases."""
    assert stack.admin is not None
    await stack.organization()
    assert {"gateway", "files"} <= set(os.listdir(tmp_path))
    assert loose_permissions(tmp_path) == {}
    if TEST_DB == "sqlite":
        for app in stack.apps.values():
            database: Database = app.state.database
            assert mode(Path(database.url.split(":///", 1)[1])) == 0o600
