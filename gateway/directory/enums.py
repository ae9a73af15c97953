"""Values of the directory's patient records."""

from enum import StrEnum


class Sex(StrEnum):
    """As the OMS policy records it."""

    MALE = "male"
    FEMALE = "female"


class Language(StrEnum):
    """The languages messages to people are written in."""

    RU = "ru"
    EN = "en"


class DuplicateReason(StrEnum):
    """Why a registration duplicates one on record, the 409's `reason`: a namesake born the
    same day may be registered anyway (`allow_namesake`), a policy number never twice."""

    NAMESAKE = "namesake"
    POLICY_NUMBER = "policy_number"
