"""Content-type detection from a file's first bytes, never from its name or declared type."""

import codecs
import re
import struct
from dataclasses import dataclass

SNIFF_BYTES = 8192
"""Leading bytes `sniff` needs whenever the file is at least this long."""

ZIP = "application/zip"
ODT = "application/vnd.oasis.opendocument.text"


@dataclass(frozen=True, slots=True)
class Sniffed:
    """An allowed type; `container` types must pass `containers.classify_container` as well."""

    media_type: str
    container: bool = False
    charset: str | None = None  # text only: how its bytes decode

    @property
    def content_type(self) -> str:
        """The `Content-Type` header value to serve the file with."""
        return f"{self.media_type}; charset={self.charset}" if self.charset else self.media_type


# Executables and scripts, refused before anything else: a DICOM preamble is free-form, and a
# PE header there makes a file that is both valid DICOM and runnable (CVE-2019-11687).
_REFUSED_PREFIXES = (
    b"MZ",  # DOS/Windows PE
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",  # Mach-O, both widths and byte orders
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  # Mach-O fat binary (and Java class files)
    b"#!",  # scripts
    b"{\\rtf",  # RTF is text, but a classic carrier of Office exploits
)

_MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)

# ISO BMFF major brands of MP4 video; HEIF images and M4A audio share the box format.
_MP4_BRANDS = {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"dash"}
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
# An MP3 frame's sync word and version: MPEG-1 and MPEG-2 layer III, with or without CRC.
_MP3_FRAMES = {b"\xff\xfb", b"\xff\xfa", b"\xff\xf3", b"\xff\xf2"}
_EBML_DOCTYPE = 0x4282

_TEXT_CONTROLS = {"\t", "\n", "\r", "\f"}
# Beyond ASCII, Windows-1251 text is Cyrillic plus a little typography (guillemets, quotes,
# dashes, ellipsis, numero, degree, plus-minus, middle dot, no-break space); anything else it
# decodes to means the bytes were not cp1251 text.
_CP1251_EXTRA = set(
    "\u00ab\u00bb\u201e\u201c\u201d\u2018\u2019\u2013\u2014\u2026\u2116\u00b0\u00b1\u00b7\u00a0"
)
_MARKUP = re.compile(r"\s*<")


def sniff(head: bytes, *, display_name: str | None = None) -> Sniffed | None:
    """The allowed type `head` starts, or None; `display_name` only tells CSV from plain text."""
    if not head or head.startswith(_REFUSED_PREFIXES):
        return None
    # Before the other magics: PS3.10 lets the preamble hold a TIFF header ("dual personality").
    if head[128:132] == b"DICM":
        return Sniffed("application/dicom")
    for magic, media_type in _MAGIC:
        if head.startswith(magic):
            return Sniffed(media_type)
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(head)
    if head[4:8] == b"ftyp":
        return Sniffed("video/mp4") if head[8:12] in _MP4_BRANDS else None
    if head.startswith(_EBML_MAGIC):
        return Sniffed("video/webm") if _ebml_doctype(head) == b"webm" else None
    if audio := _sniff_audio(head):
        return Sniffed(audio)
    return _sniff_text(head[:SNIFF_BYTES], truncated=len(head) >= SNIFF_BYTES, name=display_name)


def _sniff_audio(head: bytes) -> str | None:
    """Call recordings: WAV (RIFF), Ogg, MP3 with an ID3 tag or from its first frame."""
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"ID3") or head[:2] in _MP3_FRAMES:
        return "audio/mpeg"
    return None


def _sniff_zip(head: bytes) -> Sniffed | None:
    # ODF puts an uncompressed `mimetype` member first, so its type is readable here; OOXML
    # needs the central directory, which only `classify_container` reads.
    if len(head) < 30:
        return None
    method, size, name_len, extra_len = struct.unpack_from("<H8xI4xHH", head, 8)
    start = 30 + name_len + extra_len
    if method == 0 and head[30 : 30 + name_len] == b"mimetype":
        odf_type = head[start : start + size]
        if odf_type == ODT.encode():
            return Sniffed(ODT, container=True)
        if odf_type.startswith(b"application/vnd.oasis.opendocument."):
            return None  # spreadsheets, presentations, templates: not on the allowed list
    return Sniffed(ZIP, container=True)


def _vint(data: bytes, pos: int, *, keep_marker: bool) -> tuple[int, int]:
    """An EBML variable-length integer at `pos`: (value, position after it)."""
    if pos >= len(data) or data[pos] == 0:
        raise ValueError("no EBML integer here")
    width = 9 - data[pos].bit_length()
    if pos + width > len(data):
        raise ValueError("EBML integer cut off")
    value = int.from_bytes(data[pos : pos + width], "big")
    if not keep_marker:
        value &= (1 << (7 * width)) - 1
    return value, pos + width


def _ebml_doctype(head: bytes) -> bytes | None:
    try:
        size, pos = _vint(head, len(_EBML_MAGIC), keep_marker=False)
        end = min(pos + size, len(head))
        while pos < end:
            element, pos = _vint(head, pos, keep_marker=True)
            length, pos = _vint(head, pos, keep_marker=False)
            if element == _EBML_DOCTYPE:
                return head[pos : pos + length]
            pos += length
    except ValueError:
        return None
    return None


def _decode_text(head: bytes, *, truncated: bool) -> tuple[str, str] | None:
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]
    try:
        # Not final when the caller cut the file short: a multibyte character may straddle the cut.
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=not truncated)
    except UnicodeDecodeError:
        pass
    else:
        return text, "utf-8"
    try:
        text = head.decode("cp1251")
    except UnicodeDecodeError:
        return None
    if all(ch < "\x80" or "\u0400" <= ch <= "\u04ff" or ch in _CP1251_EXTRA for ch in text):
        return text, "windows-1251"
    return None


def _sniff_text(head: bytes, *, truncated: bool, name: str | None) -> Sniffed | None:
    decoded = _decode_text(head, truncated=truncated)
    if decoded is None:
        return None
    text, charset = decoded
    if any(_is_control(ch) for ch in text):
        return None
    # HTML, SVG or XML opened from an attachment runs script in the browser; medical text files
    # have no reason to start with markup, so refuse it rather than trust every client's sniffing.
    if _MARKUP.match(text):
        return None
    is_csv = (name or "").lower().endswith(".csv") or _looks_delimited(text, truncated=truncated)
    return Sniffed("text/csv" if is_csv else "text/plain", charset=charset)


def _is_control(ch: str) -> bool:
    return (ch < "\x20" or "\x7f" <= ch <= "\x9f") and ch not in _TEXT_CONTROLS


def _looks_delimited(text: str, *, truncated: bool) -> bool:
    """Two or more lines with the same number (at least one) of `,` or `;` outside quotes."""
    lines = text.splitlines()
    if truncated:
        lines = lines[:-1]  # the last line is probably cut off
    lines = [line for line in lines if line.strip()]
    if len(lines) < 2:
        return False
    for delimiter in ",;":
        counts = {_count_unquoted(line, delimiter) for line in lines}
        if len(counts) == 1 and counts.pop() > 0:
            return True
    return False


def _count_unquoted(line: str, delimiter: str) -> int:
    # A doubled quote inside a quoted field toggles twice, so it needs no special case.
    count, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == delimiter and not quoted:
            count += 1
    return count
