"""Settings of the consult service (env prefix `TELEMED_CONSULT_`): the service's own, composed
with each domain's policies, so every variable keeps its flat name."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.common.grants import default_consult_key_path
from services.common.settings import ServiceSettings
from services.consult.appeals.settings import AppealsSettings
from services.consult.cases.settings import CasesSettings
from services.consult.monitoring.settings import MonitoringSettings
from services.consult.stats.settings import StatsSettings


class ConsultSettings(
    ServiceSettings, CasesSettings, AppealsSettings, MonitoringSettings, StatsSettings
):
    model_config = SettingsConfigDict(env_prefix="TELEMED_CONSULT_")

    service_name: str = "consult"
    signing_key_path: Path | None = None
    retired_signing_keys: list[Path] = Field(
        default_factory=list,
        description="PEM files of earlier conclusion keys: what they signed still verifies.",
    )

    grant_key_path: Path | None = Field(
        default=None,
        description="Ed25519 key (PEM) that signs the grants consult hands down to files and "
        "scheduling; default `consult/grant_signing_key.pem` under `var_dir`. They verify "
        "with its public key (`TELEMED_FILES_CONSULT_GRANT_KEYS`, "
        "`TELEMED_SCHEDULING_CONSULT_GRANT_KEYS`).",
    )

    grant_public_key_path: Path | None = Field(
        default=None,
        description="Where consult also writes its grant key's public half on start, for the "
        "services that verify its grants (a volume they mount read-only); not written if unset.",
    )

    def resolved_grant_key_path(self) -> Path:
        return self.grant_key_path or default_consult_key_path(self.var_dir)

    def resolved_signing_key_path(self) -> Path:
        """The configured key file, or `consult/conclusion_signing_key.pem` under `var_dir`."""
        return self.signing_key_path or self.var_dir / "consult" / "conclusion_signing_key.pem"
