"""Persistence of the files service: stored files and resumable uploads in progress."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.db import (
    IdMixin,
    TimestampMixin,
    UTCDateTime,
    new_metadata,
    string_enum,
)
from services.common.tables import define_kernel_tables
from services.files.enums import FileKind, UploadStatus


class Base(DeclarativeBase):
    metadata = new_metadata()


KERNEL_TABLES = define_kernel_tables(Base.metadata)


class StoredFile(IdMixin, TimestampMixin, Base):
    """A complete, verified object. Rows exist only once the bytes are stored and checked."""

    __tablename__ = "files"
    __table_args__ = (Index("ix_files_case_id", "case_id"),)

    # Set when the uploader belongs to an organisation; patients' own uploads have none.
    organization_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    uploaded_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    # Set only by a pin: consult's grant naming this file and the case, after consult stored it.
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    kind: Mapped[FileKind] = mapped_column(string_enum(FileKind))
    display_name: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    object_key: Mapped[str] = mapped_column(String(64), unique=True)
    dicom: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    purge_after: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Upload(IdMixin, TimestampMixin, Base):
    """A tus upload: what has arrived so far, stored as multipart parts plus a short tail.

    The tail holds bytes past the last full part; S3 refuses parts under 5 MiB, so they wait
    as a small object until the next PATCH completes a part or ends the file.
    """

    __tablename__ = "uploads"
    __table_args__ = (Index("ix_uploads_status_expires_at", "status", "expires_at"),)

    organization_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    uploaded_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[FileKind] = mapped_column(string_enum(FileKind))
    display_name: Mapped[str] = mapped_column(String(255))
    expected_sha256: Mapped[str | None] = mapped_column(String(64))
    length: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[UploadStatus] = mapped_column(string_enum(UploadStatus))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    object_key: Mapped[str] = mapped_column(String(64), unique=True)
    multipart_id: Mapped[str | None] = mapped_column(String(1024))
    parts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    tail_key: Mapped[str | None] = mapped_column(String(64))
    tail_size: Mapped[int] = mapped_column(Integer, default=0)
    media_type: Mapped[str | None] = mapped_column(String(128))
    lease_token: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The key of the instance slot (services/files/instance.py) of the process holding the lease.
    lease_holder: Mapped[str | None] = mapped_column(String(32))
    file_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
