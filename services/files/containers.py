"""Final type of an uploaded ZIP-family file: DOCX, XLSX, ODT or a ZIP of allowed files."""

import re
import zipfile
import zlib
from typing import IO, BinaryIO

from services.common.errors import UnsupportedMediaType
from services.files.sniffing import ODT, SNIFF_BYTES, ZIP, sniff

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Small members compress arbitrarily well (a page of spaces) and cannot blow anything up, so the
# ratio limit only applies above this size; the total limit bounds everything.
RATIO_FLOOR = 64 * 1024
_MAX_SMALL_MEMBER = 1024 * 1024  # [Content_Types].xml, mimetype: read whole, so bounded

# Active content inside office documents: VBA projects, ActiveX controls, OLE objects (the
# packager and equation-editor exploits ride in these).
_ACTIVE_PART = re.compile(
    r"(^|/)(vbaProject\.bin|vbaData\.xml|activeX/|oleObject[^/]*\.bin$)", re.I
)
_ODF_SCRIPTS = re.compile(r"^(Basic|Scripts)/", re.I)
# Only the two methods every ZIP and office tool writes; the rarer ones are attack surface.
_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}


def classify_container(
    file: BinaryIO, *, max_members: int = 1000, max_uncompressed: int, max_ratio: int = 100
) -> str:
    """The final media type of a seekable ZIP-family file, or `UnsupportedMediaType`.

    A plain ZIP passes only when every member sniffs as an allowed type; an office document
    inside it is checked the same way, but a ZIP inside a ZIP is refused.
    """
    limits = (max_members, max_uncompressed, max_ratio)
    try:
        return _classify(file, limits, nested=False)
    except (zipfile.BadZipFile, EOFError, ValueError, zlib.error) as exc:
        raise UnsupportedMediaType("The archive is corrupt or unreadable.") from exc


def _classify(file: IO[bytes], limits: tuple[int, int, int], *, nested: bool) -> str:
    with zipfile.ZipFile(file) as archive:
        members = archive.infolist()
        _check_structure(members, *limits)
        names = {member.filename for member in members}
        if "[Content_Types].xml" in names:
            return _ooxml_type(archive, names)
        if "content.xml" in names and _odf_mimetype(archive, names) == ODT.encode():
            if any(_ODF_SCRIPTS.match(name) for name in names):
                raise UnsupportedMediaType("Documents with macros are not accepted.")
            return ODT
        if nested:
            raise UnsupportedMediaType("Archives inside archives are not accepted.")
        for member in members:
            _check_member(archive, member, limits)
        return ZIP


def _odf_mimetype(archive: zipfile.ZipFile, names: set[str]) -> bytes | None:
    if "mimetype" not in names or archive.getinfo("mimetype").file_size > _MAX_SMALL_MEMBER:
        return None
    return archive.read("mimetype")


def _check_structure(
    members: list[zipfile.ZipInfo], max_members: int, max_uncompressed: int, max_ratio: int
) -> None:
    if not members:
        raise UnsupportedMediaType("The archive is empty.")
    if len(members) > max_members:
        raise UnsupportedMediaType(f"The archive has more than {max_members} members.")
    if sum(member.file_size for member in members) > max_uncompressed:
        raise UnsupportedMediaType(f"The archive unpacks to more than {max_uncompressed} bytes.")
    for member in members:
        if member.flag_bits & 0x1:
            raise UnsupportedMediaType("Encrypted archive members are not accepted.")
        if member.compress_type not in _METHODS:
            raise UnsupportedMediaType("Only stored or deflated archive members are accepted.")
        if not _safe_member_name(member.filename):
            raise UnsupportedMediaType(f"Unsafe member name in the archive: {member.filename!r}.")
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_FLOOR and ratio > max_ratio:
            raise UnsupportedMediaType(
                f"Member {member.filename!r} is compressed {ratio:.0f}:1, above {max_ratio}:1."
            )


def _safe_member_name(name: str) -> bool:
    # zipfile's extract() would sanitise, but whoever unpacks a download may not.
    parts = re.split(r"[/\\]", name)
    return not (
        name.startswith(("/", "\\"))
        or re.match(r"[A-Za-z]:", name)
        or ".." in parts
        or "\x00" in name
    )


def _ooxml_type(archive: zipfile.ZipFile, names: set[str]) -> str:
    if archive.getinfo("[Content_Types].xml").file_size > _MAX_SMALL_MEMBER:
        raise UnsupportedMediaType("The document's [Content_Types].xml is implausibly large.")
    content_types = archive.read("[Content_Types].xml").lower()
    if b"macroenabled" in content_types or any(_ACTIVE_PART.search(name) for name in names):
        raise UnsupportedMediaType("Documents with macros or active content are not accepted.")
    if any(name.startswith("word/") for name in names):
        return DOCX
    if any(name.startswith("xl/") for name in names):
        return XLSX
    raise UnsupportedMediaType("Only Word (DOCX) and Excel (XLSX) Office documents are accepted.")


def _check_member(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, limits: tuple[int, int, int]
) -> None:
    if member.is_dir() or member.file_size == 0:
        return  # nothing in it to check
    with archive.open(member) as stream:
        head = stream.read(SNIFF_BYTES)
        sniffed = sniff(head, display_name=member.filename)
        if sniffed is None:
            raise UnsupportedMediaType(f"Archive member {member.filename!r} is of a refused type.")
        if sniffed.container:
            # zipfile members are seekable, so the inner document is read like the outer one;
            # a backward seek re-inflates the member, but an office document needs only its
            # directory and a small part or two, so that is a few passes at most.
            stream.seek(0)
            _classify(stream, limits, nested=True)
