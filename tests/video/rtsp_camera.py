"""An ICU IP camera on loopback for tests: GStreamer's RTSP server sending H.264 at
rtsp://127.0.0.1:<port>/bed (640x480, 15 fps, a keyframe every second).

Run with Debian's system Python, which has GStreamer's bindings (python3-gst-1.0,
gir1.2-gst-rtsp-server-1.0): `/usr/bin/python3 tests/video/rtsp_camera.py PORT [OPTION]`.
`--sdp-only` sends the SPS and PPS in the SDP alone, never in front of a keyframe, as some
cameras do; `--mjpeg` sends Motion JPEG instead of H.264, as older cameras do.
"""

import signal
import sys

import gi  # type: ignore[import-not-found]

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # type: ignore[import-not-found]  # noqa: E402

ENCODER = "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15"
PIPELINE = (
    "( videotestsrc is-live=true pattern=ball"
    " ! video/x-raw,format=I420,width=640,height=480,framerate=15/1 ! {encoder} )"
)
ENCODERS = {
    # config-interval=-1: the parameter sets in front of every keyframe
    "": f"{ENCODER} ! rtph264pay config-interval=-1 pt=96 name=pay0",
    "--sdp-only": f"{ENCODER} option-string=repeat-headers=0"
    " ! rtph264pay config-interval=0 pt=96 name=pay0",
    "--mjpeg": "jpegenc ! rtpjpegpay pt=26 name=pay0",
}


def main(port: int, option: str) -> None:
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(PIPELINE.format(encoder=ENCODERS[option]))
    # One pipeline for every client, as a camera has one encoder whoever watches.
    factory.set_shared(True)
    server.get_mount_points().add_factory("/bed", factory)
    if server.attach(None) == 0:
        sys.exit(f"cannot listen on port {port}")
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    loop.run()


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "")
