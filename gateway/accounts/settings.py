"""Accounts' share of the gateway settings (`TELEMED_GATEWAY_` variables)."""

from pathlib import Path

from pydantic import BaseModel, Field


class AccountsSettings(BaseModel):
    breached_passwords_path: Path | None = Field(
        default=None,
        description='A file of SHA-1 hashes of breached passwords in the offline "Have I Been '
        'Pwned" format (one hex hash a line, optionally `:count`); a password in it is refused. '
        "A large file must be sorted by hash, as downloaded: it is searched, not loaded.",
    )
    # How long a one-time password link works: a reset is asked for by someone at their screen;
    # an invitation may wait a weekend.
    password_reset_hours: int = Field(default=1, gt=0)
    invitation_hours: int = Field(default=72, gt=0)
    # A sign-in from an address and browser the person has not signed in from for this long is
    # announced to them (`account.new_sign_in`).
    new_sign_in_days: int = Field(default=90, gt=0)
