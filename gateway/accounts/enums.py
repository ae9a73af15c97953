"""Values of the account lifecycle."""

from enum import StrEnum


class LinkPurpose(StrEnum):
    """Why a one-time password link was sent: both end with the person choosing a password."""

    RESET = "reset"
    INVITATION = "invitation"  # a person on record without a password, asked to sign in
