"""Languages of the console: Babel catalogs (web/translations), the choice of a language for a
request, and times shown in a zone with the zone named."""

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_time, get_timezone_location
from babel.support import Translations

LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "ru"
TRANSLATIONS = Path(__file__).parent / "translations"
# The zones a form offers: Russia's, west to east (UTC+2 to UTC+12). The APIs take any IANA
# zone; a form keeps and offers one already chosen outside these.
RUSSIAN_ZONES = (
    "Europe/Kaliningrad",
    "Europe/Moscow",
    "Europe/Samara",
    "Asia/Yekaterinburg",
    "Asia/Omsk",
    "Asia/Novosibirsk",
    "Asia/Novokuznetsk",
    "Asia/Krasnoyarsk",
    "Asia/Irkutsk",
    "Asia/Yakutsk",
    "Asia/Vladivostok",
    "Asia/Magadan",
    "Asia/Kamchatka",
)


def load_translations() -> dict[str, Translations]:
    """Each language's compiled catalog (`messages.mo`, committed beside its `.po`; the tests
    check they agree). A missing one is an error, not English in silence."""
    catalogs = {}
    for language in LANGUAGES:
        catalog = Translations.load(str(TRANSLATIONS), [language], domain="messages")
        if not isinstance(catalog, Translations):
            raise RuntimeError(f"no compiled catalog for {language} under {TRANSLATIONS}")
        catalogs[language] = catalog
    return catalogs


def supported(language: str | None) -> str | None:
    return language if language in LANGUAGES else None


def zone_of(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def zone_label(zone_name: str | None, language: str) -> str:
    """The zone as people name it: its main city in their language ("Новокузнецк")."""
    zone = zone_of(zone_name)
    if zone.key == "UTC":
        return "UTC"
    return str(get_timezone_location(zone, locale=language, return_city=True))


def local_time(value: datetime | None, language: str, zone_name: str | None) -> str:
    """`value` in the zone, the zone named by its city in the reader's language:
    "3 Dec 2026, 14:30 (Novokuznetsk)". Naive values are taken as UTC."""
    if value is None:
        return ""
    zone = zone_of(zone_name)
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    local = aware.astimezone(zone)
    day = format_date(local, "medium", locale=language)
    shown = f"{day}, {format_time(local, 'short', locale=language)}"
    return f"{shown} ({zone_label(zone_name, language)})"


def spoken_day(value: date, language: str) -> str:
    """A day as it is read out to a caller, its weekday after: "20 October (Monday)", "20
    октября (понедельник)" (the weekday first would need "во вторник" in Russian)."""
    return str(format_date(value, "d MMMM (EEEE)", locale=language))
