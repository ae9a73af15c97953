"""Link quality per participant from aiortc's `getStats`, kept for the room view and Prometheus.

The server sees each link from its end: round-trip time and loss the client reports in RTCP
receiver reports on what we send, jitter and loss of what we receive, and transport bitrates.
"""

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCPeerConnection
from aiortc.stats import (
    RTCInboundRtpStreamStats,
    RTCRemoteInboundRtpStreamStats,
    RTCTransportStats,
)
from prometheus_client import CollectorRegistry, Gauge

CLOCK_RATES = {"audio": 48_000, "video": 90_000}


@dataclass
class Quality:
    round_trip_ms: float | None = None
    packets_lost: int = 0
    jitter_ms: float | None = None
    inbound_kbps: float = 0.0
    outbound_kbps: float = 0.0
    _bytes: tuple[float, int, int] | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "round_trip_ms": self.round_trip_ms,
            "packets_lost": self.packets_lost,
            "jitter_ms": self.jitter_ms,
            "inbound_kbps": self.inbound_kbps,
            "outbound_kbps": self.outbound_kbps,
        }


async def sample(pc: RTCPeerConnection, quality: Quality) -> None:
    """Updates `quality` from one `getStats` report; bitrates are over the time since the last."""
    report = await pc.getStats()
    rtts: list[float] = []
    jitters: list[float] = []
    lost = 0
    received = sent = 0
    for stats in report.values():
        if isinstance(stats, RTCRemoteInboundRtpStreamStats):
            rtts.append(stats.roundTripTime * 1000)
            lost += max(stats.packetsLost, 0)
        elif isinstance(stats, RTCInboundRtpStreamStats):
            lost += max(stats.packetsLost, 0)
            jitters.append(stats.jitter * 1000 / CLOCK_RATES.get(stats.kind, 90_000))
        elif isinstance(stats, RTCTransportStats):
            received += stats.bytesReceived
            sent += stats.bytesSent
    now = time.monotonic()
    if quality._bytes is not None:
        then, was_received, was_sent = quality._bytes
        elapsed = max(now - then, 1e-3)
        quality.inbound_kbps = round(max(received - was_received, 0) * 8 / 1000 / elapsed, 1)
        quality.outbound_kbps = round(max(sent - was_sent, 0) * 8 / 1000 / elapsed, 1)
    quality._bytes = (now, received, sent)
    quality.round_trip_ms = round(max(rtts), 1) if rtts else None
    quality.jitter_ms = round(max(jitters), 1) if jitters else None
    quality.packets_lost = lost


class QualityMetrics:
    """Prometheus gauges per connected participant, dropped when they leave."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        labels = ["room", "participant"]
        self.rtt = Gauge("video_round_trip_seconds", "RTT to a participant", labels,
                         registry=self.registry)  # fmt: skip
        self.lost = Gauge("video_packets_lost", "Packets lost on a participant's link", labels,
                          registry=self.registry)  # fmt: skip
        self.jitter = Gauge("video_jitter_seconds", "Jitter of a participant's media", labels,
                            registry=self.registry)  # fmt: skip
        self.inbound = Gauge("video_inbound_bits_per_second", "Bitrate from a participant",
                             labels, registry=self.registry)  # fmt: skip
        self.outbound = Gauge("video_outbound_bits_per_second", "Bitrate to a participant",
                              labels, registry=self.registry)  # fmt: skip
        self.peers = Gauge("video_peer_connections", "Open peer connections",
                           registry=self.registry)  # fmt: skip

    def observe(self, room: str, participant: str, quality: Quality) -> None:
        labels = (room, participant)
        if quality.round_trip_ms is not None:
            self.rtt.labels(*labels).set(quality.round_trip_ms / 1000)
        if quality.jitter_ms is not None:
            self.jitter.labels(*labels).set(quality.jitter_ms / 1000)
        self.lost.labels(*labels).set(quality.packets_lost)
        self.inbound.labels(*labels).set(quality.inbound_kbps * 1000)
        self.outbound.labels(*labels).set(quality.outbound_kbps * 1000)

    def forget(self, room: str, participant: str) -> None:
        for gauge in (self.rtt, self.lost, self.jitter, self.inbound, self.outbound):
            with contextlib.suppress(KeyError):  # never observed
                gauge.remove(room, participant)
