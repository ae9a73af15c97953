"""DICOM Part 10 headers: metadata for the file record, and PS3.15 Basic Profile de-identification.

Pixel data is never loaded. De-identification rewrites the header only and tells the caller which
byte range of the original holds the pixel data, so a download streams `header` followed by
`original[pixel_data_offset:pixel_data_end]`.

The Basic Application Level Confidentiality Profile is applied to every attribute, in sequences
too, with these decisions where the profile leaves a choice:
- a compound action keeps the attribute when IOD conformance may need it: X/Z -> Z; X/D, Z/D and
  X/Z/D -> D; X/Z/U* (Referenced/Source Image Sequence) keeps the sequence, whose UIDs are then
  replaced like any other;
- D on a sequence becomes one empty item; D on a UID is a replaced UID;
- whole overlay groups (60xx) are removed, not only Overlay Data and Comments, because Overlay
  Data is Type 1 in its module and Overlay Description and Label are free text;
- a file that declares Burned In Annotation YES is refused: its identity is in the pixels.
No option of PS3.15 E.3 is applied (no Clean Pixel Data, retained dates, UIDs, device or
institution identity, safe private attributes or clean descriptors).
"""

import hashlib
import hmac
import io
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, BinaryIO

from pydantic import BaseModel, ConfigDict
from pydicom import dcmread
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset, write_file_meta_info
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID

from services.common.errors import UnsupportedMediaType
from services.files.deid_profile import BASIC_PROFILE

_RESOLVED = {"X": "X", "Z": "Z", "D": "D", "U": "U"}
_RESOLVED |= {"X/Z": "Z", "X/D": "D", "Z/D": "D", "X/Z/D": "D", "X/Z/U*": "K"}
_ACTIONS = {tag: _RESOLVED[code] for tag, code in BASIC_PROFILE.items()}

_TEXT_DUMMIES = {"DA": "19000101", "TM": "000000", "DT": "19000101000000", "AS": "000Y"}
_TEXT_DUMMIES |= {"DS": "0", "IS": "0"}
_TEXT_VRS = {"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UR", "UT"}
_NUMBER_VRS = {"AT", "FD", "FL", "SL", "SS", "SV", "UL", "US", "UV"}

# The dataset of these is deflated as a whole, so no byte of it lines up with the original file.
_DEFLATED = {"1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.4.95", "1.2.840.10008.1.2.4.205"}
_PIXEL_TAGS = {0x7FE00008, 0x7FE00009, 0x7FE00010}  # Float, Double Float and Pixel Data
_ITEM, _SEQUENCE_END = 0xFFFEE000, 0xFFFEE0DD
_UNDEFINED_LENGTH = 0xFFFFFFFF
_MAX_TEXT = 256  # DICOM's own limit is 64 for these VRs; bound what a hostile file can store

METHOD = "DICOM PS3.15 Basic Profile, header only"


class DicomMetadata(BaseModel):
    """What the file record keeps of a DICOM header: study and series facts, no identities."""

    model_config = ConfigDict(frozen=True)

    sop_class_uid: str
    transfer_syntax_uid: str
    study_instance_uid: str | None = None
    series_instance_uid: str | None = None
    modality: str | None = None
    study_date: date | None = None
    study_description: str | None = None
    series_description: str | None = None
    body_part_examined: str | None = None
    rows: int | None = None
    columns: int | None = None
    number_of_frames: int | None = None


@dataclass(frozen=True, slots=True)
class DeidentifiedHeader:
    """A de-identified Part 10 header and where the original's pixel data lies."""

    header: bytes
    pixel_data_offset: int  # start of the first Pixel Data element, or the file length
    pixel_data_end: int  # end of the last one; what follows (private, signatures) is dropped


def read_metadata(file: BinaryIO) -> DicomMetadata:
    """Study, series and image facts of a Part 10 file, or `UnsupportedMediaType`."""
    dataset = _read_header(file)
    with _refused_when_broken():
        sop_class = _text(dataset.file_meta, "MediaStorageSOPClassUID")
        transfer_syntax = _text(dataset.file_meta, "TransferSyntaxUID")
        if not (sop_class and transfer_syntax):
            raise UnsupportedMediaType("The DICOM file meta lacks its SOP class or syntax.")
        return DicomMetadata(
            sop_class_uid=sop_class,
            transfer_syntax_uid=transfer_syntax,
            study_instance_uid=_text(dataset, "StudyInstanceUID"),
            series_instance_uid=_text(dataset, "SeriesInstanceUID"),
            modality=_text(dataset, "Modality"),
            study_date=_date(_text(dataset, "StudyDate")),
            study_description=_text(dataset, "StudyDescription"),
            series_description=_text(dataset, "SeriesDescription"),
            body_part_examined=_text(dataset, "BodyPartExamined"),
            rows=_number(dataset, "Rows"),
            columns=_number(dataset, "Columns"),
            number_of_frames=_number(dataset, "NumberOfFrames"),
        )


def deidentify_header(file: BinaryIO, *, uid_salt: bytes) -> DeidentifiedHeader:
    """The Basic Profile applied to the header of a Part 10 file; pixel data is left in place.

    UIDs become `2.25.<n>` with n derived from (uid_salt, UID), so files of one study de-identified
    with one salt still refer to each other. Raises `UnsupportedMediaType`.
    """
    dataset = _read_header(file)
    offset = file.tell()  # pydicom rewinds to the start of the element it stopped before
    size = file.seek(0, io.SEEK_END)
    with _refused_when_broken():
        transfer_syntax = str(dataset.file_meta.TransferSyntaxUID)
        if transfer_syntax in _DEFLATED:
            raise UnsupportedMediaType("Deflated DICOM files cannot be de-identified.")
        if str(dataset.get("BurnedInAnnotation", "")).strip().upper() == "YES":
            raise UnsupportedMediaType(
                "The image has identifying text burned into its pixels; it cannot be "
                "de-identified by its header."
            )
        implicit, little = (bool(flag) for flag in dataset.original_encoding)
        end = _pixel_data_end(file, offset, size, implicit=implicit, little=little)
        _clean(dataset, uid_salt)
        _mark_deidentified(dataset)
        buffer = DicomBytesIO()
        buffer.write(b"\x00" * 128 + b"DICM")  # a zero preamble: the original's may be a PE
        write_file_meta_info(buffer, _file_meta(dataset, transfer_syntax, uid_salt))
        buffer.is_implicit_VR, buffer.is_little_endian = implicit, little
        write_dataset(buffer, dataset)
    return DeidentifiedHeader(buffer.getvalue(), pixel_data_offset=offset, pixel_data_end=end)


@contextmanager
def _refused_when_broken() -> Iterator[None]:
    """Any failure to parse becomes a 415: pydicom, struct and zlib raise many kinds."""
    try:
        yield
    except UnsupportedMediaType:
        raise
    except Exception as exc:
        raise UnsupportedMediaType("The file is not a readable DICOM Part 10 file.") from exc


def _read_header(file: BinaryIO) -> FileDataset:
    file.seek(0)
    with _refused_when_broken():
        # force=False: without the preamble and "DICM" it is not Part 10, whatever it resembles.
        return dcmread(file, stop_before_pixels=True)


def _text(dataset: Dataset, keyword: str) -> str | None:
    value = dataset.get(keyword)
    text = "\\".join(map(str, value)) if isinstance(value, MultiValue) else str(value or "")
    return text.strip(" \x00")[:_MAX_TEXT] or None


def _number(dataset: Dataset, keyword: str) -> int | None:
    value = dataset.get(keyword)
    return int(value) if value not in (None, "") else None


def _date(value: str | None) -> date | None:
    try:
        return datetime.strptime(value or "", "%Y%m%d").date()
    except ValueError:
        return None  # an empty or non-DICOM date is no reason to refuse an image


def _pixel_data_end(file: BinaryIO, offset: int, size: int, *, implicit: bool, little: bool) -> int:
    """The end of the run of pixel data elements starting at `offset`, read by headers only."""
    endian = "<" if little else ">"
    position = offset
    while position + 8 <= size:
        file.seek(position)
        group, element, length = _element_header(file, endian, implicit=implicit)
        if (group << 16 | element) not in _PIXEL_TAGS:
            break
        position = file.tell()
        if length != _UNDEFINED_LENGTH:
            position += length
            continue
        while True:  # encapsulated: fragments in items up to a sequence delimiter
            file.seek(position)
            group, element, length = struct.unpack(f"{endian}HHL", _read(file, 8))
            position += 8
            if group << 16 | element == _SEQUENCE_END:
                break
            if group << 16 | element != _ITEM:
                raise UnsupportedMediaType("The encapsulated pixel data is malformed.")
            position += length
    if position > size:
        raise UnsupportedMediaType("The pixel data is truncated.")
    return position


def _element_header(file: BinaryIO, endian: str, *, implicit: bool) -> tuple[int, int, int]:
    if implicit:
        group, element, length = struct.unpack(f"{endian}HHL", _read(file, 8))
    else:  # pixel data VRs (OB, OW, OF, OD) all use the long form: VR, 2 reserved, 4-byte length
        group, element, _, length = struct.unpack(f"{endian}HH4sL", _read(file, 12))
    return group, element, length


def _read(file: BinaryIO, count: int) -> bytes:
    data = file.read(count)
    if len(data) != count:
        raise UnsupportedMediaType("The pixel data is truncated.")
    return data


def _action(tag: BaseTag) -> str:
    if tag.is_private or tag.element == 0 or tag.group & 0xFF00 in (0x5000, 0x6000):
        return "X"  # private, retired group lengths, curves, overlays
    return _ACTIONS.get(int(tag), "K")


def _clean(dataset: Dataset, salt: bytes) -> None:
    for tag in list(dataset.keys()):
        action = _action(tag)
        if action == "X":
            del dataset[tag]
            continue
        element = dataset[tag]
        if element.VR == "UI" and action in ("U", "D"):
            element.value = _replace_uids(element.value, salt)
        elif action == "U":
            del dataset[tag]  # a UID the file mis-encodes: nothing safe to replace it with
        elif action == "Z":
            element.value = Sequence() if element.VR == "SQ" else None
        elif action == "D":
            element.value = _dummy(element)
        elif element.VR == "SQ":
            for item in element.value:
                _clean(item, salt)


def _dummy(element: DataElement) -> Any:
    if element.VR == "SQ":
        return Sequence([Dataset()])
    if element.VR in _TEXT_DUMMIES:
        return _TEXT_DUMMIES[element.VR]
    if element.VR in _TEXT_VRS:
        return "ANONYMIZED"
    if element.VR in _NUMBER_VRS:
        return 0
    return b"\x00" * 8  # OB, OD, OF, OL, OV, OW, UN: a multiple of every item size


def _replace_uids(value: Any, salt: bytes) -> Any:
    if isinstance(value, MultiValue):
        return [_new_uid(str(uid), salt) for uid in value]
    return _new_uid(str(value), salt) if value else value


def _new_uid(uid: str, salt: bytes) -> str:
    """`2.25.` and a UUIDv8 (RFC 9562) keyed on the salt, so one UID always maps to one UID."""
    digest = bytearray(hmac.new(salt, uid.strip(" \x00").encode(), hashlib.sha256).digest()[:16])
    digest[6] = digest[6] & 0x0F | 0x80
    digest[8] = digest[8] & 0x3F | 0x80
    return f"2.25.{int.from_bytes(digest, 'big')}"


def _mark_deidentified(dataset: Dataset) -> None:
    dataset.PatientIdentityRemoved = "YES"
    dataset.DeidentificationMethod = METHOD
    code = Dataset()
    code.CodeValue = "113100"
    code.CodingSchemeDesignator = "DCM"
    code.CodeMeaning = "Basic Application Confidentiality Profile"
    dataset.DeidentificationMethodCodeSequence = Sequence([code])


def _file_meta(dataset: Dataset, transfer_syntax: str, salt: bytes) -> FileMetaDataset:
    original = dataset.file_meta
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = original.MediaStorageSOPClassUID
    meta.MediaStorageSOPInstanceUID = UID(
        dataset.get("SOPInstanceUID") or _new_uid(str(original.MediaStorageSOPInstanceUID), salt)
    )
    meta.TransferSyntaxUID = UID(transfer_syntax)
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    return meta
