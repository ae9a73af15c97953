"""ICU ward monitoring: N bedside sources, M grid viewers and one full-size viewer through the
real video process, its CPU per bed and per viewer, the frames delivered, and the alarm after
a source is cut.

The real processes start with `telemed.launcher.Launcher` (scratch `var/`, SQLite). Through the
gateway, a district hospital's coordinator creates a ward watched by a regional centre, `--beds`
occupied beds and a device credential for each; `--viewers` + 1 intensivists of the centre each
take a watch token. The beds' bots run in `--workers` processes of their own, the viewers' in
one more (as on machines of their own: a viewer's flood of packets starves no bed), and the bed
that is cut later alone in another, so that cutting it kills a process and nothing else.

A bed publishes as a bedside tablet does (SDP offer `POST .../beds/{b}/source` with its
credential, a data channel `ping` every second): 640x480 VP8 at 15 fps, the pre-encoded clip of
`video_capacity.py`, answering each PLI with a keyframe. A grid viewer offers the overview's
slots (two recvonly video for the full-size bed, one recvonly audio, then one recvonly video per
bed), maps them to beds with `GET .../viewers/{id}` and reads the ward's event stream as the
console does; the full-size viewer offers only the first three slots and opens one bed with
`PUT .../viewers/{id}/focus`. Receivers count the frames they reassemble without decoding them.

Three windows of `--seconds`, each after every bed is online at the server, every slot has shown
a frame, and `--warmup` seconds: the beds alone (the baseline), with the grid viewers, then with
the full-size viewer too. Each gives the video process's CPU (% of one core); per bed is the
baseline / N, per grid viewer the growth with the grid viewers / M, and the full-size viewer's
the growth it adds. Frames delivered:
- grid: frames the grid viewers' tiles received / for every tile, the keyframes its bed sent
  (the server forwards keyframes, and nothing else, to a tile);
- full-size: frames the full-size viewer received / frames the focused bed sent;
both counted on the bots by when each frame was sent (each bed appends the time to its frames):
the frames sent in the window, received up to `GRACE_SECONDS` after it closes.

Then the cut bed's process is killed (SIGKILL: no DELETE, no goodbye on the wire, as a pulled
cable) and `bed.alarm` is timed on the ward's event stream; then the bed publishes again from
another worker, as a tablet reconnecting, and `bed.alarm_cleared` is timed.

    .venv/bin/python bench/ward_monitoring.py [--beds 24] [--viewers 2] [--seconds 20] \
        [--workers 2]
"""

import argparse
import asyncio
import contextlib
import json
import math
import os
import queue
import signal
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import support
from bench.support import Directory, Stack
from bench.video_capacity import (
    FPS,
    HEIGHT,
    WIDTH,
    Clip,
    ClipTrack,
    FrameCounter,
    met,
    start_workers,
    stop_workers,
)
from services.video.settings import VideoSettings

WARDS = "/api/video/wards"
SDP = "application/sdp"
CPU_TARGET = 1.0  # cores
GRID_TARGET = 0.95
ALARM_MARGIN = 2.0  # seconds over the threshold: 12 s with the default 10 s
TARGET_BEDS, TARGET_VIEWERS = 24, 2
FOCUS_SLOTS = 2  # the overview's full-size slots (VP8, H.264), then one audio slot
READY_SECONDS = 30.0
# Each frame carries when its bed sent it (8 bytes appended, forwarded as they are): a window
# counts the frames sent in it, received whenever, up to GRACE_SECONDS after it closes.
STAMP = struct.Struct("!d")
GRACE_SECONDS = 3.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--beds", type=int, default=24)
    parser.add_argument("--viewers", type=int, default=2, help="grid viewers")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window")
    parser.add_argument("--warmup", type=float, default=3.0, help="before each window")
    parser.add_argument("--workers", type=int, default=2, choices=(1, 2, 3, 4))
    parser.add_argument(
        "--receive-buffer",
        type=int,
        default=4096,
        help="KiB of UDP receive buffer the viewers' bots ask for (0: the system's default)",
    )
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    if args.beds < 2 or args.viewers < 1:
        parser.error("at least 2 beds (one is cut) and 1 grid viewer")
    return args


def _setting(name: str) -> float:
    """A video setting as the stack's process will read it: the environment, or its default."""
    value = os.environ.get(f"TELEMED_VIDEO_{name.upper()}")
    default = VideoSettings.model_fields[name].default
    return float(value) if value is not None else float(default)


# --- the bots (in their own processes) ---------------------------------------------------------


@dataclass(frozen=True)
class BedJob:
    ward_id: str
    bed_id: str
    credential: str


@dataclass(frozen=True)
class ViewerJob:
    name: str
    ward_id: str
    token: str
    tiles: int  # grid slots offered (0: the full-size viewer)
    receive_buffer: int  # bytes, 0: the system's default
    focus_bed: str | None = None


def _peer_connection() -> Any:
    from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection

    # One transport for every slot, as the server bundles them all anyway.
    bundle = RTCBundlePolicy.MAX_BUNDLE
    return RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=bundle))


async def _beat(channel: Any, every: float) -> None:
    while True:
        if channel.readyState == "open":
            channel.send("ping")
        await asyncio.sleep(every)


async def _answer(pc: Any, response: httpx.Response, what: str) -> None:
    from aiortc import RTCSessionDescription

    if response.status_code != 201:
        raise RuntimeError(f"{what} answered {response.status_code}: {response.text[:300]}")
    await pc.setRemoteDescription(RTCSessionDescription(response.text, "answer"))


class StampCounter(FrameCounter):
    """Also notes, of each frame, when its bed sent it and its size."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[tuple[float, int]] = []

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is not None:
            data = item[1].data
            self.frames.append((STAMP.unpack(data[-STAMP.size :])[0], len(data)))
        super().put(item, block, timeout)

    def counts(self, start: float, end: float) -> tuple[int, int]:
        """Frames, and their bytes, sent between `start` and `end` and received so far."""
        window = [size for at, size in self.frames if start <= at <= end]
        return len(window), sum(window)


@dataclass
class Bedside:
    """A bedside tablet: sends the clip and a heartbeat, receives nothing."""

    job: BedJob
    clip: Clip
    pc: Any = None
    track: Any = None
    sent: list[tuple[float, bool]] = field(default_factory=list)  # when, and whether a keyframe
    answer_seconds: float = float("nan")
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    def _stamp(self, data: bytes) -> bytes:
        now = time.time()
        self.sent.append((now, not data[0] & 0x01))  # VP8's P bit clear: a keyframe (RFC 6386)
        return data + STAMP.pack(now)

    async def join(self, http: httpx.AsyncClient) -> None:
        self.pc = _peer_connection()
        self.track = ClipTrack.make(self.clip, self._stamp)
        sender = self.pc.addTransceiver(self.track, direction="sendonly").sender

        def keyframe_requested() -> None:
            self.track.keyframe_requested = True

        sender._send_keyframe = keyframe_requested
        self.tasks.append(asyncio.create_task(_beat(self.pc.createDataChannel("heartbeat"), 1.0)))
        await self.pc.setLocalDescription(await self.pc.createOffer())
        posted = time.perf_counter()
        response = await http.post(
            f"{WARDS}/{self.job.ward_id}/beds/{self.job.bed_id}/source",
            content=self.pc.localDescription.sdp,
            headers={"Authorization": f"Bearer {self.job.credential}", "Content-Type": SDP},
        )
        self.answer_seconds = time.perf_counter() - posted
        await _answer(self.pc, response, "the source's offer")

    def counts(self, start: float, end: float) -> tuple[int, int]:
        """Frames and keyframes sent between `start` and `end`."""
        window = [key for at, key in self.sent if start <= at <= end]
        return len(window), sum(window)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        if self.pc is not None:
            await self.pc.close()


def _receive_buffer(transceiver: Any, size: int) -> None:
    """Asks for a bigger receive buffer on the sockets ICE gathered (every slot shares them):
    a Python receiver drains its socket far slower than a browser's network thread, and the
    keyframes the grid asks every bed for at once arrive as one burst."""
    ice = transceiver.receiver.transport.transport._connection
    for protocol in ice._protocols:
        udp = protocol.transport.get_extra_info("socket")
        udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)


@dataclass
class Watcher:
    """An overview: the full-size slots, one slot per bed, and the ward's event stream."""

    job: ViewerJob
    pc: Any = None
    counters: dict[str, StampCounter] = field(default_factory=dict)  # by slot mid
    tiles: dict[str, str] = field(default_factory=dict)  # slot mid -> bed id
    focus_mid: str | None = None
    answer_seconds: float = float("nan")
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.job.token}"}

    async def join(self, http: httpx.AsyncClient) -> None:
        self.pc = _peer_connection()
        video = [self.pc.addTransceiver("video", direction="recvonly") for _ in range(FOCUS_SLOTS)]
        self.pc.addTransceiver("audio", direction="recvonly")
        video += [
            self.pc.addTransceiver("video", direction="recvonly") for _ in range(self.job.tiles)
        ]
        counted = []
        for transceiver in video:
            counter = StampCounter()
            transceiver.receiver._RTCRtpReceiver__decoder_queue = counter
            counted.append((transceiver, counter))
        self.tasks.append(asyncio.create_task(_beat(self.pc.createDataChannel("heartbeat"), 1.0)))
        await self.pc.setLocalDescription(await self.pc.createOffer())
        if self.job.receive_buffer:
            _receive_buffer(video[0], self.job.receive_buffer)
        self.counters = {str(transceiver.mid): counter for transceiver, counter in counted}
        posted = time.perf_counter()
        path = f"{WARDS}/{self.job.ward_id}/viewers"
        response = await http.post(
            path, content=self.pc.localDescription.sdp,
            headers=self.headers | {"Content-Type": SDP},
        )  # fmt: skip
        self.answer_seconds = time.perf_counter() - posted
        await _answer(self.pc, response, "the viewer's offer")
        viewer = f"{path}/{response.headers['X-Viewer-Id']}"
        if self.job.focus_bed is not None:
            body = {"bed_id": self.job.focus_bed}
            focused = await http.put(f"{viewer}/focus", json=body, headers=self.headers)
            if focused.status_code != 200:
                raise RuntimeError(f"focus answered {focused.status_code}: {focused.text[:300]}")
        slots = (await http.get(viewer, headers=self.headers)).json()
        self.tiles = {tile["mid"]: tile["bed_id"] for tile in slots["tiles"]}
        self.focus_mid = slots["focus_mid"]
        if self.job.tiles:  # a grid's console reads the ward's events too
            self.tasks.append(asyncio.create_task(self._read_events(http)))

    async def _read_events(self, http: httpx.AsyncClient) -> None:
        path = f"{WARDS}/{self.job.ward_id}/events"
        timeout = httpx.Timeout(30.0, read=None)
        async with http.stream("GET", path, headers=self.headers, timeout=timeout) as response:
            async for _ in response.aiter_lines():
                pass

    @property
    def ready(self) -> bool:
        """Every tile and the full-size slot have shown a frame."""
        shown = [*self.tiles, *([self.focus_mid] if self.focus_mid else [])]
        return all(self.counters[mid].count for mid in shown)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        if self.pc is not None:
            await self.pc.close()


async def _join(
    http: httpx.AsyncClient, clip: Clip, beds: list[BedJob], viewers: list[ViewerJob],
    bedsides: dict[str, Bedside], watchers: dict[str, Watcher],
) -> dict[str, Any]:  # fmt: skip
    """Joins them all at once; the viewers' answer comes once each has a frame in every slot."""
    new_beds = [Bedside(job, clip) for job in beds]
    new_viewers = [Watcher(job) for job in viewers]
    bots: list[Bedside | Watcher] = [*new_beds, *new_viewers]
    results = await asyncio.gather(*(bot.join(http) for bot in bots), return_exceptions=True)
    errors = sorted({f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException)})
    for bed in new_beds:
        bedsides[bed.job.bed_id] = bed
    for viewer in new_viewers:
        watchers[viewer.job.name] = viewer
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:  # polls the receivers' frame counters
        if all(v.ready for v in new_viewers):
            break
        await asyncio.sleep(0.05)
    return {
        "errors": errors,
        "answers": [bot.answer_seconds for bot in bots],
        "not_ready": [v.job.name for v in new_viewers if not v.ready],
        "viewers": {v.job.name: {"tiles": v.tiles, "focus_mid": v.focus_mid} for v in new_viewers},
    }


def _counts(
    bedsides: dict[str, Bedside], watchers: dict[str, Watcher], start: float, end: float
) -> dict[str, Any]:
    return {
        "beds": {bed_id: bed.counts(start, end) for bed_id, bed in bedsides.items()},
        "slots": {
            name: {mid: counter.counts(start, end) for mid, counter in viewer.counters.items()}
            for name, viewer in watchers.items()
        },
    }


async def _serve(conn: Connection, clip: Clip) -> None:
    loop = asyncio.get_running_loop()
    url: str | None = await loop.run_in_executor(None, conn.recv)
    if url is None:  # stopped before the stack was up
        return
    bedsides: dict[str, Bedside] = {}
    watchers: dict[str, Watcher] = {}
    async with httpx.AsyncClient(base_url=url, timeout=30.0) as http:
        try:
            while (message := await loop.run_in_executor(None, conn.recv)) is not None:
                try:
                    if message[0] == "join":
                        _, beds, viewers = message
                        reply = await _join(http, clip, beds, viewers, bedsides, watchers)
                    else:
                        _, start, end = message
                        reply = _counts(bedsides, watchers, start, end)
                except Exception as exc:  # reported by the parent
                    reply = {"fatal": f"{type(exc).__name__}: {exc}"}
                conn.send(reply)
        finally:
            bots: list[Bedside | Watcher] = [*bedsides.values(), *watchers.values()]
            await asyncio.gather(*(bot.close() for bot in bots), return_exceptions=True)


def ward_worker(conn: Connection) -> None:
    """Encodes the clip, then takes the gateway's URL and runs the parent's commands (`join`
    beds and viewers, `count` what was sent and received) until it sends None."""
    clip = Clip.encode()
    conn.send(("clip", clip.bitrate))
    asyncio.run(_serve(conn, clip))


# --- the parent --------------------------------------------------------------------------------

Worker = tuple[Any, Connection]


class Ward:
    """The hospital, the centre, the ward with its beds and credentials, the watch tokens."""

    def __init__(self, stack: Stack, beds: int, viewers: int) -> None:
        self.directory = directory = Directory(stack)
        hospital = directory.organization("Bench District Hospital", "district_hospital")
        centre = directory.organization("Bench Regional Centre", "regional_centre")
        self.coordinator = directory.actor("bench.icu.coordinator", "coordinator", hospital)
        doctors = [
            directory.actor(f"bench.intensivist.{i}", "specialist", centre, "anaesthesiology")
            for i in range(viewers + 1)
        ]
        body = {"name": "ICU (bench)", "watcher_ids": [centre["id"]]}
        self.id = str(self._post("", body)["id"])
        self.beds: list[BedJob] = []
        for number in range(1, beds + 1):
            body = {"label": f"Bed {number:02d}", "patient_ref": f"IB bench/{number}"}
            bed_id = str(self._post("/beds", body)["id"])
            credential = self._post(f"/beds/{bed_id}/device", {})["credential"]
            self.beds.append(BedJob(self.id, bed_id, credential))
        self.tokens = [
            str(self._post("/watch-token", {}, doctor.headers)["token"]) for doctor in doctors
        ]

    def _post(self, path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
        url = f"{WARDS}{'/' + self.id if path else ''}{path}"
        response = self.directory.client.post(
            url, json=body, headers=headers or self.coordinator.headers
        )
        if response.status_code != 201:
            raise RuntimeError(f"POST {url} answered {response.status_code}: {response.text}")
        return response.json()

    def offline(self) -> list[str]:
        """The beds the server does not see online."""
        response = self.directory.client.get(f"{WARDS}/{self.id}", headers=self.coordinator.headers)
        beds = response.json()["beds"]
        return [bed["label"] for bed in beds if not (bed["live"] or {}).get("online")]


def udp_drops(pids: list[int]) -> int:
    """Datagrams dropped so far because a socket's receive buffer was full, over the UDP sockets
    the processes hold (the `drops` of `/proc/net/udp` and `udp6`: ICE may pick either)."""
    drops: dict[str, int] = {}
    for table in ("udp", "udp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            drops[f"socket:[{fields[9]}]"] = int(fields[-1])
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    total += drops.get(os.readlink(fd), 0)
    return total


def ask(workers: list[Worker], messages: list[Any]) -> list[dict[str, Any]]:
    """Sends each worker its message, then collects every answer."""
    for (_, conn), message in zip(workers, messages, strict=True):
        conn.send(message)
    replies = [conn.recv() for _, conn in workers]
    for reply in replies:
        if "fatal" in reply:
            raise RuntimeError(f"a bot worker failed: {reply['fatal']}")
    return replies


@dataclass
class Window:
    name: str
    video: float = float("nan")  # cores
    gateway: float = float("nan")
    bots: float = float("nan")
    busiest_bot: float = float("nan")
    drops: tuple[int, ...] = (0, 0, 0)  # UDP, at the video process, the viewers', the beds'
    machine: float = float("nan")  # busy, 0..1
    rss_mb: float = float("nan")
    bed_fps: float = float("nan")
    bed_keyframes: float = float("nan")  # per bed per second
    grid_received: int = 0
    grid_expected: int = 0
    silent_tiles: int = 0
    tile_rate: float = float("nan")  # pictures a tile showed per second
    full_received: int = 0
    full_expected: int = 0
    grid_mbits: float = float("nan")  # what one grid viewer received, Mbit/s

    @property
    def grid_ratio(self) -> float:
        return self.grid_received / self.grid_expected if self.grid_expected else float("nan")

    @property
    def full_ratio(self) -> float:
        return self.full_received / self.full_expected if self.full_expected else float("nan")


@dataclass
class Run:
    """What the parent knows of the bots: who runs where, and each viewer's slots."""

    ward: Ward
    stack: Stack
    beds: list[Worker]  # the beds, dealt over them
    viewers: Worker  # every viewer: as on other machines than the beds, they starve no bed
    cutter: Worker  # the bed that is cut, alone
    slots: dict[str, dict[str, Any]] = field(default_factory=dict)  # viewer name -> tiles, focus
    focus_bed: str = ""
    answers: list[float] = field(default_factory=list)

    @property
    def everyone(self) -> list[Worker]:
        return [*self.beds, self.viewers, self.cutter]

    def join(self, beds: list[BedJob], viewers: list[ViewerJob], alone: BedJob | None) -> None:
        """Joins them all at once, each in its process; `alone` is the bed that is cut."""
        count = len(self.beds)
        messages: list[Any] = [("join", beds[i::count], []) for i in range(count)]
        messages += [("join", [], viewers), ("join", [alone] if alone else [], [])]
        for reply in ask(self.everyone, messages):
            for error in reply["errors"][:5]:
                print(f"        error: {error}")
            if reply["not_ready"]:
                print(f"        no frame in every slot within {READY_SECONDS:g} s: "
                      f"{', '.join(reply['not_ready'])}")  # fmt: skip
            self.slots.update(reply["viewers"])
            self.answers += [a for a in reply["answers"] if not math.isnan(a)]
        deadline = time.monotonic() + READY_SECONDS
        while (offline := self.ward.offline()) and time.monotonic() < deadline:
            time.sleep(0.25)
        if offline:
            print(f"        offline at the server after {READY_SECONDS:g} s: {', '.join(offline)}")

    def counts(self, start: float, end: float) -> dict[str, Any]:
        merged: dict[str, Any] = {"beds": {}, "slots": {}}
        for reply in ask(self.everyone, [("count", start, end)] * len(self.everyone)):
            merged["beds"].update(reply["beds"])
            merged["slots"].update(reply["slots"])
        return merged

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far of the video process, the gateway and each bot process."""
        seconds = {name: support.process_cpu_seconds(self.stack.pid(name))
                   for name in ("video", "gateway")}  # fmt: skip
        for process, _ in self.everyone:
            seconds[f"bot {process.pid}"] = support.process_cpu_seconds(process.pid)
        return seconds

    def drops(self) -> tuple[int, int, int]:
        """UDP datagrams dropped so far at the video process's sockets, the viewers' and the
        beds'."""
        beds = [process.pid for process, _ in [*self.beds, self.cutter]]
        return (
            udp_drops([self.stack.pid("video")]),
            udp_drops([self.viewers[0].pid]),
            udp_drops([pid for pid in beds if pid is not None]),
        )

    def measure(self, window: Window, args: argparse.Namespace) -> Window:
        time.sleep(args.warmup)
        start, cpu_before, machine_before = time.time(), self.cpu(), support.machine_cpu_busy()
        drops_before = self.drops()
        time.sleep(args.seconds)
        end, cpu_after, machine_after = time.time(), self.cpu(), support.machine_cpu_busy()
        seconds = end - start
        window.drops = tuple(a - b for a, b in zip(self.drops(), drops_before, strict=True))
        used = {name: (cpu_after[name] - cpu_before[name]) / seconds for name in cpu_before}
        window.video, window.gateway = used.pop("video"), used.pop("gateway")
        window.bots, window.busiest_bot = sum(used.values()), max(used.values())
        total = machine_after[1] - machine_before[1]
        window.machine = (machine_after[0] - machine_before[0]) / total if total else 0.0
        window.rss_mb = support.process_memory_kib(self.stack.pid("video"))["VmRSS"] / 1024
        time.sleep(GRACE_SECONDS)  # for the frames sent at the end to arrive
        counts = self.counts(start, end)
        sent = counts["beds"]
        window.bed_fps = sum(frames for frames, _ in sent.values()) / len(sent) / seconds
        window.bed_keyframes = sum(keys for _, keys in sent.values()) / len(sent) / seconds
        grid_bytes = 0
        for name, slots in self.slots.items():
            got = counts["slots"][name]
            for mid, bed in slots["tiles"].items():
                window.grid_received += got[mid][0]
                window.grid_expected += sent[bed][1]
                window.silent_tiles += got[mid][0] == 0
                grid_bytes += got[mid][1]
            if slots["focus_mid"] is not None:
                window.full_received += got[slots["focus_mid"]][0]
                window.full_expected += sent[self.focus_bed][0]
        tiles = sum(len(slots["tiles"]) for slots in self.slots.values())
        if tiles:
            window.tile_rate = window.grid_received / tiles / seconds
            viewers = sum(1 for slots in self.slots.values() if slots["tiles"])
            window.grid_mbits = grid_bytes * 8 / viewers / seconds / 1e6
        return window


class Events:
    """The ward's event stream, read in a thread: each event with when it arrived."""

    def __init__(self, stack: Stack, ward_id: str, token: str) -> None:
        self.received: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        self._url = f"{stack.url('gateway')}{WARDS}/{ward_id}/events"
        self._headers = {"Authorization": f"Bearer {token}"}
        # A daemon: the stream ends when the stack stops, and nothing waits for it before.
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        timeout = httpx.Timeout(10.0, read=None)
        with (
            contextlib.suppress(httpx.HTTPError),
            httpx.stream("GET", self._url, headers=self._headers, timeout=timeout) as response,
        ):
            for line in response.iter_lines():
                if line.startswith("data:"):
                    self.received.put((time.time(), json.loads(line[5:])))

    def wait(self, event: str, bed_id: str | None, within: float) -> tuple[float, list[str]]:
        """When `event` (of `bed_id`) arrived, or NaN; and the other beds' alarms meanwhile."""
        others: list[str] = []
        deadline = time.monotonic() + within
        while (left := deadline - time.monotonic()) > 0:
            try:
                at, data = self.received.get(timeout=left)
            except queue.Empty:
                break
            if data["event"] == event and bed_id in (None, data.get("bed_id")):
                return at, others
            if data["event"] == "bed.alarm":
                others.append(str(data.get("label")))
        return float("nan"), others


HEADER = (
    f"  {'window':<22} {'video CPU':>9} {'gw CPU':>6} {'bots CPU sum/max':>16} {'machine':>7} "
    f"{'UDP drops v/vw/b':>16} {'bed fps':>7} {'key/s':>5} {'grid recv/expected':>20} "
    f"{'full recv/sent':>20} {'RSS MB':>6}"
)


def print_window(window: Window) -> None:
    def ratio(received: int, expected: int) -> str:
        return f"{received:>7}/{expected:<6} {received / expected:>5.2f}" if expected else "-"

    print(
        f"  {window.name:<22} {window.video * 100:>8.0f}% {window.gateway * 100:>5.0f}% "
        f"{window.bots * 100:>10.0f}%/{window.busiest_bot * 100:.0f}% "
        f"{window.machine * 100:>6.0f}% {'/'.join(map(str, window.drops)):>16} "
        f"{window.bed_fps:>7.1f} "
        f"{window.bed_keyframes:>5.2f} {ratio(window.grid_received, window.grid_expected):>20} "
        f"{ratio(window.full_received, window.full_expected):>20} {window.rss_mb:>6.0f}",
        flush=True,
    )
    if window.silent_tiles:
        print(f"        {window.silent_tiles} tiles showed no frame in the window")


def alarm_phase(run: Run, cut: BedJob, threshold: float) -> tuple[float, float, list[str]]:
    """Seconds from the cut to `bed.alarm`, from the source's return to `bed.alarm_cleared`,
    and the other beds alarmed meanwhile."""
    events = Events(run.stack, run.ward.id, run.ward.tokens[0])
    first, _ = events.wait("ward.state", None, READY_SECONDS)
    if math.isnan(first):
        raise RuntimeError("the ward's event stream sent nothing")
    process, _ = run.cutter
    cut_at = time.time()
    os.kill(process.pid, signal.SIGKILL)
    process.join()
    raised_at, others = events.wait("bed.alarm", cut.bed_id, threshold + 30)
    back_at = time.time()
    ask(run.beds[:1], [("join", [cut], [])])
    cleared_at, more = events.wait("bed.alarm_cleared", cut.bed_id, READY_SECONDS)
    return raised_at - cut_at, cleared_at - back_at, others + more


def report(
    windows: list[Window], args: argparse.Namespace, alarm: tuple[float, float, list[str]]
) -> None:
    beds_only, grid, full = windows
    raised, cleared, others = alarm
    threshold = _setting("ward_alarm_after")
    print(
        f"\n  video CPU per bed (beds alone / {args.beds}): "
        f"{beds_only.video / args.beds * 100:.2f}% of a core; per grid viewer (growth with the "
        f"grid / {args.viewers}): {(grid.video - beds_only.video) / args.viewers * 100:.2f}%; "
        f"the full-size viewer (growth it adds): {(full.video - grid.video) * 100:.2f}%"
    )
    print(
        f"  each tile showed {full.tile_rate:.2f} pictures a second ({full.grid_mbits:.1f} Mbit/s "
        f"per grid viewer); each bed sent {full.bed_fps:.1f} fps, {full.bed_keyframes:.2f} of "
        f"them keyframes"
    )
    small = args.beds < TARGET_BEDS or args.viewers < TARGET_VIEWERS
    scale = f"{args.beds} beds, {args.viewers} grid + 1 full-size viewer"
    rows = [
        (f"video CPU, {scale}", f"{full.video * 100:.0f}% of a core",
         f"<= {CPU_TARGET * 100:.0f}%", full.video <= CPU_TARGET),
        ("grid frames delivered, every viewer on", f"{full.grid_ratio:.3f}",
         f">= {GRID_TARGET:.2f}", full.grid_ratio >= GRID_TARGET),
        ("grid frames delivered, grid viewers alone", f"{grid.grid_ratio:.3f}",
         f">= {GRID_TARGET:.2f}", grid.grid_ratio >= GRID_TARGET),
        ("full-size frames delivered", f"{full.full_ratio:.3f}", "", None),
        (f"bed.alarm after the cut (threshold {threshold:g} s)", f"{raised:.1f} s",
         f"<= {threshold + ALARM_MARGIN:g} s", raised <= threshold + ALARM_MARGIN),
        ("bed.alarm_cleared after the source's new offer", f"{cleared:.1f} s", "", None),
    ]  # fmt: skip
    print()
    for name, figure, target, ok in rows:
        verdict = f"target {target:<8} {met(ok)}" if ok is not None else "(no target)"
        print(f"  {name:<50} {figure:>14}   {verdict}")
    if small:
        print(f"  (the CPU target is for {TARGET_BEDS} beds and {TARGET_VIEWERS} grid viewers)")
    if others:
        print(f"  other beds alarmed meanwhile: {', '.join(others)}")


def measure(stack: Stack, workers: list[Worker], args: argparse.Namespace) -> None:
    ward = Ward(stack, args.beds, args.viewers)
    try:
        *beds, viewers, cutter = workers
        run = Run(ward, stack, beds, viewers, cutter, focus_bed=ward.beds[0].bed_id)
        for _, conn in run.everyone:
            conn.send(stack.url("gateway"))
        *steady, cut = ward.beds
        buffer = args.receive_buffer * 1024
        print(f"\n{HEADER}")
        run.join(steady, [], cut)
        windows = [run.measure(Window(f"{args.beds} beds alone"), args)]
        print_window(windows[-1])
        grid = [
            ViewerJob(f"grid {i + 1}", ward.id, token, args.beds, buffer)
            for i, token in enumerate(ward.tokens[1:])
        ]
        run.join([], grid, None)
        windows.append(run.measure(Window(f"+ {args.viewers} grid viewers"), args))
        print_window(windows[-1])
        full = ViewerJob("full-size", ward.id, ward.tokens[0], 0, buffer, run.focus_bed)
        run.join([], [full], None)
        windows.append(run.measure(Window("+ 1 full-size viewer"), args))
        print_window(windows[-1])
        answers = sorted(run.answers)
        print(
            f"  offer -> answer, {len(answers)} beds and viewers (each group at once): p50 "
            f"{support.percentile(answers, 50) * 1000:.0f} ms, p95 "
            f"{support.percentile(answers, 95) * 1000:.0f} ms"
        )
        alarm = alarm_phase(run, cut, _setting("ward_alarm_after"))
    finally:
        ward.directory.close()
    report(windows, args, alarm)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    began = time.perf_counter()
    print(
        f"ward monitoring: {args.beds} beds sending {WIDTH}x{HEIGHT} at {FPS} fps, "
        f"{args.viewers} grid viewers and a full-size viewer, through the gateway and the video "
        f"process; {args.seconds:g} s windows; grid interval {_setting('ward_grid_interval'):g} "
        f"s, alarm after {_setting('ward_alarm_after'):g} s; SQLite; the viewers' bots ask "
        f"for {args.receive_buffer} KiB of UDP receive buffer"
    )
    print(support.machine_report()[0])
    print(support.load_average())
    workers = start_workers(args.workers + 2, ward_worker)  # the beds', the viewers', the cut's
    try:
        with support.scratch_stack("sqlite", log_level=args.log_level) as stack:
            try:
                measure(stack, workers, args)
            except Exception:
                print(f"the processes' log ends with:\n{stack.log_tail(40)}")
                raise
    finally:
        stop_workers([worker for worker in workers if worker[0].is_alive()])
    print(f"  {support.load_average()} at the end")
    print(f"\n(the whole run took {time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
