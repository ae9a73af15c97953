"""`/figures`: consult's figures over a date range, per organisation or specialty, as charts
drawn on the server with their numbers in tables, and `/figures.csv`, each table as the page
shows it (the same function makes both)."""

import csv
import functools
import io
import uuid
from datetime import date
from typing import Annotated

from babel.support import Translations
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from markupsafe import Markup

from services.common.errors import NotFound
from web.appeals.labels import ACTIONS
from web.cases.api import Refusal
from web.cases.deps import DirectoryDep
from web.cases.forms import FormState, parse_id
from web.cases.schemas import Organization
from web.cases.views import Directory
from web.deps import SignedInDep
from web.figures.api import FiguresApi, FiguresApiDep
from web.figures.charts import Series, bars, columns
from web.figures.schemas import Figures, Rate
from web.figures.tables import CHANNELS, HOUR, Table, Translate, group_name, tables
from web.i18n import load_translations
from web.navigation import N_
from web.templating import render_page

router = APIRouter(include_in_schema=False)
Text = Annotated[str | None, Query(max_length=64)]
GROUPINGS = {"organization": N_("Organisation"), "specialty": N_("Specialty")}


def _day(value: str | None, name: str, state: FormState) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        state.errors[name] = ["format"]
        return None


@functools.cache
def _catalogs() -> dict[str, Translations]:
    return load_translations()


def _translator(request: Request) -> Translate:
    """The reader's catalog, for the tables' words (the CSV has them too, not only pages)."""
    translations: Translations = _catalogs()[request.state.language]
    return translations.gettext


async def _figures(
    api: FiguresApi,
    token: str,
    values: dict[str, str],
) -> tuple[FormState, Figures | None]:
    """The figures the form asks for, or the form with what is wrong with it."""
    state = FormState(values=values)
    first = _day(values["from"], "from", state)
    last = _day(values["to"], "to", state)
    if state.errors:
        return state, None
    found = await api.figures(
        token,
        first=first,
        last=last,
        group_by=values["group_by"],
        organization_id=parse_id(values["organization"]),
        specialty=values["specialty"] or None,
    )
    if isinstance(found, Refusal):
        placed = {"from": "from", "to": "to", "specialty": "specialty"}
        for issue in found.errors:
            name = placed.get(str(issue.location[-1]) if issue.location else "")
            if name:
                state.errors.setdefault(name, []).append(issue.message)
        if not state.errors:
            state.detail = found.detail
        return state, None
    return state, found


def _values(
    first: str | None, last: str | None, group_by: str | None, organization: str | None,
    specialty: str | None,
) -> dict[str, str]:  # fmt: skip
    return {
        "from": first or "",
        "to": last or "",
        "group_by": group_by if group_by in GROUPINGS else "organization",
        "organization": organization or "",
        "specialty": (specialty or "").strip(),
    }


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / HOUR, 1)


def _percent(rate: Rate | None) -> float | None:
    return None if rate is None or rate.ratio is None else round(rate.ratio * 100, 1)


def charts(
    figures: Figures, organizations: dict[uuid.UUID, Organization], translate: Translate
) -> dict[str, Markup]:
    """Each table's chart, by the table's key."""
    groups = figures.groups
    below = translate(N_("The numbers are in the table below."))
    turnaround = [group.cases.conclusion for group in groups]
    drawn = {
        "consultations": bars(
            "chart-turnaround",
            translate(N_("Consultation turnaround, hours")),
            translate(N_("Median and 90th percentile from submission to the conclusion."))
            + " "
            + below,
            [group_name(group, organizations, translate) for group in groups],
            [
                Series(
                    translate(N_("Median")), [_hours(each.median_seconds) for each in turnaround]
                ),
                Series(
                    translate(N_("90th percentile")),
                    [_hours(each.p90_seconds) for each in turnaround],
                ),
            ],
            translate(N_("h")),
        )
    }
    hotline = [(group, group.appeals) for group in groups if group.appeals is not None]
    if hotline:
        drawn["hotline"] = bars(
            "chart-hotline",
            translate(N_("Hotline: shares, per cent")),
            translate(
                N_("Appeals resolved in time and at the first contact, and callbacks reached.")
            )
            + " "
            + below,
            [group_name(group, organizations, translate) for group, _ in hotline],
            [
                Series(
                    translate(N_("Within the deadline")),
                    [_percent(appeals.within_deadline) for _, appeals in hotline],
                ),
                Series(
                    translate(N_("First-contact resolution")),
                    [_percent(appeals.first_contact_resolution) for _, appeals in hotline],
                ),
                Series(
                    translate(N_("Callbacks reached")),
                    [
                        _percent(group.callbacks.reached if group.callbacks else None)
                        for group, _ in hotline
                    ],
                ),
            ],
            "%",
        )
    everyone = figures.totals.appeals
    if everyone is not None:
        drawn["resolutions"] = bars(
            "chart-resolutions",
            translate(N_("What was done for the callers")),
            translate(N_("How many resolved appeals say each was done, all organisations."))
            + " "
            + below,
            [translate(label) for label in ACTIONS.values()],
            [
                Series(
                    translate(N_("Appeals")),
                    [everyone.resolutions.by_action.get(action, 0) for action in ACTIONS],
                )
            ],
            "",
        )
    days = figures.hotline_days
    if days:
        drawn["hotline-days"] = columns(
            "chart-days",
            translate(N_("Hotline appeals by day and channel")),
            translate(N_("Appeals received each day, stacked by channel.")) + " " + below,
            [day.day.strftime("%d.%m") for day in days],
            [
                Series(translate(label), [day.by_channel.get(channel, 0) for day in days])
                for channel, label in CHANNELS.items()
            ],
        )
    return drawn


async def _organizations(
    api: FiguresApi, directory: Directory, token: str
) -> dict[uuid.UUID, Organization]:
    return await directory.organizations(api, token)


@router.get("/figures")
async def figures_page(
    request: Request,
    signed_in: SignedInDep,
    api: FiguresApiDep,
    directory: DirectoryDep,
    first: Annotated[str | None, Query(alias="from", max_length=16)] = None,
    last: Annotated[str | None, Query(alias="to", max_length=16)] = None,
    group_by: Text = None,
    organization: Text = None,
    specialty: Text = None,
) -> Response:
    token = signed_in.access_token
    values = _values(first, last, group_by, organization, specialty)
    state, found = await _figures(api, token, values)
    organizations = await _organizations(api, directory, token)
    translate = _translator(request)
    shown = tables(found, organizations, translate) if found else []
    query = "&".join(f"{name}={value}" for name, value in values.items() if value)
    context = {
        "form": state,
        "figures": found,
        "tables": shown,
        "charts": charts(found, organizations, translate) if found else {},
        "groupings": GROUPINGS,
        "organization_choices": sorted(
            organizations.values(), key=lambda each: (each.region, each.name)
        ),
        "query": query,
    }
    status = 200 if found or not (state.errors or state.detail) else 422
    return render_page(request, "figures/page.html", context, status=status)


def as_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.headers)
    writer.writerows(table.rows)
    return out.getvalue()


@router.get("/figures.csv")
async def figures_csv(
    request: Request,
    signed_in: SignedInDep,
    api: FiguresApiDep,
    directory: DirectoryDep,
    table: Text = None,
    first: Annotated[str | None, Query(alias="from", max_length=16)] = None,
    last: Annotated[str | None, Query(alias="to", max_length=16)] = None,
    group_by: Text = None,
    organization: Text = None,
    specialty: Text = None,
) -> Response:
    """One table of the page, as the page shows it, for a spreadsheet (UTF-8 with a BOM, which
    Excel needs to read Cyrillic)."""
    token = signed_in.access_token
    values = _values(first, last, group_by, organization, specialty)
    _state, found = await _figures(api, token, values)
    if found is None:
        raise NotFound("No figures for these choices; open the figures page to see why.")
    organizations = await _organizations(api, directory, token)
    chosen = next(
        (each for each in tables(found, organizations, _translator(request)) if each.key == table),
        None,
    )
    if chosen is None:
        raise NotFound("No such table of figures.")
    name = f"figures-{chosen.key}-{found.first.isoformat()}-{found.to.isoformat()}.csv"
    return Response(
        "\ufeff" + as_csv(chosen),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
