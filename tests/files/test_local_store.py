"""The local object store keeps patient files where only the service's own user can read them."""

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.files.storage import LocalStore


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def modes(root: Path) -> dict[str, int]:
    return {
        str(path.relative_to(root)): stat.S_IMODE(path.stat().st_mode)
        for path in [root, *root.rglob("*")]
    }


def loose_permissions(root: Path) -> dict[str, str]:
    """Every file under `root` not 0600 and every folder not 0700, with its mode."""
    return {
        name: oct(mode)
        for name, mode in modes(root).items()
        if mode != (0o700 if (root / name).is_dir() else 0o600)
    }


async def test_objects_and_their_folders_are_owner_only(tmp_path: Path) -> None:
    root = tmp_path / "var" / "files" / "objects"
    store = LocalStore(root, part_size=4)
    try:
        await store.prepare()
        await store.put("files/" + "a" * 32, b"whole", "application/pdf")
        upload = await store.start_multipart("files/" + "b" * 32, "application/pdf")
        part = await store.put_part("files/" + "b" * 32, upload, 1, b"part")
        assert loose_permissions(tmp_path) == {}  # the staged upload too
        await store.complete_multipart("files/" + "b" * 32, upload, [part])
    finally:
        store.close()
    assert loose_permissions(tmp_path) == {}
    assert sorted(name for name in modes(root) if name.startswith("objects/files/")) == [
        "objects/files/" + "a" * 32,
        "objects/files/" + "b" * 32,
    ]


async def test_folders_an_older_version_made_are_tightened(tmp_path: Path) -> None:
    root = tmp_path / "objects"
    (root / "objects").mkdir(parents=True, mode=0o755)
    os.chmod(root, 0o755)
    store = LocalStore(root, part_size=4)
    try:
        await store.prepare()
    finally:
        store.close()
    assert {name: oct(mode) for name, mode in modes(root).items()} == {
        ".": "0o700",
        "objects": "0o700",
        "staging": "0o700",
    }
