"""Notify's share of the gateway settings (`TELEMED_GATEWAY_` variables): the SMTP server, the
SMS provider, and how deliveries are paced, retried and given up."""

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr

SmtpSecurity = Literal["none", "starttls", "tls"]
SmsProvider = Literal["none", "smsc"]


class NotifySettings(BaseModel):
    # Email (gateway/notify/email.py). The default is a catcher on this machine
    # (`telemed run --mail-catcher`), so nothing leaves it until an operator says where to.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, gt=0, lt=65536)
    smtp_security: SmtpSecurity = Field(
        default="none",
        description="`starttls` upgrades a plain connection (port 587), `tls` connects with "
        "TLS at once (port 465), `none` sends in clear (a relay on this host or network).",
    )
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_from_address: str = "noreply@telemed.localhost"
    smtp_from_name: str = "Telemed"
    smtp_timeout: float = Field(default=30.0, gt=0)

    # SMS (gateway/notify/sms.py): `smsc` is SMSC.ru's HTTP API; `none` sends no SMS at all.
    sms_provider: SmsProvider = "none"
    sms_base_url: str = "https://smsc.ru"
    sms_login: str = ""
    sms_password: SecretStr = SecretStr("")
    sms_sender: str = Field(
        default="",
        max_length=11,
        description="The sender name registered with the provider; empty: its default.",
    )
    sms_timeout: float = Field(default=15.0, gt=0)

    # Delivery (gateway/notify/delivery.py).
    notify_poll_interval: float = Field(default=1.0, gt=0)
    notify_batch: int = Field(default=50, ge=1)
    notify_concurrency: int = Field(default=8, ge=1)
    notify_backoff_base: float = Field(default=30.0, gt=0)
    notify_backoff_cap: float = Field(default=3600.0, gt=0)
    notify_backoff_jitter: float = Field(default=0.2, ge=0, lt=1)
    # A reminder two days late is worse than none: past this the delivery fails for good.
    notify_give_up_after: float = Field(default=48 * 3600.0, gt=0)
    # The delivery log keeps a message this long (a person asking months later whether they
    # were told), then forgets it with its deliveries and attempts.
    notify_log_retention_days: float = Field(default=180.0, gt=0)
    # Signs unsubscribe links; every gateway replica needs the same file.
    notify_unsubscribe_key_path: Path | None = None
