"""The S3 store against a real S3-compatible server: bucket set-up and the public endpoint."""

import asyncio
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from minio import Minio
from minio.commonconfig import ENABLED, Filter
from minio.lifecycleconfig import Expiration, LifecycleConfig, Rule

from services.files.s3 import S3Store
from services.files.settings import FilesSettings
from tests.files.conftest import S3_KEYS


def s3_settings(endpoint: str, **overrides: Any) -> FilesSettings:
    values: dict[str, Any] = {
        "storage": "s3", "s3_endpoint": endpoint, "s3_bucket": f"telemed-{uuid.uuid4().hex[:12]}",
    }  # fmt: skip
    return FilesSettings.model_validate(values | S3_KEYS | overrides)


async def test_start_up_creates_the_bucket_with_versioning_and_encryption(s3_endpoint: str) -> None:
    settings = s3_settings(s3_endpoint)
    store = S3Store(settings)
    try:
        await store.prepare()
        await store.prepare()  # a restart finds the bucket and changes nothing
    finally:
        store.close()
    admin = Minio(
        endpoint=s3_endpoint,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key.get_secret_value(),
        secure=False,
    )

    def inspect() -> tuple[bool, str | None, object]:
        bucket = settings.s3_bucket
        return (
            admin.bucket_exists(bucket_name=bucket),
            admin.get_bucket_versioning(bucket_name=bucket).status,
            admin.get_bucket_encryption(bucket_name=bucket),
        )

    exists, versioning, encryption = await asyncio.to_thread(inspect)
    assert exists
    assert versioning == "Enabled"
    assert encryption is not None


async def test_start_up_keeps_the_operators_lifecycle_rules(s3_endpoint: str) -> None:
    settings = s3_settings(s3_endpoint)
    admin = Minio(
        endpoint=s3_endpoint,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key.get_secret_value(),
        secure=False,
    )
    bucket = settings.s3_bucket
    expire_exports = Rule(
        ENABLED, rule_filter=Filter(prefix="exports/"), rule_id="expire-exports",
        expiration=Expiration(days=30),
    )  # fmt: skip

    def set_operators_rule() -> None:
        admin.make_bucket(bucket_name=bucket)
        admin.set_bucket_lifecycle(bucket_name=bucket, config=LifecycleConfig([expire_exports]))

    await asyncio.to_thread(set_operators_rule)
    store = S3Store(settings)
    try:
        await store.prepare()
        await store.prepare()
    finally:
        store.close()
    lifecycle = await asyncio.to_thread(admin.get_bucket_lifecycle, bucket_name=bucket)
    assert lifecycle is not None
    rules = {rule.rule_id: rule for rule in lifecycle.rules}
    assert set(rules) == {"expire-exports", "abort-abandoned-uploads"}
    expiration = rules["expire-exports"].expiration
    abort = rules["abort-abandoned-uploads"].abort_incomplete_multipart_upload
    assert expiration is not None
    assert expiration.days == 30
    assert abort is not None
    assert abort.days_after_initiation == 7


def test_links_name_the_public_endpoint_and_the_service_talks_to_the_internal_one() -> None:
    settings = s3_settings("minio:9000", s3_public_endpoint="https://files.region.example")
    store = S3Store(settings)
    try:
        url = store.presigned_url(
            "f/" + "a" * 32,
            timedelta(minutes=5),
            filename_header='attachment; filename="ECG.pdf"',
            media_type="application/pdf",
        )
    finally:
        store.close()
    assert url is not None
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("https", "files.region.example")
    assert "X-Amz-Signature=" in parts.query
    assert store.client._base_url.host == "minio:9000"
