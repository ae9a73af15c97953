"""IP cameras for tests: `rtsp_camera.py` run with Debian's system Python (which has GStreamer's
bindings) on a loopback port, which a test can cut and restore."""

import asyncio
import socket
import time
from pathlib import Path
from types import TracebackType

from tests.servers import free_port_run

SCRIPT = Path(__file__).with_name("rtsp_camera.py")
SYSTEM_PYTHON = "/usr/bin/python3"


class LoopbackCamera:
    """A camera at rtsp://127.0.0.1:<port>/bed; `cut` stops it as a dropped camera would and
    `restore` starts it again on the same port."""

    def __init__(self, port: int | None = None, *, option: str = "") -> None:
        """`option`: one of `rtsp_camera.py`'s (`--sdp-only`, `--mjpeg`), or none."""
        # Out of the ephemeral range, so no client's connection takes the port between a cut
        # and the restore.
        self.port = port if port is not None else free_port_run(1)
        self.option = option
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/bed"

    async def restore(self) -> None:
        """Starts the camera and waits until its port accepts connections."""
        options = [self.option] if self.option else []
        self.process = await asyncio.create_subprocess_exec(
            SYSTEM_PYTHON, str(SCRIPT), str(self.port), *options
        )
        deadline = time.monotonic() + 15
        while not await asyncio.to_thread(self._accepts):
            if self.process.returncode is not None or time.monotonic() > deadline:
                await self.cut()
                raise RuntimeError(f"the RTSP camera did not start on port {self.port}")
            await asyncio.sleep(0.05)

    def _accepts(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    async def cut(self) -> None:
        """Stops the camera (SIGTERM, then SIGKILL if it lingers)."""
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            process.kill()
            await process.wait()

    async def __aenter__(self) -> "LoopbackCamera":
        await self.restore()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.cut()
