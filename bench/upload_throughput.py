"""Upload throughput: 1 GiB through the gateway and the files service into S3, against the SDK.

Starts an S3-compatible server (moto in server mode, its own process) and the real processes
with `telemed.launcher.Launcher` on free loopback ports (a scratch `var/`; SQLite by default),
the files service storing into that server (`TELEMED_FILES_STORAGE=s3`). A district medic is
created through the API. The same bytes are then uploaded three ways, one after the other:

- direct: the `minio` SDK's `put_object` straight to the S3 server (parts of the files
  service's part size, the SDK's default 3 upload threads): the baseline;
- simple: one streamed `POST /api/files/files` through the gateway;
- tus: `POST /api/files/uploads`, then `PATCH`es of `--chunk` bytes (default 8 MiB) through the
  gateway, the last one answering with the file's `Link`.

The bytes are an MP4 header (`ftyp` `isom`, then one `mdat` box) followed by a 64 MiB
pseudo-random block repeated with its index stamped into each repetition, produced piece by piece
as they are sent, so the client holds one block, not the file. Before the measured uploads a
small one of each kind runs unmeasured, so one-time allocations of the processes do not count.

Printed per upload: seconds, MB/s and the ratio to the direct upload (target >= 0.60); the peak
RSS growth of the gateway and files processes during the upload (VmHWM reset before it, minus
VmRSS at its start; target < 64 MB each, whatever the size); the CPU each process used, the
requests the S3 server answered, the tus PATCH latency; and whether the stored file's sha256
(`GET /api/files/files/{id}`) equals the source's. `--backend local` runs the same against the
local store, with a plain file write (an fsync per part, as the store does) as the direct line;
its ratio is shown without a target. MB = 2^20 bytes throughout.

    .venv/bin/python bench/upload_throughput.py [--size 1GiB] [--backend s3|local] [--chunk 8MiB]
"""

import argparse
import base64
import contextlib
import hashlib
import os
import random
import re
import struct
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from minio import Minio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import support
from bench.support import Directory, S3Server, Stack

MIB = 1024 * 1024
BLOCK = 64 * MIB  # the pseudo-random block the content repeats
PIECE = 1 * MIB  # what the client hands its HTTP library at a time
PART_SIZE = 8 * MIB  # the files service's default `part_size`
RATIO_TARGET = 0.60
RSS_GROWTH_TARGET_MB = 64.0
BUCKET = "telemed-bench"
TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_TYPE = "application/offset+octet-stream"
FILE_LINK = re.compile(r"</api/files/files/([0-9a-f-]{36})>;\s*rel=\"related\"")
MEMORY = ("gateway", "files")


def parse_size(text: str) -> int:
    """`1GiB`, `512MiB`, `64KiB` or a number of bytes."""
    match = re.fullmatch(r"\s*(\d+)\s*(B|KiB|MiB|GiB)?\s*", text, re.IGNORECASE)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (say 1GiB, 512MiB or bytes)")
    units = {"": 1, "b": 1, "kib": 1024, "mib": MIB, "gib": 1024 * MIB}
    return int(match[1]) * units[(match[2] or "").lower()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--size", type=parse_size, default=1024 * MIB, help="bytes per upload (default 1GiB)"
    )
    parser.add_argument("--backend", choices=["s3", "local"], default="s3")
    parser.add_argument(
        "--chunk", type=parse_size, default=8 * MIB, help="bytes per tus PATCH (default 8MiB)"
    )
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--direct-threads",
        type=int,
        default=3,
        help="upload threads of the direct put_object (default 3, the SDK's default)",
    )
    parser.add_argument(
        "--warmup-size",
        type=parse_size,
        default=24 * MIB,
        help="size of the unmeasured first upload of each kind (default 24MiB; 0 skips them)",
    )
    parser.add_argument("--seed", type=int, default=20260, help="seed of the content")
    parser.add_argument(
        "--log-level", default="INFO", help="the services' log level (default INFO, to a file)"
    )
    args = parser.parse_args(argv)
    if not MIB <= args.size <= 2048 * MIB:
        parser.error("--size must be between 1MiB and 2GiB (the service's default limit)")
    if not 64 * 1024 <= args.chunk <= 512 * MIB:
        parser.error("--chunk must be between 64KiB and 512MiB")
    if not 1 <= args.direct_threads <= 16:
        parser.error("--direct-threads must be 1..16")
    if args.warmup_size and not MIB <= args.warmup_size <= args.size:
        parser.error("--warmup-size must be 0 or between 1MiB and --size")
    return args


# --- the content --------------------------------------------------------------------------------


def mp4_header(size: int) -> bytes:
    """`ftyp` (major brand `isom`), then an `mdat` box with a 64-bit size covering the rest."""
    ftyp = b"isom" + struct.pack(">I", 512) + b"isomiso2avc1mp41"
    ftyp_box = struct.pack(">I", 8 + len(ftyp)) + b"ftyp" + ftyp
    return ftyp_box + struct.pack(">I", 1) + b"mdat" + struct.pack(">Q", size - len(ftyp_box))


class Payload:
    """`size` deterministic bytes, any range produced on demand from one pseudo-random block.

    Repetition `k` of the block starts with `k` stamped in (the first with the MP4 header), so
    no two 64 MiB stretches of the file are equal.
    """

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.block = random.Random(seed).randbytes(min(BLOCK, size))
        self.header = mp4_header(size)

    def _prefix(self, index: int) -> bytes:
        return self.header if index == 0 else b"block-" + index.to_bytes(10, "big")

    def range(self, start: int, stop: int) -> bytes:
        stop = min(stop, self.size)
        pieces = []
        position = start
        while position < stop:
            index, offset = divmod(position, BLOCK)
            end = min(stop - index * BLOCK, BLOCK)
            prefix = self._prefix(index)
            if offset < len(prefix):
                pieces.append(prefix[offset : min(end, len(prefix))])
                offset = len(prefix)
            if offset < end:
                pieces.append(self.block[offset:end])
            position = index * BLOCK + end
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def pieces(self, start: int, stop: int, piece: int = PIECE) -> Iterator[bytes]:
        for position in range(start, stop, piece):
            yield self.range(position, min(position + piece, stop))

    def sha256(self) -> str:
        digest = hashlib.sha256()
        for piece in self.pieces(0, self.size, 8 * MIB):
            digest.update(piece)
        return digest.hexdigest()


class PayloadReader:
    """A file-like view for the SDK's `put_object`. The SDK queues every part it reads for its
    upload threads without a bound, so each read waits for a permit, which an uploaded part
    gives back: at most threads + 1 parts are held, and the threads never wait for data."""

    def __init__(self, payload: Payload, permits: threading.Semaphore) -> None:
        self.payload, self.permits, self.position = payload, permits, 0

    def read(self, size: int = -1) -> bytes:
        if not self.permits.acquire(timeout=300):
            raise TimeoutError("no part of the direct upload finished in 300 s")
        stop = self.payload.size if size < 0 else self.position + size
        data = self.payload.range(self.position, stop)
        self.position += len(data)
        return data


# --- the uploads -------------------------------------------------------------------------------


class UploadFailed(Exception):
    def __init__(self, message: str, request_id: str | None = None) -> None:
        super().__init__(message)
        self.request_id = request_id


def expect(response: httpx.Response, status: int) -> httpx.Response:
    if response.status_code != status:
        headers = {
            name: value
            for name, value in response.headers.items()
            if name.lower() in {"upload-offset", "location", "link", "retry-after", "x-request-id"}
        }
        raise UploadFailed(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code} (expected {status}); headers {headers}; "
            f"body {response.text[:600]!r}",
            response.headers.get("x-request-id"),
        )
    return response


@dataclass
class Uploaded:
    file_id: str  # for the direct upload: the object's key, or the file's path
    # tus: the latency of each PATCH; direct to S3: that of completing the multipart upload
    request_seconds: list[float] = field(default_factory=list)


def simple_upload(
    client: httpx.Client, headers: dict[str, str], payload: Payload, name: str
) -> Uploaded:
    response = client.post(
        "/api/files/files",
        params={"kind": "recording", "name": name},
        content=payload.pieces(0, payload.size),
        headers={
            **headers,
            "Content-Type": "application/octet-stream",
            "Content-Length": str(payload.size),
        },
    )
    return Uploaded(str(expect(response, 201).json()["id"]))


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def tus_upload(
    client: httpx.Client, headers: dict[str, str], payload: Payload, name: str, *, chunk: int
) -> Uploaded:
    created = client.post(
        "/api/files/uploads",
        headers={
            **headers,
            **TUS,
            "Upload-Length": str(payload.size),
            "Upload-Metadata": f"filename {_b64(name)},kind {_b64('recording')}",
        },
    )
    location = expect(created, 201).headers["Location"]
    offset, timings = 0, []
    response = created
    while offset < payload.size:
        stop = min(offset + chunk, payload.size)
        started = time.perf_counter()
        response = client.patch(
            location,
            content=payload.pieces(offset, stop),
            headers={
                **headers,
                **TUS,
                "Content-Type": OFFSET_TYPE,
                "Upload-Offset": str(offset),
                "Content-Length": str(stop - offset),
            },
        )
        timings.append(time.perf_counter() - started)
        expect(response, 204)
        answered = int(response.headers.get("Upload-Offset", "-1"))
        if answered != stop:
            raise UploadFailed(
                f"PATCH {location} at offset {offset} with {stop - offset} bytes answered "
                f"Upload-Offset {answered}, expected {stop}"
            )
        offset = stop
    link = FILE_LINK.search(response.headers.get("Link", ""))
    if link is None:
        raise UploadFailed(
            f"the last PATCH of {location} carried no file link: Link = "
            f"{response.headers.get('Link')!r}"
        )
    return Uploaded(link[1], request_seconds=timings)


def direct_s3(server: S3Server, payload: Payload, threads: int) -> Uploaded:
    """The SDK's own multipart upload of the same bytes into the same bucket."""
    client = Minio(
        endpoint=server.endpoint,
        access_key=server.access_key,
        secret_key=server.secret_key,
        secure=False,
        region="us-east-1",
    )
    permits = threading.Semaphore(threads + 1)
    upload_part = client._upload_part

    def upload_part_then_release(*args: Any, **kwargs: Any) -> str:
        try:
            return upload_part(*args, **kwargs)
        finally:
            permits.release()

    complete = client._complete_multipart_upload
    completion: list[float] = []

    def timed_complete(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return complete(*args, **kwargs)
        finally:
            completion.append(time.perf_counter() - started)

    # Only to bound the SDK's read-ahead (see PayloadReader) and to time the S3 server's
    # assembly of the parts; the upload itself is untouched.
    client._upload_part = upload_part_then_release  # type: ignore[method-assign]
    client._complete_multipart_upload = timed_complete  # type: ignore[method-assign]
    key = f"bench/direct-{uuid.uuid4().hex}"
    client.put_object(
        bucket_name=BUCKET,
        object_name=key,
        data=PayloadReader(payload, permits),  # type: ignore[arg-type]
        length=payload.size,
        content_type="video/mp4",
        part_size=PART_SIZE,
        num_parallel_uploads=threads,
    )
    stored = client.stat_object(bucket_name=BUCKET, object_name=key).size
    if stored != payload.size:
        raise UploadFailed(
            f"the S3 server kept {stored} bytes of the direct upload's {payload.size}"
        )
    return Uploaded(key, request_seconds=completion)


def direct_local(path: Path, payload: Payload) -> Uploaded:
    """The same bytes into a file on the store's file system, with an fsync per part."""
    with path.open("wb") as handle:
        for start in range(0, payload.size, PART_SIZE):
            for piece in payload.pieces(start, min(start + PART_SIZE, payload.size)):
                handle.write(piece)
            handle.flush()
            os.fsync(handle.fileno())
    return Uploaded(str(path))


# --- measuring ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    label: str
    seconds: float = float("nan")
    uploaded: Uploaded | None = None
    error: str | None = None
    request_id: str | None = None
    rss_before: dict[str, float] = field(default_factory=dict)  # MB
    peak: dict[str, float] = field(default_factory=dict)
    rss_after: dict[str, float] = field(default_factory=dict)
    peak_since_reset: bool = True
    cpu: dict[str, float] = field(default_factory=dict)
    machine_busy: float = float("nan")
    verified: str = ""
    s3_requests: Counter[str] = field(default_factory=Counter)
    verified_ok: bool = False

    def rate(self, size: int) -> float:
        return size / MIB / self.seconds if self.uploaded else float("nan")

    def growth(self, name: str) -> float:
        return self.peak[name] - self.rss_before[name]


def measure(
    label: str, watch: dict[str, int], action: Callable[[], Uploaded], s3: S3Server | None
) -> Outcome:
    outcome = Outcome(label)
    s3_log_start = s3.log_size() if s3 else 0
    for name in MEMORY:
        outcome.peak_since_reset &= support.reset_peak_memory(watch[name])
        outcome.rss_before[name] = support.process_memory_kib(watch[name])["VmRSS"] / 1024
    cpu_before = {name: support.process_cpu_seconds(pid) for name, pid in watch.items()}
    machine_before = support.machine_cpu_busy()
    started = time.perf_counter()
    try:
        outcome.uploaded = action()
    except Exception as exc:  # reported with the figures; the other uploads still run
        outcome.error = f"{type(exc).__name__}: {exc}"
        outcome.request_id = getattr(exc, "request_id", None)
    outcome.seconds = time.perf_counter() - started
    machine_after = support.machine_cpu_busy()
    outcome.cpu = {
        name: support.process_cpu_seconds(pid) - cpu_before[name] for name, pid in watch.items()
    }
    total = machine_after[1] - machine_before[1]
    outcome.machine_busy = (machine_after[0] - machine_before[0]) / total if total else 0.0
    for name in MEMORY:
        memory = support.process_memory_kib(watch[name])
        outcome.peak[name] = memory["VmHWM"] / 1024
        outcome.rss_after[name] = memory["VmRSS"] / 1024
    if s3 is not None:
        time.sleep(0.2)  # the server logs a request after answering it
        outcome.s3_requests = s3.requests_since(s3_log_start)
    return outcome


def verify(client: httpx.Client, headers: dict[str, str], outcome: Outcome, source: str) -> None:
    """The stored file's metadata, as the API reports it, against the source."""
    assert outcome.uploaded is not None
    path = f"/api/files/files/{outcome.uploaded.file_id}"
    try:
        record = expect(client.get(path, headers=headers), 200).json()
    except (UploadFailed, httpx.HTTPError) as exc:
        outcome.verified = f"GET {path} failed: {exc}"
        return
    outcome.verified_ok = record["sha256"] == source
    outcome.verified = (
        f"GET {path} -> {record['media_type']}, {record['size']:,} bytes, sha256 "
        f"{record['sha256'][:16]}… {'equals' if outcome.verified_ok else 'DIFFERS FROM'} the "
        f"source's {source[:16]}…"
    )


def relevant_log(stack: Stack, request_ids: list[str], lines: int = 60) -> str:
    """Log lines of the failed requests, warnings, errors and anything not an access line."""
    kept = []
    for line in stack.log_tail(100_000).splitlines():
        quiet = line.startswith("{") and '"level": "INFO"' in line
        if not quiet or any(request_id in line for request_id in request_ids):
            kept.append(line)
    return "\n".join(kept[-lines:])


def met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def memory_line(outcome: Outcome) -> str:
    parts = []
    for name in MEMORY:
        growth = outcome.growth(name)
        parts.append(
            f"{name} {outcome.rss_before[name]:.1f} -> peak {outcome.peak[name]:.1f} "
            f"({growth:+.1f}, {met(growth < RSS_GROWTH_TARGET_MB)}) "
            f"-> {outcome.rss_after[name]:.1f}"
        )
    note = "" if outcome.peak_since_reset else " (VmHWM could not be reset: peak since start)"
    return "; ".join(parts) + note


def cpu_line(outcome: Outcome) -> str:
    used = ", ".join(f"{name} {seconds:.1f}" for name, seconds in outcome.cpu.items())
    cores = os.cpu_count() or 1
    return f"{used}; machine {outcome.machine_busy * 100:.0f}% busy of {cores} cores"


# --- the run -----------------------------------------------------------------------------------


def uploader(stack: Stack) -> tuple[Directory, str]:
    directory = Directory(stack)
    hospital = directory.organization("Bench District Hospital", "district_hospital")
    medic = directory.actor("bench.medic", "district_medic", hospital)
    return directory, medic.username


def run(args: argparse.Namespace, stack: Stack, server: S3Server | None) -> bool:
    directory, username = uploader(stack)
    watch = {"client": os.getpid(), "gateway": stack.pid("gateway"), "files": stack.pid("files")}
    if server is not None:
        watch["s3 server"] = server.pid
    client = httpx.Client(base_url=stack.url("gateway"), timeout=httpx.Timeout(600.0, connect=10.0))
    verdicts = []
    failed: list[str | None] = []  # request ids of failed uploads, for the log
    try:

        def headers() -> dict[str, str]:
            """A fresh token (they live 15 minutes), taken before a measurement starts: a login
            verifies the password with a memory-hard hash that shows in the gateway's RSS."""
            return {"Authorization": f"Bearer {directory.login(username)}"}

        start = {name: support.process_memory_kib(watch[name])["VmRSS"] / 1024 for name in MEMORY}
        print(
            "processes at start: "
            + ", ".join(f"{name} RSS {value:.1f} MB" for name, value in start.items())
        )
        if args.warmup_size:
            small = Payload(args.warmup_size, args.seed + 1)
            small_sha = small.sha256()
            uploads: dict[str, Callable[..., Uploaded]] = {
                "simple": simple_upload,
                "tus": partial(tus_upload, chunk=args.chunk),
            }
            for label, upload in uploads.items():
                action = partial(upload, client, headers(), small, "warm-up.mp4")
                warm = measure(f"warm-up {label}", watch, action, server)
                if warm.uploaded is None:  # the measured uploads still run, to show more
                    verdicts.append(False)
                    failed.append(warm.request_id)
                    print(f"warm-up, {label} upload FAILED: {warm.error}")
                    continue
                verify(client, headers(), warm, small_sha)
                verdicts.append(warm.verified_ok)
                print(
                    f"warm-up, {label} {args.warmup_size / MIB:g} MiB (unmeasured): "
                    f"{warm.rate(args.warmup_size):.1f} MB/s; {memory_line(warm)}; "
                    f"sha256 {'equal' if warm.verified_ok else 'NOT equal: ' + warm.verified}"
                )

        started = time.perf_counter()
        payload = Payload(args.size, args.seed)
        source = payload.sha256()
        elapsed = time.perf_counter() - started
        print(
            f"source: {args.size / MIB:g} MiB, sha256 {source}, generated and hashed in "
            f"{elapsed:.1f} s ({args.size / MIB / elapsed:.0f} MB/s in this process)"
        )

        outcomes = []
        if server is not None:
            direct_label = (
                f"direct: minio put_object, {PART_SIZE // MIB} MiB parts, "
                f"{args.direct_threads} threads"
            )
            direct = measure(
                direct_label,
                watch,
                lambda: direct_s3(server, payload, args.direct_threads),
                server,
            )
        else:
            target = stack.var_dir / "bench-direct.bin"
            direct_label = f"direct: file write, fsync per {PART_SIZE // MIB} MiB"
            direct = measure(direct_label, watch, lambda: direct_local(target, payload), None)
            target.unlink(missing_ok=True)
        outcomes.append(direct)
        name = f"bench-{args.size // MIB}MiB.mp4"
        action = partial(simple_upload, client, headers(), payload, name)
        outcomes.append(measure("simple: POST /api/files/files", watch, action, server))
        patches = -(-args.size // args.chunk)
        action = partial(tus_upload, client, headers(), payload, name, chunk=args.chunk)
        label = f"tus: POST + {patches} PATCHes of {args.chunk / MIB:g} MiB"
        outcomes.append(measure(label, watch, action, server))
        for outcome in outcomes[1:]:
            if outcome.uploaded is not None:
                verify(client, headers(), outcome, source)

        print()
        width = max(len(outcome.label) for outcome in outcomes)
        print(f"  {'upload':<{width}} {'seconds':>8} {'MB/s':>8} {'of direct':>10}")
        for outcome in outcomes:
            if outcome.uploaded is None:
                print(f"  {outcome.label:<{width}} FAILED after {outcome.seconds:.1f} s")
                continue
            line = (
                f"  {outcome.label:<{width}} {outcome.seconds:>8.1f} "
                f"{outcome.rate(args.size):>8.1f}"
            )
            if outcome is not direct and direct.uploaded is not None:
                ratio = outcome.rate(args.size) / direct.rate(args.size)
                line += f" {ratio:>10.2f}"
                if server is not None:
                    verdicts.append(ratio >= RATIO_TARGET)
                    line += f"  target >= {RATIO_TARGET:.2f}: {met(ratio >= RATIO_TARGET)}"
                else:  # a file write is no S3 round trip: the target is set against the SDK
                    line += "  (no target on the local store)"
            print(line)
        print()
        print(
            f"  memory in MB: RSS at the start -> peak during the upload (growth; target < "
            f"{RSS_GROWTH_TARGET_MB:g}) -> RSS after"
        )
        for outcome in outcomes[1:]:
            if outcome.uploaded is not None:
                verdicts += [outcome.growth(name) < RSS_GROWTH_TARGET_MB for name in MEMORY]
            print(f"  {outcome.label.split(':')[0]:<7} {memory_line(outcome)}")
        print()
        print("  CPU seconds during each upload")
        for outcome in outcomes:
            print(f"  {outcome.label.split(':')[0]:<7} {cpu_line(outcome)}")
        if server is not None:
            print()
            print("  requests the S3 server answered during each upload")
            for outcome in outcomes:
                counts = ", ".join(
                    f"{request} x{count}" for request, count in sorted(outcome.s3_requests.items())
                )
                print(f"  {outcome.label.split(':')[0]:<7} {counts}")
        if server is not None and direct.uploaded and direct.uploaded.request_seconds:
            assembly = direct.uploaded.request_seconds[0]
            print(
                f"  direct: the S3 server took {assembly * 1000:.0f} ms to complete the multipart "
                "upload (it assembles the parts then; every path pays it)"
            )
            transfer = {o.label.split(":")[0]: o.seconds - assembly for o in outcomes if o.uploaded}
            if "direct" in transfer and all(seconds > 0 for seconds in transfer.values()):
                rates = {label: args.size / MIB / seconds for label, seconds in transfer.items()}
                print(
                    "  without that assembly time (no target): "
                    + ", ".join(
                        f"{label} {rate:.1f} MB/s"
                        + (f" ({rate / rates['direct']:.2f})" if label != "direct" else "")
                        for label, rate in rates.items()
                    )
                )
        tus = outcomes[2]
        if tus.uploaded is not None and tus.uploaded.request_seconds:
            timings = support.summarize(tus.uploaded.request_seconds)
            print(
                f"  tus PATCH latency: p50 {timings.p50:.0f} ms, p95 {timings.p95:.0f} ms, "
                f"max {timings.max:.0f} ms over {timings.count} requests; the last one, which "
                f"completes the file, {tus.uploaded.request_seconds[-1] * 1000:.0f} ms"
            )
        print()
        for outcome in outcomes:
            if outcome.error is not None:
                verdicts.append(False)
                print(f"  {outcome.label.split(':')[0]} FAILED: {outcome.error}")
            elif outcome is not direct:
                verdicts.append(outcome.verified_ok)
                print(f"  {outcome.label.split(':')[0]}: {outcome.verified}")
        failed += [outcome.request_id for outcome in outcomes if outcome.error]
        if failed:
            print("\nthe processes' log about the failures (and anything but access lines):")
            print(relevant_log(stack, [request_id for request_id in failed if request_id]))
    finally:
        client.close()
        directory.close()
    return all(verdicts)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    began = time.perf_counter()
    store = "S3 (moto server, own process)" if args.backend == "s3" else "the local store"
    print(
        f"upload throughput: {args.size / MIB:g} MiB MP4-like file into {store}, simple and tus "
        f"({args.chunk / MIB:g} MiB PATCHes) through the gateway vs direct; {args.database}; "
        "MB = 2^20 bytes"
    )
    print(support.machine_report()[0])
    env = {"TELEMED_FILES_STORAGE": args.backend, "TELEMED_FILES_PART_SIZE": str(PART_SIZE)}
    with contextlib.ExitStack() as exits:
        server = None
        if args.backend == "s3":
            logs = Path(exits.enter_context(tempfile.TemporaryDirectory(prefix="telemed-s3-")))
            server = exits.enter_context(support.s3_server(log_path=logs / "s3.log"))
            env |= {
                "TELEMED_FILES_S3_ENDPOINT": server.endpoint,
                "TELEMED_FILES_S3_ACCESS_KEY": server.access_key,
                "TELEMED_FILES_S3_SECRET_KEY": server.secret_key,
                "TELEMED_FILES_S3_BUCKET": BUCKET,
            }
        with (
            support.environment(env),
            support.scratch_stack(args.database, log_level=args.log_level) as stack,
        ):
            ok = run(args, stack, server)
    print()
    print(
        f"{'all targets met' if ok else 'some targets MISSED'} "
        f"(the whole run took {time.perf_counter() - began:.0f} s)"
    )


if __name__ == "__main__":
    main()
