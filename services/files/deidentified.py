"""The de-identified copy of a DICOM file, made on the fly: a new header, the original pixels."""

import asyncio

from starlette.responses import StreamingResponse

from services.files.dicom import DeidentifiedHeader, deidentify_header
from services.files.downloads import concatenated, safe_headers
from services.files.models import StoredFile
from services.files.storage import ObjectStore


async def deidentified_response(
    store: ObjectStore, record: StoredFile, uid_salt: bytes
) -> StreamingResponse:
    def rewrite() -> DeidentifiedHeader:
        with store.reader(record.object_key, record.size) as handle:
            return deidentify_header(handle, uid_salt=uid_salt)

    rewritten = await asyncio.to_thread(rewrite)
    header, start, stop = rewritten.header, rewritten.pixel_data_offset, rewritten.pixel_data_end
    # The uploaded name often carries the patient's; the copy gets a neutral one.
    neutral = f"{record.id}-deidentified.dcm"
    headers = safe_headers(record, inline=False, name=neutral) | {
        "Content-Length": str(len(header) + stop - start)
    }
    return StreamingResponse(
        # Only the pixel data follows the new header: whatever trails it may identify.
        concatenated(header, store.read(record.object_key, start, stop)),
        media_type="application/dicom",
        headers=headers,
    )
