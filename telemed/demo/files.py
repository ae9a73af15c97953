"""The demo's attachments: a lab report PDF sent whole, and a DICOM image sent by tus over a
link that drops once, then resumed from the offset the server kept."""

import asyncio
import base64
import hashlib
import io
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
from pydicom import dcmwrite
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

from telemed.demo.api import Actor, Api, StepFailed

UPLOADS = "/api/files/uploads"
TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_TYPE = {"Content-Type": "application/offset+octet-stream"}
CR_IMAGE_STORAGE = UID("1.2.840.10008.5.1.4.1.1.1")
MIB = 1024 * 1024
# The dropped link stays up this long after its last bytes, so they reach the files service
# through the gateway before the connection breaks (a real link drops mid-stream, too).
LINK_LINGER_SECONDS = 0.3
RESUME_WITHIN_SECONDS = 15.0

LAB_REPORT = [
    "Tashtagol District Hospital - clinical laboratory",
    "Troponin I (high-sensitivity): 412 ng/L (reference < 26)",
    "CK-MB: 38 U/L (reference < 25)",
    "Potassium: 4.1 mmol/L; creatinine: 96 umol/L",
    "Sampled 6 hours after the onset of chest pain.",
]


def lab_report_pdf(lines: list[str] = LAB_REPORT) -> bytes:
    """A one-page PDF with the lines as Helvetica text."""
    shown = b" T* ".join(
        b"(%s) Tj" % line.encode("latin-1").translate(None, b"()\\") for line in lines
    )
    text = b"BT /F1 11 Tf 56 780 Td 14 TL %s ET" % shown
    return pdf_document([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])  # fmt: skip


def pdf_document(objects: list[bytes]) -> bytes:
    """Numbered objects (the first is the catalog) behind a PDF header, then the
    cross-reference table of their byte offsets that readers seek by, and the trailer."""
    document, offsets = bytearray(b"%PDF-1.7\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(document))
        document += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    table = b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    count, start = len(objects) + 1, len(document)
    document += b"xref\n0 %d\n0000000000 65535 f \n%s" % (count, table)
    document += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (count, start)
    return bytes(document)


def chest_xray_dicom(side: int = 2048) -> bytes:
    """A DICOM Part 10 chest radiograph (CR), `side` x `side` 8-bit pixels of a soft gradient."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CR_IMAGE_STORAGE
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = CR_IMAGE_STORAGE, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality, ds.BodyPartExamined = "CR", "CHEST"
    ds.StudyDescription, ds.SeriesDescription = "Chest X-ray", "PA"
    ds.StudyDate, ds.StudyTime = time.strftime("%Y%m%d"), time.strftime("%H%M%S")
    ds.PatientName, ds.PatientID = "PETROV^IVAN", "MIS-42-000123"
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.Rows = ds.Columns = side
    ramp = np.add.outer(np.arange(side), np.arange(side)) * 255 // (2 * side - 2)
    ds.PixelData = ramp.astype(np.uint8).tobytes()
    buffer = io.BytesIO()
    dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()


def speed(size: int, seconds: float) -> str:
    return f"{size / MIB / max(seconds, 1e-6):.1f} MiB/s"


async def upload_whole(
    api: Api, actor: Actor, data: bytes, *, name: str, kind: str
) -> tuple[dict[str, Any], float]:
    """One request with the raw body; the server checks the sha256 we declare. The file joins
    the case when the case lists it (consult pins it then)."""
    params = {"kind": kind, "name": name, "sha256": hashlib.sha256(data).hexdigest()}
    started = time.monotonic()
    stored = await api.json(
        "POST", "/api/files/files", actor, params=params, content=data, expect=201
    )
    return stored, time.monotonic() - started


@dataclass(frozen=True)
class Resumed:
    file: dict[str, Any]
    first_patch: int  # bytes the first PATCH carried whole
    sent_before_drop: int  # bytes sent in all when the link dropped
    kept: int  # the offset the server had kept after the drop
    resume_seconds: float


def _metadata(fields: dict[str, str]) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in fields.items())


async def _patch(
    api: Api, actor: Actor, location: str, offset: int, chunk: bytes, expect: tuple[int, ...]
) -> httpx.Response:
    """Appends `chunk` at `offset` with its sha256, so a damaged PATCH is refused whole."""
    digest = base64.b64encode(hashlib.sha256(chunk).digest()).decode()
    headers = TUS | OFFSET_TYPE | {"Upload-Offset": str(offset),
                                   "Upload-Checksum": f"sha256 {digest}"}  # fmt: skip
    return await api.call("PATCH", location, actor, content=chunk, expect=expect, headers=headers)


async def _dropping_patch(
    base_url: str, location: str, actor: Actor, offset: int, part: bytes
) -> None:
    """A PATCH whose connection breaks once `part` is sent (no checksum, so the server keeps
    what arrived), on a client of its own so the broken connection is not pooled."""

    async def body() -> AsyncIterator[bytes]:
        for start in range(0, len(part), MIB):
            yield part[start : start + MIB]
        await asyncio.sleep(LINK_LINGER_SECONDS)
        raise ConnectionResetError("the demo's link dropped")

    headers = actor.headers | TUS | OFFSET_TYPE | {"Upload-Offset": str(offset)}
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as link:
        try:
            response = await link.patch(location, content=body(), headers=headers)
        except (httpx.HTTPError, ConnectionResetError):
            return
    raise StepFailed(f"the interrupted PATCH was answered all the same ({response.status_code})")


async def upload_resumably(api: Api, actor: Actor, data: bytes, *, name: str, kind: str) -> Resumed:
    """tus creation; a first third in one PATCH; a PATCH of the second third cut off by a
    dropped link; then HEAD and a PATCH of the rest from wherever the server says it is."""
    fields = {"filename": name, "kind": kind, "sha256": hashlib.sha256(data).hexdigest()}
    created = await api.call(
        "POST", UPLOADS, actor, expect=201,
        headers=TUS | {"Upload-Length": str(len(data)), "Upload-Metadata": _metadata(fields)},
    )  # fmt: skip
    location, third = created.headers["Location"], len(data) // 3
    await _patch(api, actor, location, 0, data[:third], expect=(204,))
    base_url = str(api.client.base_url)
    await _dropping_patch(base_url, location, actor, third, data[third : 2 * third])
    deadline = time.monotonic() + RESUME_WITHIN_SECONDS
    while True:
        # Until the server has noticed the drop, the broken PATCH still holds the upload and a
        # new one gets 409; a tus client asks the offset again and retries.
        head = await api.call("HEAD", location, actor, headers=TUS)
        kept = int(head.headers["Upload-Offset"])
        started = time.monotonic()
        response = await _patch(api, actor, location, kept, data[kept:], expect=(204, 409))
        if response.status_code == 204:
            break
        if time.monotonic() > deadline:
            raise StepFailed(f"the upload could not be resumed within {RESUME_WITHIN_SECONDS} s")
        await asyncio.sleep(0.1)
    seconds = time.monotonic() - started
    state = await api.json("GET", location, actor)
    if state.get("status") != "completed" or not state.get("file_id"):
        raise StepFailed(f"the upload did not complete: {state}")
    stored = await api.json("GET", f"/api/files/files/{state['file_id']}", actor)
    return Resumed(stored, third, 2 * third, kept, seconds)
