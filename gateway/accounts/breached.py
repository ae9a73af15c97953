"""Breached passwords from an operator's offline "Have I Been Pwned" file: SHA-1 hashes in hex,
one a line, each optionally followed by `:count` (the count is not used).

A file up to `SMALL_FILE_BYTES` is read into a set of digests (about 90 bytes each), so it may
be in any order. A larger one (the full list is some 40 GB) is never loaded: it must be sorted
by hash, as downloaded, and each lookup is a binary search over byte offsets, about 35 reads of
a few hundred bytes (`os.pread`, so lookups in parallel threads share one descriptor).
"""

import hashlib
import os
from pathlib import Path

SMALL_FILE_BYTES = 4 * 1024 * 1024
HASH_LENGTH = 40
CHUNK = 256
SORTED_SAMPLE_LINES = 1000


class BreachedHashes:
    """Answers whether a password's SHA-1 is in the file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._digests: frozenset[bytes] | None = None
        self._fd: int | None = None
        size = path.stat().st_size
        if size <= SMALL_FILE_BYTES:
            with path.open("rb") as lines:
                self._digests = frozenset(
                    bytes.fromhex(line[:HASH_LENGTH].decode())
                    for line in lines
                    if len(line.strip()) >= HASH_LENGTH
                )
            return
        self._fd = os.open(path, os.O_RDONLY)
        self._size = size
        first = self._line_from(0)[1]
        # Compared in the file's own case: the ordering of upper- and lower-case hex differs.
        self._lower = first[:HASH_LENGTH] != first[:HASH_LENGTH].upper()
        self._check_sorted()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def includes(self, password: str) -> bool:
        digest = hashlib.sha1(password.encode(), usedforsecurity=False)
        if self._digests is not None:
            return digest.digest() in self._digests
        target = digest.hexdigest().encode()
        return self._search(target if self._lower else target.upper())

    def _check_sorted(self) -> None:
        """A file out of order would make lookups miss quietly: its start is checked instead."""
        previous, position = b"", 0
        for _ in range(SORTED_SAMPLE_LINES):
            start, line = self._line_from(position)
            if start >= self._size:
                return
            key = line[:HASH_LENGTH]
            if key < previous:
                raise ValueError(f"{self.path} is larger than a few MB but not sorted by hash")
            previous, position = key, start + len(line) + 1

    def _read(self, position: int) -> bytes:
        assert self._fd is not None
        return os.pread(self._fd, CHUNK, position)

    def _line_from(self, position: int) -> tuple[int, bytes]:
        """The first whole line starting at or after `position`: (its offset, its text)."""
        start = position
        if position > 0:
            start = -1
            cursor = position - 1
            while start < 0:
                chunk = self._read(cursor)
                if not chunk:
                    return self._size, b""
                newline = chunk.find(b"\n")
                if newline >= 0:
                    start = cursor + newline + 1
                cursor += len(chunk)
        line, cursor = b"", start
        while True:
            chunk = self._read(cursor)
            newline = chunk.find(b"\n")
            if newline >= 0 or not chunk:
                line += chunk if newline < 0 else chunk[:newline]
                return start, line.rstrip(b"\r")
            line, cursor = line + chunk, cursor + len(chunk)

    def _search(self, target: bytes) -> bool:
        """Keeps the target line's offset, if it is there, in [low, high)."""
        low, high = 0, self._size
        while low < high:
            middle = (low + high) // 2
            start, line = self._line_from(middle)
            if start >= high:
                high = middle
                continue
            key = line[:HASH_LENGTH]
            if key == target:
                return True
            if key < target:
                low = start + len(line) + 1
            else:
                high = middle
        return False
