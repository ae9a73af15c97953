"""The wards domain's vocabularies: where a bed's picture comes from."""

from enum import StrEnum


class SourceKind(StrEnum):
    """A bedside tablet's browser publishes over WebRTC (VP8); an IP camera is pulled over RTSP
    (H.264, passed through as the camera encoded it)."""

    TABLET = "tablet"
    RTSP = "rtsp"


# The codec a source's frames arrive in, which a viewer's slot for it negotiates so that the
# frames pass through without being decoded and encoded again.
SOURCE_CODECS = {SourceKind.TABLET: "video/vp8", SourceKind.RTSP: "video/h264"}
