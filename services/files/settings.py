"""Settings of the files service (env prefix `TELEMED_FILES_`): storage, limits, retention,
and the consult key its grants are checked with."""

from datetime import timedelta
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from services.common.fhir_terms import FhirSettings
from services.common.grants import default_consult_key_path
from services.common.settings import ServiceSettings
from services.files.enums import StorageBackend

MIB = 1024 * 1024
# S3 refuses multipart parts under 5 MiB, except the last one.
S3_MIN_PART_SIZE = 5 * MIB


class FilesSettings(ServiceSettings, FhirSettings):
    model_config = SettingsConfigDict(env_prefix="TELEMED_FILES_")

    service_name: str = "files"
    storage: StorageBackend = StorageBackend.LOCAL
    local_root: Path | None = Field(
        default=None, description="Directory of the local store; `var/files/objects` if unset."
    )
    s3_endpoint: str = Field(
        default="127.0.0.1:9000", description="host:port the service reaches MinIO/S3 at."
    )
    s3_secure: bool = False
    s3_public_endpoint: str = Field(
        default="",
        description="Base URL browsers reach MinIO at, for presigned links "
        "(e.g. https://files.region.example); the internal endpoint if empty.",
    )
    s3_access_key: str = "telemed"
    s3_secret_key: SecretStr = SecretStr("")
    s3_region: str = "us-east-1"
    s3_bucket: str = "telemed-files"
    s3_server_side_encryption: bool = True
    s3_versioning: bool = True

    max_file_size: int = Field(default=2 * 1024 * MIB, gt=0)
    part_size: int = Field(default=8 * MIB, ge=S3_MIN_PART_SIZE, le=512 * MIB)
    upload_expiry: timedelta = timedelta(hours=24)
    # Renewed every third of it while a PATCH runs, so only a process that died leaves an upload
    # locked, and at most this long: one restarted beside it frees its leases at once
    # (services/files/resumable.py).
    upload_lease: timedelta = timedelta(seconds=20)
    # While a PATCH streams, what has arrived is stored and recorded about this often, so that a
    # crash of the process loses at most the last seconds of a transfer.
    upload_checkpoint: timedelta = Field(default=timedelta(seconds=2), gt=timedelta(0))
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The gateway's address as browsers see it, for the service's own links.",
    )
    link_lifetime: timedelta = timedelta(minutes=5)
    max_link_lifetime: timedelta = timedelta(hours=1)
    deleted_retention: timedelta = timedelta(days=30)
    maintenance_interval: timedelta = timedelta(minutes=5)
    link_key_path: Path | None = None
    dicom_uid_salt_path: Path | None = None
    consult_grant_keys: list[Path] | None = Field(
        default=None,
        description="PEM files of the consult service's grant key (its public key, or on one "
        "machine its private key file), then any retired ones: grants signed with any of them "
        "verify, and a changed file is re-read. Default: `consult/grant_signing_key.pem` under "
        "`var_dir`.",
    )

    def resolved_local_root(self) -> Path:
        return self.local_root or self.var_dir / "files" / "objects"

    def resolved_instances_dir(self) -> Path:
        return self.var_dir / "files" / "instances"

    def resolved_link_key_path(self) -> Path:
        return self.link_key_path or self.var_dir / "files" / "link_key"

    def resolved_consult_grant_keys(self) -> list[Path]:
        return self.consult_grant_keys or [default_consult_key_path(self.var_dir)]

    def resolved_uid_salt_path(self) -> Path:
        return self.dicom_uid_salt_path or self.var_dir / "files" / "dicom_uid_salt"
