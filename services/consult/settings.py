"""Settings of the consult service (env prefix `TELEMED_CONSULT_`): the service's own, composed
with each domain's policies, so every variable keeps its flat name."""

import json
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from services.common.fhir_terms import FhirSettings
from services.common.grants import default_consult_key_path
from services.common.settings import ServiceSettings
from services.consult.appeals.settings import AppealsSettings
from services.consult.cases.settings import CasesSettings
from services.consult.chats.settings import ChatsSettings
from services.consult.home_visits.settings import HomeVisitsSettings
from services.consult.monitoring.settings import MonitoringSettings
from services.consult.stats.settings import StatsSettings


class ConsultSettings(
    ServiceSettings,
    FhirSettings,
    CasesSettings,
    AppealsSettings,
    MonitoringSettings,
    StatsSettings,
    HomeVisitsSettings,
    ChatsSettings,
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

    def resolved_chat_client_file(self) -> Path:
        return self.chat_client_file or self.var_dir / "consult" / "chat_client.json"

    def chat_client_credentials(self) -> tuple[str, SecretStr] | None:
        """The settings' client, else the file's (read on every call, so a client registered
        while the service runs is taken up), else None."""
        if self.chat_client_id:
            return self.chat_client_id, self.chat_client_secret
        try:
            stored = json.loads(self.resolved_chat_client_file().read_text())
            return str(stored["client_id"]), SecretStr(str(stored["client_secret"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
