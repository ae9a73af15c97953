"""The figures as the tables the page shows and the CSV gives, cell for cell: one function
makes each table, in the reader's language, and both the page and the download use it. Each
table says whose days it counts (an organisation's own zone, or the deployment's for the
totals), so a downloaded table says it too."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from web.appeals.labels import ACTIONS, RESULTS
from web.cases.schemas import Organization
from web.figures.schemas import Figures, Group, Rate
from web.navigation import N_

Translate = Callable[[str], str]
CHANNELS = {
    "phone": N_("Phone"),
    "chat": N_("Chat"),
    "web": N_("Web form"),
    "api": N_("Regional MIS"),
}
HOUR = 3600.0
# Whose days a row's (or a column's) figures count: the organisation's own zone, or the
# deployment's for the totals.
DAYS_OF = N_("Days of the time zone")


@dataclass(frozen=True)
class Table:
    key: str  # the CSV's name and the `table` it is asked by
    caption: str
    headers: list[str]
    rows: list[list[str]]


def hours(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / HOUR:.1f}"


def share(rate: Rate | None) -> str:
    """ "91.1 % (41 of 45)"; empty when nothing to count."""
    if rate is None or rate.ratio is None:
        return ""
    return f"{rate.ratio * 100:.1f} % ({rate.count}/{rate.of})"


def group_name(
    group: Group, organizations: dict[uuid.UUID, Organization], translate: Translate
) -> str:
    if group.specialty and group.organization_id is None:
        return group.specialty
    if group.organization_id is None:
        return translate(N_("Not routed yet"))
    found = organizations.get(group.organization_id)
    return found.name if found else str(group.organization_id)


def _named(
    figures: Figures, organizations: dict[uuid.UUID, Organization], translate: Translate
) -> list[tuple[str, Group]]:
    """Each group with its name, then the totals."""
    named = [(group_name(group, organizations, translate), group) for group in figures.groups]
    return [*named, (translate(N_("All")), figures.totals)]


def case_table(
    figures: Figures, organizations: dict[uuid.UUID, Organization], translate: Translate
) -> Table:
    headers = [
        N_("Organisation or specialty"),
        N_("Submitted"),
        N_("Concluded"),
        N_("Turnaround median, h"),
        N_("Turnaround p90, h"),
        N_("Within the deadline"),
        N_("Overdue now"),
        DAYS_OF,
    ]
    rows = []
    for name, group in _named(figures, organizations, translate):
        cases = group.cases
        rows.append([
            name,
            str(cases.submitted),
            str(cases.concluded),
            hours(cases.conclusion.median_seconds),
            hours(cases.conclusion.p90_seconds),
            share(cases.within_deadline),
            str(cases.overdue_now),
            group.timezone,
        ])  # fmt: skip
    caption = translate(N_("Consultations"))
    return Table("consultations", caption, [translate(each) for each in headers], rows)


def hotline_table(
    figures: Figures, organizations: dict[uuid.UUID, Organization], translate: Translate
) -> Table | None:
    """None for figures by specialty: appeals have none."""
    if figures.totals.appeals is None:
        return None
    headers = [
        N_("Organisation"),
        N_("Appeals received"),
        *CHANNELS.values(),
        N_("Within the deadline"),
        N_("First-contact resolution"),
        N_("Callbacks reached"),
        N_("Overdue now"),
        DAYS_OF,
    ]
    rows = []
    for name, group in _named(figures, organizations, translate):
        appeals, callbacks = group.appeals, group.callbacks
        if appeals is None:
            continue
        rows.append([
            name,
            str(appeals.received),
            *(str(appeals.by_channel.get(channel, 0)) for channel in CHANNELS),
            share(appeals.within_deadline),
            share(appeals.first_contact_resolution),
            share(callbacks.reached if callbacks else None),
            str(appeals.overdue_now),
            group.timezone,
        ])  # fmt: skip
    caption = translate(N_("Hotline"))
    return Table("hotline", caption, [translate(each) for each in headers], rows)


def resolution_table(
    figures: Figures, organizations: dict[uuid.UUID, Organization], translate: Translate
) -> Table | None:
    """What the resolved appeals say was done, and with what result: a row per action, then
    per result, a column per organisation and one for all (the vocabulary is fixed, the
    organisations are not). None for figures by specialty."""
    groups = _named(figures, organizations, translate)
    named = [(name, group.appeals) for name, group in groups]
    columns = [(name, appeals.resolutions) for name, appeals in named if appeals is not None]
    if not columns:
        return None
    headers = [translate(N_("What was done, with what result")), *(name for name, _ in columns)]
    rows = [
        [
            translate(N_("Appeals resolved")),
            *(str(appeals.resolved) for _, appeals in named if appeals),
        ]
    ]
    rows += [
        [translate(label), *(str(each.by_action.get(action, 0)) for _, each in columns)]
        for action, label in ACTIONS.items()
    ]
    rows += [
        [
            translate(N_("Result: %(result)s")) % {"result": translate(label)},
            *(str(each.by_result.get(result, 0)) for _, each in columns),
        ]
        for result, label in RESULTS.items()
    ]
    rows.append([translate(DAYS_OF), *(group.timezone for _, group in groups if group.appeals)])
    caption = translate(N_("Resolutions by action"))
    return Table("resolutions", caption, headers, rows)


def day_table(figures: Figures, translate: Translate) -> Table | None:
    if not figures.hotline_days:
        return None
    day = translate(N_("Day, %(zone)s")) % {"zone": figures.timezone}
    headers = [day, *(translate(each) for each in CHANNELS.values())]
    headers.append(translate(N_("All")))
    rows = [
        [
            day.day.isoformat(),
            *(str(day.by_channel.get(channel, 0)) for channel in CHANNELS),
            str(sum(day.by_channel.values())),
        ]
        for day in figures.hotline_days
    ]
    caption = translate(N_("Hotline appeals by day and channel"))
    return Table("hotline-days", caption, headers, rows)


def tables(
    figures: Figures, organizations: dict[uuid.UUID, Organization], translate: Translate
) -> list[Table]:
    found = [
        case_table(figures, organizations, translate),
        hotline_table(figures, organizations, translate),
        resolution_table(figures, organizations, translate),
        day_table(figures, translate),
    ]
    return [table for table in found if table is not None]
