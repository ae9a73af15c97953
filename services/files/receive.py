"""Receiving one whole file in one request: stream it to the store, check it, then record it.

The record is written only after the object is stored, its size confirmed by the store and its
content inspected; anything that fails on the way removes what was stored.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from services.common.errors import ServiceUnavailable, Unprocessable
from services.files.containers import classify_container
from services.files.dicom import read_metadata
from services.files.ingest import Intake, PartWriter
from services.files.settings import FilesSettings
from services.files.sniffing import Sniffed
from services.files.storage import ObjectStore

logger = logging.getLogger("telemed.files")
STORED_TYPE = "application/octet-stream"  # downloads always say the sniffed type themselves
DICOM = "application/dicom"


@dataclass(frozen=True)
class Received:
    key: str
    size: int
    sha256: str
    media_type: str
    dicom: dict[str, Any] | None


def checksum_mismatch(expected: str, actual: str) -> Unprocessable:
    return Unprocessable(
        "The file's sha256 does not match the one sent with it; nothing was kept.",
        expected_sha256=expected,
        actual_sha256=actual,
    )


async def receive(
    store: ObjectStore,
    settings: FilesSettings,
    key: str,
    body: AsyncIterator[bytes],
    display_name: str,
) -> Received:
    intake = Intake(limit=settings.max_file_size, display_name=display_name)
    writer = PartWriter(store, key, STORED_TYPE, settings.part_size)
    try:
        async for chunk in body:
            intake.accept(chunk)
            await writer.write(chunk)
        if intake.received == 0:
            raise Unprocessable("The file is empty.")
        sniffed = intake.identify()
        await writer.finish()
        await confirm_size(store, key, intake.received)
        media_type, dicom = await inspect_stored(store, settings, key, intake.received, sniffed)
    except BaseException:
        await writer.discard()
        await remove_quietly(store, key)
        raise
    return Received(key, intake.received, intake.sha256, media_type, dicom)


async def confirm_size(store: ObjectStore, key: str, expected: int) -> None:
    stored = await store.size(key)
    if stored != expected:
        logger.error("store kept %s bytes of %s for %s", stored, expected, key)
        raise ServiceUnavailable("The store did not keep the whole file; send it again.")


async def inspect_stored(
    store: ObjectStore, settings: FilesSettings, key: str, size: int, sniffed: Sniffed
) -> tuple[str, dict[str, Any] | None]:
    """Checks what sniffing the first bytes cannot: archive members, and DICOM headers."""
    if sniffed.container:

        def classify() -> str:
            with store.reader(key, size) as handle:
                return classify_container(handle, max_uncompressed=settings.max_file_size)

        return await asyncio.to_thread(classify), None
    if sniffed.media_type == DICOM:

        def header() -> dict[str, Any]:
            with store.reader(key, size) as handle:
                return read_metadata(handle).model_dump(mode="json")

        return DICOM, await asyncio.to_thread(header)
    return sniffed.content_type, None


async def remove_quietly(store: ObjectStore, key: str) -> None:
    """Best-effort removal of an object we will not record; a leftover is logged, not fatal."""
    try:
        await asyncio.shield(store.delete(key))
    except Exception:
        logger.exception("could not remove the unrecorded object %s", key)
