"""This process's slot among the files processes sharing a `var/`: the holder its leases name.

A slot is a file under `var/files/instances/` that a process holds an exclusive `flock` on for
as long as it lives. The kernel drops the lock when the process ends, however it ends (kill -9
included), so a process that takes a slot knows that whoever held it before is gone, and that
any upload lease naming the slot is a dead process's (`resumable.release_dead_holders`). A
restarted process takes the slot its predecessor left: the first one no living process holds.

Each slot file keeps a random key, which is what leases record: processes of other machines or
other volumes never share a key, they only ever see their own slots. (`flock` over NFS is
emulated with byte-range locks; keep `var/` on a local disk or an emptyDir, as deploy/k8s does.)
"""

import fcntl
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from services.common.owner_only import FILE_MODE, private_folder


@dataclass
class InstanceSlot:
    key: str
    path: Path
    descriptor: int

    def release(self) -> None:
        """Gives the slot up (closing the file drops the lock)."""
        os.close(self.descriptor)


def take_slot(folder: Path) -> InstanceSlot:
    """The first slot under `folder` that no living process holds; blocking, so run it in a
    worker thread."""
    private_folder(folder)
    number = 0
    while True:
        path = folder / f"{number}.slot"
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            number += 1
            continue
        return InstanceSlot(_key(descriptor), path, descriptor)


def _key(descriptor: int) -> str:
    """The slot's key, made on its first use (a file left empty by a crash gets a new one: the
    leases under its old key then merely wait out their expiry)."""
    kept = os.pread(descriptor, 64, 0).decode("ascii", "replace").strip()
    try:
        return uuid.UUID(kept).hex
    except ValueError:
        key = uuid.uuid4().hex
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, key.encode("ascii"), 0)
        os.fsync(descriptor)
        return key
