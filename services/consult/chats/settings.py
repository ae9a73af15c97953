"""The chat channels' settings (`TELEMED_CONSULT_` variables): each Telegram bot's token and
webhook secret, where Telegram's Bot API is, the API client consult reads the directory as
when a chat writes, the courier's pace, and how long updates taken in are remembered."""

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr

# Telegram's rule for `secret_token` (setWebhook): 1-256 of A-Z, a-z, 0-9, _ and -.
SECRET_TOKEN_PATTERN = r"^[A-Za-z0-9_\-]{1,256}$"


class TelegramBot(BaseModel):
    """One bot from @BotFather. Neither value is ever logged or shown by the API."""

    model_config = ConfigDict(frozen=True)

    token: SecretStr = Field(description="The bot's token, `123456:ABC-...`.")
    secret_token: SecretStr = Field(
        description="The secret Telegram sends in `X-Telegram-Bot-Api-Secret-Token` with every "
        "update (setWebhook's `secret_token`): 1-256 letters, digits, `_` and `-`."
    )


class ChatsSettings(BaseModel):
    """The chats' share of the consult settings."""

    chat_bots: dict[str, TelegramBot] = Field(
        default_factory=dict,
        description="Bots by the name their webhook path and chat bindings use, as JSON: "
        '`{"khabarovsk": {"token": "...", "secret_token": "..."}}`.',
    )
    telegram_api_base: HttpUrl = Field(
        default=HttpUrl("https://api.telegram.org"),
        description="Telegram's Bot API: `{base}/bot{token}/sendMessage` (a local Bot API "
        "server, or the tests' loopback one).",
    )
    chat_client_id: str | None = Field(
        default=None,
        description="The API client consult reads organisations' hours as when a chat writes "
        "(nobody is signed in then); else the one in `chat_client_file`.",
    )
    chat_client_secret: SecretStr = SecretStr("")
    chat_client_file: Path | None = Field(
        default=None,
        description="A JSON {client_id, client_secret} file (`telemed seed --demo` writes it); "
        "default `consult/chat_client.json` under `var_dir`.",
    )
    chat_poll_interval_seconds: float = Field(
        default=5.0, gt=0, description="How often the courier looks for replies to send."
    )
    chat_send_timeout_seconds: float = Field(default=10.0, gt=0)
    chat_concurrency: int = Field(default=8, ge=1, le=100)
    chat_backoff_base: float = Field(default=2.0, gt=0)
    chat_backoff_cap: float = Field(default=600.0, gt=0)
    chat_backoff_jitter: float = Field(default=0.2, ge=0, lt=1)
    chat_update_retention_days: float = Field(
        default=7.0,
        ge=1,
        description="How long an update taken in is remembered, so that its redelivery adds "
        "nothing: Telegram delivers an update again for at most a day.",
    )
    chat_update_prune_interval_seconds: float = Field(
        default=3600.0, gt=0, description="How often updates past the retention are forgotten."
    )
