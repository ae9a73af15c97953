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
