"""The S3 store: MinIO in production, through the `minio` SDK, always by keyword arguments.

Resumable uploads need a multipart upload that lives across requests, which the SDK's public
`put_object` cannot do, so they use its lower-level multipart calls; pyproject pins the SDK
below 7.3 for that reason and this module is the only place that touches them.
"""

import io
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import urllib3
from minio import Minio
from minio.commonconfig import ENABLED, Filter
from minio.datatypes import Part as S3Part
from minio.error import S3Error
from minio.lifecycleconfig import AbortIncompleteMultipartUpload, LifecycleConfig, Rule
from minio.sseconfig import Rule as EncryptionRule
from minio.sseconfig import SSEConfig
from minio.versioningconfig import VersioningConfig

from services.files.settings import FilesSettings
from services.files.storage import READ_CHUNK, Part, ThreadedStore, check_key

logger = logging.getLogger("telemed.files.s3")
MISSING = {"NoSuchKey", "NoSuchUpload", "NoSuchObject"}
RULE_ID = "abort-abandoned-uploads"


class S3Store(ThreadedStore):
    name = "s3"

    def __init__(self, settings: FilesSettings, threads: int = 16) -> None:
        super().__init__(threads)
        self.bucket = settings.s3_bucket
        self._settings = settings
        http = urllib3.PoolManager(
            maxsize=threads,
            timeout=urllib3.Timeout(connect=settings.http_connect_timeout, read=60.0),
            retries=urllib3.Retry(total=3, backoff_factor=0.2, status_forcelist=(500, 502, 503)),
        )
        credentials: dict[str, Any] = {
            "access_key": settings.s3_access_key,
            "secret_key": settings.s3_secret_key.get_secret_value(),
            "region": settings.s3_region,  # known up front, so no request asks the server
        }
        self.client = Minio(
            endpoint=settings.s3_endpoint,
            secure=settings.s3_secure,
            http_client=http,
            **credentials,
        )
        public = urlsplit(settings.s3_public_endpoint) if settings.s3_public_endpoint else None
        # Signing only: a presigned URL is computed locally for the host a browser will use.
        self._signer = (
            Minio(endpoint=public.netloc, secure=public.scheme == "https", **credentials)
            if public
            else self.client
        )

    def _abort_abandoned_uploads(self) -> None:
        """Adds our rule to the bucket's lifecycle, keeping the rules its operators set."""
        current = self.client.get_bucket_lifecycle(bucket_name=self.bucket)
        kept = [rule for rule in (current.rules if current else []) if rule.rule_id != RULE_ID]
        ours = Rule(
            ENABLED,
            rule_filter=Filter(prefix=""),
            rule_id=RULE_ID,
            abort_incomplete_multipart_upload=AbortIncompleteMultipartUpload(
                days_after_initiation=7
            ),
        )
        self.client.set_bucket_lifecycle(
            bucket_name=self.bucket, config=LifecycleConfig([*kept, ours])
        )

    async def prepare(self) -> None:
        await self._run(self._prepare)

    def _prepare(self) -> None:
        if not self.client.bucket_exists(bucket_name=self.bucket):
            self.client.make_bucket(bucket_name=self.bucket)
        settings = self._settings
        optional: dict[str, tuple[bool, Callable[[], object]]] = {
            "server-side encryption": (
                settings.s3_server_side_encryption,
                lambda: self.client.set_bucket_encryption(
                    bucket_name=self.bucket, config=SSEConfig(EncryptionRule.new_sse_s3_rule())
                ),
            ),
            "versioning": (
                settings.s3_versioning,
                lambda: self.client.set_bucket_versioning(
                    bucket_name=self.bucket, config=VersioningConfig(ENABLED)
                ),
            ),
            # A safety net under the service's own clean-up: parts of a multipart upload the
            # service lost track of (a crash between S3 and the database) go after a week.
            "abandoned multipart clean-up": (True, self._abort_abandoned_uploads),
        }
        for feature, (wanted, switch_on) in optional.items():
            if not wanted:
                continue
            try:
                switch_on()
            except S3Error as exc:
                logger.warning("the object store does not support %s: %s", feature, exc.code)

    async def ping(self) -> None:
        if not await self._run(lambda: self.client.bucket_exists(bucket_name=self.bucket)):
            raise OSError(f"bucket {self.bucket} is missing")

    async def put(self, key: str, data: bytes, media_type: str) -> None:
        await self._run(
            lambda: self.client.put_object(
                bucket_name=self.bucket,
                object_name=check_key(key),
                data=io.BytesIO(data),
                length=len(data),
                content_type=media_type,
            )
        )

    async def start_multipart(self, key: str, media_type: str) -> str:
        upload_id: str = await self._run(
            lambda: self.client._create_multipart_upload(
                bucket_name=self.bucket,
                object_name=check_key(key),
                headers={"Content-Type": media_type},
            )
        )
        return upload_id

    async def put_part(self, key: str, upload_id: str, number: int, data: bytes) -> Part:
        etag: str = await self._run(
            lambda: self.client._upload_part(
                bucket_name=self.bucket,
                object_name=check_key(key),
                data=data,
                headers=None,
                upload_id=upload_id,
                part_number=number,
            )
        )
        return Part(number=number, etag=etag, size=len(data))

    async def complete_multipart(self, key: str, upload_id: str, parts: Sequence[Part]) -> None:
        await self._run(
            lambda: self.client._complete_multipart_upload(
                bucket_name=self.bucket,
                object_name=check_key(key),
                upload_id=upload_id,
                parts=[S3Part(part_number=part.number, etag=part.etag) for part in parts],
            )
        )

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        try:
            await self._run(
                lambda: self.client._abort_multipart_upload(
                    bucket_name=self.bucket, object_name=check_key(key), upload_id=upload_id
                )
            )
        except S3Error as exc:
            if exc.code not in MISSING:
                raise

    async def size(self, key: str) -> int | None:
        try:
            stat = await self._run(
                lambda: self.client.stat_object(bucket_name=self.bucket, object_name=check_key(key))
            )
        except S3Error as exc:
            if exc.code in MISSING:
                return None
            raise
        return stat.size

    async def read(self, key: str, start: int = 0, stop: int | None = None) -> AsyncIterator[bytes]:
        length = 0 if stop is None else stop - start
        if stop is not None and length <= 0:
            return
        response = await self._run(
            lambda: self.client.get_object(
                bucket_name=self.bucket, object_name=check_key(key), offset=start, length=length
            )
        )
        try:
            chunks = response.stream(READ_CHUNK)
            while chunk := await self._run(next, chunks, b""):
                yield chunk
        finally:
            response.close()
            response.release_conn()

    def reader(self, key: str, size: int) -> BinaryIO:
        return io.BufferedReader(_RangeReader(self, check_key(key), size), buffer_size=256 * 1024)

    async def delete(self, key: str) -> None:
        await self._run(
            lambda: self.client.remove_object(bucket_name=self.bucket, object_name=check_key(key))
        )

    def presigned_url(
        self,
        key: str,
        lifetime: timedelta,
        *,
        filename_header: str,
        media_type: str,
        signed_at: datetime | None = None,
    ) -> str | None:
        url: str = self._signer.presigned_get_object(
            bucket_name=self.bucket,
            object_name=check_key(key),
            expires=lifetime,
            response_headers={
                "response-content-disposition": filename_header,
                "response-content-type": media_type,
                "response-cache-control": "private, no-store",
            },
            request_date=signed_at,
        )
        return url


class _RangeReader(io.RawIOBase):
    """A seekable file over ranged GETs: parsers read a DICOM header or a ZIP directory without
    fetching the whole object."""

    def __init__(self, store: S3Store, key: str, size: int) -> None:
        self._store, self._key, self._size, self._position = store, key, size, 0
        self.name = key  # parsers such as pydicom record where a file came from

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: Any) -> int:
        length = min(len(buffer), self._size - self._position)
        if length <= 0:
            return 0
        response = self._store.client.get_object(
            bucket_name=self._store.bucket,
            object_name=self._key,
            offset=self._position,
            length=length,
        )
        try:
            data = response.read()
        finally:
            response.close()
            response.release_conn()
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)
