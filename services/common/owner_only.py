"""Files and folders only the service's own user may read: keys, SQLite databases, stored objects.

Modes are given when a file or folder is created, not left to the process's umask (0644 files
and 0755 folders under the usual 022): what they hold is patient data and secrets. Files made
by an older version are tightened when the service opens them again.
"""

import contextlib
import os
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path) -> Path:
    """Creates `path` and any missing parent as 0700; an existing folder is left as it is (it
    may be shared, such as a volume's mount point), so tighten a folder of our own with
    `tighten`."""
    missing: list[Path] = []
    folder = path
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            folder.mkdir(mode=FOLDER_MODE)
    return path


def private_file(path: Path) -> Path:
    """Creates an empty 0600 file at `path` (and 0700 folders to it) unless one is there; an
    existing one is tightened to 0600."""
    private_folder(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        tighten(path)
    return path


def write_private_file(path: Path, data: bytes) -> None:
    """Writes a new file at `path` that only its owner may read; fails if one exists."""
    private_folder(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)


def tighten(path: Path) -> None:
    """Takes group and other permissions away from a file or folder, if it has any and we may
    (not on a read-only mount, nor on someone else's file)."""
    with contextlib.suppress(OSError):
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            os.chmod(path, mode & 0o700)
