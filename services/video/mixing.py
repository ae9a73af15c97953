"""Mixing every participant's audio into one track for a recording, off the event loop.

Each participant's frames are laid end to end on one 48 kHz timeline from where their first
frame arrived, so network jitter does not cut gaps into speech; a participant whose audio
falls more than `RESYNC` off their arrival times (a pause in sending, a reconnect) is placed
again at the arrival time. Overlapping voices are summed and clipped to 16 bits.
"""

import uuid
from fractions import Fraction

import numpy as np
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler

RATE = 48_000
TIME_BASE = Fraction(1, RATE)
RESYNC = RATE // 5  # samples (200 ms)
# Audio is written this long after it arrives, so that late frames of others still mix in.
HOLD = RATE // 2


class AudioMix:
    def __init__(self) -> None:
        self._pending = np.zeros(0, dtype=np.int32)
        self._written = 0  # the timeline's sample at `_pending[0]`
        self._next: dict[uuid.UUID, int] = {}
        self._resamplers: dict[uuid.UUID, AudioResampler] = {}

    def add(self, source: uuid.UUID, at: float, frame: AudioFrame) -> None:
        """Adds a participant's frame that arrived `at` seconds into the recording."""
        resampler = self._resamplers.setdefault(
            source, AudioResampler(format="s16", layout="mono", rate=RATE)
        )
        for mono in resampler.resample(frame):
            self._place(source, round(at * RATE), mono.to_ndarray().reshape(-1))

    def _place(self, source: uuid.UUID, arrival: int, samples: np.ndarray) -> None:
        expected = self._next.get(source)
        start = expected if expected is not None and abs(expected - arrival) <= RESYNC else arrival
        self._next[source] = start + len(samples)
        if start < self._written:  # arrived after its place was written: keep only the rest
            samples = samples[self._written - start :]
            start = self._written
        offset, end = start - self._written, start - self._written + len(samples)
        if end > len(self._pending):
            self._pending = np.concatenate(
                [self._pending, np.zeros(end - len(self._pending), dtype=np.int32)]
            )
        self._pending[offset:end] += samples

    def take(self, now: float | None) -> AudioFrame | None:
        """The mix up to `HOLD` before `now` seconds, or all of it when `now` is None."""
        until = len(self._pending) if now is None else round(now * RATE) - HOLD - self._written
        until = min(until, len(self._pending))
        if until <= 0:
            return None
        chunk = np.clip(self._pending[:until], -32768, 32767).astype(np.int16)
        self._pending = self._pending[until:]
        frame = AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self._written
        frame.time_base = TIME_BASE
        self._written += until
        return frame
