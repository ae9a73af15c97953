"""The files service's vocabularies: what a file is, and where a resumable upload stands."""

from enum import StrEnum


class FileKind(StrEnum):
    LAB_RESULT = "lab_result"
    RECORD_EXTRACT = "record_extract"
    IMAGING = "imaging"
    ECG = "ecg"
    PHOTO = "photo"
    RECORDING = "recording"
    OTHER = "other"


class UploadStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    TERMINATED = "terminated"
    EXPIRED = "expired"
    REJECTED = "rejected"


class StorageBackend(StrEnum):
    LOCAL = "local"
    S3 = "s3"
