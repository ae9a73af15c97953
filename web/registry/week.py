"""A week of times as the registry and schedule screens show it: the Monday a `week` parameter
names (this week's by default, in the reader's zone), its days, and a time in the zones that
matter (the specialist's, and the reader's where it differs)."""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

from web.i18n import zone_label, zone_of

DAYS = 7
Item = TypeVar("Item")


@dataclass(frozen=True)
class Week:
    monday: date
    zone: str  # whose midnight the week starts at: the reader's

    @classmethod
    def of(cls, asked: str | None, zone: str | None, now: datetime) -> "Week":
        tz = zone_of(zone)
        try:
            day = date.fromisoformat(asked) if asked else now.astimezone(tz).date()
        except ValueError:
            day = now.astimezone(tz).date()
        return cls(day - timedelta(days=day.weekday()), tz.key)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.monday, time(), ZoneInfo(self.zone))

    @property
    def end(self) -> datetime:
        return datetime.combine(self.monday + timedelta(days=DAYS), time(), ZoneInfo(self.zone))

    @property
    def previous(self) -> str:
        return (self.monday - timedelta(days=DAYS)).isoformat()

    @property
    def next(self) -> str:
        return (self.monday + timedelta(days=DAYS)).isoformat()

    def title(self, language: str) -> str:
        last = self.monday + timedelta(days=DAYS - 1)
        return f"{format_date(self.monday, 'd MMM', locale=language)} \u2013 " + format_date(
            last, "d MMM y", locale=language
        )


def day_title(day: date, language: str) -> str:
    return format_date(day, "EEEE d MMMM", locale=language)


def clock(moment: datetime, zone: str, language: str) -> str:
    return format_time(moment.astimezone(ZoneInfo(zone)), "short", locale=language)


def two_zones(moment: datetime, zone: str, reader_zone: str | None, language: str) -> str:
    """ "09:00", and "(13:00 Vladivostok)" after it when the reader's zone shows another time
    or has another name."""
    shown = clock(moment, zone, language)
    reader = zone_of(reader_zone).key
    if reader == zone:
        return shown
    return f"{shown} ({clock(moment, reader, language)} {zone_label(reader, language)})"


def by_day(
    items: Iterable[Item], start_of: Callable[[Item], datetime], zone: str
) -> list[tuple[date, list[Item]]]:
    """The items grouped by their day in `zone`, days in order."""
    days: defaultdict[date, list[Item]] = defaultdict(list)
    for item in items:
        days[start_of(item).astimezone(ZoneInfo(zone)).date()].append(item)
    return sorted(days.items())
