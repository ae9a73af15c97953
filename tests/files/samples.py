"""Sample files of every type the files service meets, built in code: no binary fixtures.

Each factory returns the bytes of a small file whose header is real enough for sniffing and
parsing; bodies are minimal. `dicom_dataset` gives the pydicom dataset for tests that tweak it
before `encode`.
"""

import io
import struct
import zipfile
import zlib

from pydicom import dcmwrite
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import UID, ExplicitVRLittleEndian

CR_IMAGE_STORAGE = UID("1.2.840.10008.5.1.4.1.1.1")
STUDY_UID = "1.2.826.0.1.3680043.8.498.10001"
SERIES_UID = "1.2.826.0.1.3680043.8.498.10002"
SOP_UID = "1.2.826.0.1.3680043.8.498.10003"
REFERENCED_UID = "1.2.826.0.1.3680043.8.498.10009"
PATIENT_NAME = "Иванов^Иван"
PRIVATE_CREATOR = "ACME RIS 1.0"


def pixel_pattern(length: int) -> bytes:
    """Recognisable pixel bytes: a slice of a 251-byte ramp."""
    return bytes(i % 251 for i in range(length))


def dicom_dataset(
    *,
    patient_name: str = PATIENT_NAME,
    study_instance_uid: str = STUDY_UID,
    sop_instance_uid: str = SOP_UID,
    pixel_bytes_len: int = 512,
    transfer_syntax: str = ExplicitVRLittleEndian,
) -> Dataset:
    """A CR image full of identifying attributes (see `dicom_bytes`)."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CR_IMAGE_STORAGE
    meta.MediaStorageSOPInstanceUID = UID(sop_instance_uid)
    meta.TransferSyntaxUID = UID(transfer_syntax)
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = CR_IMAGE_STORAGE
    ds.SOPInstanceUID = sop_instance_uid
    ds.StudyInstanceUID = study_instance_uid
    ds.SeriesInstanceUID = SERIES_UID
    ds.FrameOfReferenceUID = "1.2.826.0.1.3680043.8.498.10004"
    ds.StudyDate, ds.StudyTime, ds.ContentDate = "20240131", "093000", "20240131"
    ds.AccessionNumber, ds.StudyID = "ACC-2024-0001", "S1"
    ds.Modality, ds.BodyPartExamined = "CR", "CHEST"
    ds.StudyDescription, ds.SeriesDescription = "Chest X-ray", "PA"
    ds.InstitutionName = "Central District Hospital"
    ds.InstitutionAddress = "Lenina 1, Yakutsk"
    ds.ReferringPhysicianName = "Petrov^Petr"
    ds.OperatorsName = "Sidorova^Anna"
    ds.PatientName = patient_name
    ds.PatientID = "PID-0042"
    ds.PatientBirthDate, ds.PatientSex = "19600131", "M"
    ds.PatientAddress = "Oktyabrskaya 5-12, Mirny"
    reference = Dataset()
    reference.ReferencedSOPClassUID = CR_IMAGE_STORAGE
    reference.ReferencedSOPInstanceUID = REFERENCED_UID
    ds.ReferencedImageSequence = [reference]
    ds.private_block(0x0009, PRIVATE_CREATOR, create=True).add_new(0x01, "LO", "VIP patient")
    ds.add_new(0x60000022, "LO", "Ivanov I.")  # Overlay Description
    ds.add_new(0x60003000, "OW", b"\x00\x01" * 8)  # Overlay Data
    ds.add_new(0x50003000, "OB", b"curve data")  # Curve Data (retired)
    _add_pixels(ds, pixel_bytes_len, UID(transfer_syntax))
    return ds


def _add_pixels(ds: Dataset, length: int, transfer_syntax: UID) -> None:
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    if transfer_syntax.is_compressed:
        # Two fake JPEG frames: marker-shaped bytes around a ramp, never decoded.
        frames = [b"\xff\xd8" + pixel_pattern(length // 2) + b"\xff\xd9" for _ in range(2)]
        ds.Rows, ds.Columns, ds.NumberOfFrames = 16, 16, 2
        ds.PixelData = encapsulate(frames)
        ds["PixelData"].VR = "OB"
    else:
        ds.Rows, ds.Columns = 1, length
        ds.PixelData = pixel_pattern(length)


def encode(ds: Dataset) -> bytes:
    """A dataset as Part 10 bytes (preamble, file meta, dataset) in its file meta's syntax."""
    buffer = io.BytesIO()
    dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()


def dicom_bytes(
    *,
    patient_name: str = PATIENT_NAME,
    study_instance_uid: str = STUDY_UID,
    sop_instance_uid: str = SOP_UID,
    pixel_bytes_len: int = 512,
    transfer_syntax: str = ExplicitVRLittleEndian,
) -> bytes:
    """A DICOM Part 10 CR image with patient, physician, institution, private, overlay and curve
    attributes. Native syntaxes carry `pixel_bytes_len` (even, ≤ 65534) pixel bytes in one row;
    compressed ones two encapsulated fake frames of about half that each."""
    return encode(
        dicom_dataset(
            patient_name=patient_name,
            study_instance_uid=study_instance_uid,
            sop_instance_uid=sop_instance_uid,
            pixel_bytes_len=pixel_bytes_len,
            transfer_syntax=transfer_syntax,
        )
    )


def pdf_bytes() -> bytes:
    """A one-page PDF 1.7 with a correct cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes() -> bytes:
    """A valid 1x1 greyscale PNG."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00\x80"))
        + _png_chunk(b"IEND", b"")
    )


def jpeg_bytes() -> bytes:
    """A JFIF header (SOI, APP0, comment) and EOI; no scan data."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    comment = b"telemed sample"
    return (
        b"\xff\xd8"
        + b"\xff\xe0"
        + struct.pack(">H", len(app0) + 2)
        + app0
        + b"\xff\xfe"
        + struct.pack(">H", len(comment) + 2)
        + comment
        + b"\xff\xd9"
    )


def tiff_bytes(*, big_endian: bool = False) -> bytes:
    """A TIFF header and one IFD (width, height, bits per sample) in either byte order."""
    order = ">" if big_endian else "<"
    entries = [(256, 3, 1, 1), (257, 3, 1, 1), (258, 3, 1, 8)]  # tag, SHORT, count, value
    ifd = struct.pack(f"{order}H", len(entries))
    ifd += b"".join(struct.pack(f"{order}HHIH2x", *entry) for entry in entries)
    ifd += struct.pack(f"{order}I", 0)
    return (b"MM" if big_endian else b"II") + struct.pack(f"{order}HI", 42, 8) + ifd


def zip_of(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A ZIP archive of `members` (name -> content), in the given order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Target="%s" Type="http://schemas.openxmlformats.org/'
    b'officeDocument/2006/relationships/officeDocument"/></Relationships>'
)


def _content_types(part: bytes, content_type: bytes) -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        b'<Default Extension="rels" ContentType="application/'
        b'vnd.openxmlformats-package.relationships+xml"/>'
        b'<Override PartName="/%s" ContentType="%s"/></Types>' % (part, content_type)
    )


def docx_bytes(*, macros: bool = False) -> bytes:
    """A Word document; with `macros`, a macro-enabled one (DOCM) with a VBA project."""
    main_type = (
        b"application/vnd.ms-word.document.macroEnabled.main+xml"
        if macros
        else b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    )
    members = {
        "[Content_Types].xml": _content_types(b"word/document.xml", main_type),
        "_rels/.rels": _RELS % b"word/document.xml",
        "word/document.xml": b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.'
        b'openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>'
        + "Выписка".encode()
        + b"</w:t></w:r></w:p></w:body></w:document>",
    }
    if macros:
        members["word/vbaProject.bin"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    return zip_of(members)


def xlsx_bytes() -> bytes:
    """An Excel workbook with one sheet."""
    main_type = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    ns = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    return zip_of(
        {
            "[Content_Types].xml": _content_types(b"xl/workbook.xml", main_type),
            "_rels/.rels": _RELS % b"xl/workbook.xml",
            "xl/workbook.xml": b"<workbook %s><sheets><sheet name='1' sheetId='1'/></sheets>"
            b"</workbook>" % ns,
            "xl/worksheets/sheet1.xml": b"<worksheet %s><sheetData/></worksheet>" % ns,
        }
    )


def odt_bytes(
    *, mimetype: bytes = b"application/vnd.oasis.opendocument.text", macros: bool = False
) -> bytes:
    """An OpenDocument file: `mimetype` stored first, as ODF requires; `macros` adds Basic/."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        archive.writestr(
            "META-INF/manifest.xml",
            b'<?xml version="1.0"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
            b'opendocument:xmlns:manifest:1.0"/>',
        )
        archive.writestr(
            "content.xml",
            b'<?xml version="1.0"?><office:document-content xmlns:office="urn:oasis:names:tc:'
            b'opendocument:xmlns:office:1.0"/>',
        )
        if macros:
            archive.writestr("Basic/Standard/Module1.xml", b"<script/>")
    return buffer.getvalue()


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4_bytes(*, brand: bytes = b"isom") -> bytes:
    """An ISO BMFF file: `ftyp` with the given major brand, then `free` and a small `mdat`."""
    ftyp = brand + struct.pack(">I", 512) + b"isomiso2avc1mp41"
    return _box(b"ftyp", ftyp) + _box(b"free", b"") + _box(b"mdat", bytes(64))


def _ebml(element: bytes, payload: bytes) -> bytes:
    return element + bytes([0x80 | len(payload)]) + payload  # sizes here are < 127


def webm_bytes(*, doctype: bytes = b"webm") -> bytes:
    """An EBML header with the given DocType, then the start of an unknown-size Segment."""
    header = (
        _ebml(b"\x42\x86", b"\x01")  # EBMLVersion
        + _ebml(b"\x42\xf7", b"\x01")  # EBMLReadVersion
        + _ebml(b"\x42\xf2", b"\x04")  # EBMLMaxIDLength
        + _ebml(b"\x42\xf3", b"\x08")  # EBMLMaxSizeLength
        + _ebml(b"\x42\x82", doctype)
        + _ebml(b"\x42\x87", b"\x04")  # DocTypeVersion
        + _ebml(b"\x42\x85", b"\x02")  # DocTypeReadVersion
    )
    return _ebml(b"\x1a\x45\xdf\xa3", header) + b"\x18\x53\x80\x67\x01" + b"\xff" * 7


def wav_bytes() -> bytes:
    """A RIFF/WAVE header of 8 kHz mono 16-bit PCM and a few silent samples: a call recording."""
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    data = bytes(64)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def ogg_bytes() -> bytes:
    """An Ogg page (capture pattern, version, beginning of stream) starting an Opus stream."""
    return b"OggS\x00\x02" + bytes(20) + b"\x01\x13" + b"OpusHead" + bytes(11)


def mp3_bytes(*, tagged: bool = True) -> bytes:
    """An MP3: an ID3v2 tag then a frame, or the frame alone (MPEG-1 layer III, 128 kbit/s)."""
    frame = b"\xff\xfb\x90\x64" + bytes(413)
    return (b"ID3\x04\x00\x00" + bytes(4) + frame) if tagged else frame


def windows_executable() -> bytes:
    """A PE32+ header: DOS stub with `e_lfanew`, "PE\\0\\0" and a COFF header for x86-64."""
    dos = bytearray(0x80)
    dos[0:2] = b"MZ"
    dos[0x3C:0x40] = struct.pack("<I", 0x80)
    stub = b"This program cannot be run in DOS mode.\r\r\n$"
    dos[0x40 : 0x40 + len(stub)] = stub
    coff = struct.pack("<HHIIIHH", 0x8664, 1, 0, 0, 0, 0xF0, 0x22)
    return bytes(dos) + b"PE\x00\x00" + coff + bytes(256)


def elf_executable() -> bytes:
    """A 64-bit little-endian ELF header of an x86-64 executable."""
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    return ident + struct.pack("<HHIQQQIHHHHHH", 2, 0x3E, 1, 0x401000, 64, 0, 0, 64, 56, 0, 0, 0, 0)


def csv_bytes(*, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    """Lab results as CSV, with a header row and Cyrillic test names."""
    rows = [
        ["date", "test", "value", "unit"],
        ["2024-01-31", "Гемоглобин", "135", "g/L"],
        ["2024-01-31", "Лейкоциты", "6.1", "10^9/L"],
        ["2024-02-07", "СОЭ", "12", "mm/h"],
    ]
    return "".join(delimiter.join(row) + "\r\n" for row in rows).encode(encoding)


def cp1251_text() -> bytes:
    """A Russian record extract in Windows-1251, as older clinic software writes it."""
    text = (
        "Выписка из медицинской карты амбулаторного больного № 1234\r\n"
        "Пациент: Иванов Иван Иванович, дата рождения 31.01.1960\r\n"
        "Диагноз: «Внебольничная пневмония» — состояние удовлетворительное.\r\n"
    )
    return text.encode("cp1251")
