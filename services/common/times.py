"""Date and time types every API shares: instants and days bounded to the years telemed can
compute with, and wall-clock times of day as they are written."""

from datetime import date, datetime, time
from typing import Annotated, TypeVar

from pydantic import AfterValidator, AwareDatetime, WithJsonSchema

# Python's dates end at years 1 and 9999: an instant near either end overflows when it is moved
# to another zone, stored as UTC, or widened by a day or a slot, and the request fails with a
# 500. No consultation, appointment or birth falls outside these years; a value that does is a
# typo or a probe, and is refused as bad input (422) naming the field or parameter.
FIRST_YEAR, LAST_YEAR = 1900, 2200
Moment = TypeVar("Moment", date, datetime)


def within_years(value: Moment) -> Moment:
    """`value` itself, or a ValueError (pydantic's 422) when its year is out of range."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"the year must be from {FIRST_YEAR} to {LAST_YEAR}")
    return value


# An ISO 8601 instant within range, with its offset (stored as UTC, so one is required)...
AwareInstant = Annotated[AwareDatetime, AfterValidator(within_years)]
# ...or with or without one, where the route says in which zone it reads a time without.
Instant = Annotated[datetime, AfterValidator(within_years)]
# A calendar day within range.
Day = Annotated[date, AfterValidator(within_years)]


def local(value: time) -> time:
    """A wall-clock time read in some zone the context names: with an offset of its own it
    could not be compared with the others (a 500), so one is refused."""
    if value.tzinfo is not None:
        raise ValueError("a local time of day takes no offset")
    return value


# A local wall-clock time of day (`08:00`, `08:00:00`), with no offset: JSON Schema's `time`
# format is RFC 3339's full-time, which requires one, so its pattern is documented instead.
TIME_OF_DAY = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?$"
TimeOfDay = Annotated[
    time,
    AfterValidator(local),
    WithJsonSchema({"type": "string", "pattern": TIME_OF_DAY, "examples": ["08:00:00"]}),
]
