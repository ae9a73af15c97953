"""Searching the FHIR views: the types we publish with their search parameters, parsing a
search against them (a 400 naming what is wrong), and one page of a keyset-ordered query."""

import re
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from fastapi import Request
from sqlalchemy import Select, SQLColumnExpression, tuple_

from services.common.errors import BadRequest
from services.common.fhir import CURSOR, terms_of
from services.common.pagination import decode_cursor
from services.common.times import FIRST_YEAR, LAST_YEAR, within_years

DEFAULT_COUNT, MAX_COUNT = 50, 200
# Parameters every search takes besides its own; `_format` is checked before (JSON only).
COMMON_PARAMS = frozenset({"_count", CURSOR, "_format"})
Row = TypeVar("Row")
Query = TypeVar("Query", bound=Select[*tuple[Any, ...]])
Status = TypeVar("Status")


@dataclass(frozen=True)
class SearchParam:
    name: str
    type: str  # the FHIR search parameter type: token, reference, date, string
    documentation: str
    modifiers: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResourceKind:
    """A resource type we publish: the service that renders it and its search parameters."""

    service: str
    params: tuple[SearchParam, ...]
    # Searches by one of these parameters go to the service named instead, the one that holds
    # what they select by: a case's attachments are consult's to list, not the files service's.
    search_services: Mapping[str, str] = field(default_factory=dict)
    # A read by id is asked of this service first, and of `service` if it has none to show.
    read_first: str | None = None

    def param(self, name: str) -> SearchParam | None:
        return next((param for param in self.params if param.name == name), None)

    def search_service(self, keys: Iterable[str]) -> str:
        """The service that answers a search with these parameters (`patient:identifier`
        counts as `patient`)."""
        for key in keys:
            routed = self.search_services.get(key.partition(":")[0])
            if routed is not None:
                return routed
        return self.service


def _patient(identifier: bool = True) -> SearchParam:
    return SearchParam(
        "patient",
        "reference",
        "`Patient/<id>` or a bare id: the patient's own account"
        + (
            "; `patient:identifier=[<system>|]<MIS reference>` finds by the MIS's patient reference"
            if identifier
            else ""
        ),
        ("identifier",) if identifier else (),
    )


def _status(codes: str) -> SearchParam:
    return SearchParam("status", "token", f"Any of these, comma-separated: {codes}")


def _date(what: str) -> SearchParam:
    return SearchParam(
        "date",
        "date",
        f"{what}; prefixes eq (default), ge, gt, le, lt; repeat to give a range",
    )


def _practitioner(name: str, what: str) -> SearchParam:
    return SearchParam(name, "reference", f"`Practitioner/<id>`: {what}")


def _name(what: str) -> SearchParam:
    return SearchParam("name", "string", f"{what}: a part of it, case aside")


RESOURCES: dict[str, ResourceKind] = {
    "ServiceRequest": ResourceKind(
        "consult",
        (
            _patient(),
            _status("draft, active, on-hold, revoked, completed"),
            _date("authoredOn, when the case was opened"),
        ),
    ),
    "Task": ResourceKind(
        "consult",
        (
            _patient(),
            _status(
                "draft, requested, accepted, in-progress, on-hold, completed, rejected, cancelled"
            ),
            _date("restriction.period.end, the case's deadline"),
            _practitioner("owner", "the cases assigned to them"),
        ),
    ),
    "DiagnosticReport": ResourceKind(
        "consult",
        (
            _patient(),
            _status("final, amended"),
            _date("issued, when the version was signed"),
            SearchParam(
                "performer", "reference", "`Practitioner/<id>`: the conclusions they signed"
            ),
        ),
    ),
    "Observation": ResourceKind(
        "consult",
        (
            _patient(),
            _status("final"),
            _date("effectiveDateTime, the check-in"),
            SearchParam(
                "performer", "reference", "`Practitioner/<id>`: the check-ins they recorded"
            ),
        ),
    ),
    "DocumentReference": ResourceKind(
        "files",
        (
            _patient(),
            _status("current"),
            _date("date, when the file was stored"),
            SearchParam("related", "reference", "`ServiceRequest/<case id>`: a case's files"),
        ),
        # Searched without these, the files service shows a caller's own files; consult lists
        # the files of the cases a caller sees. Read by id, consult shows a file of a case the
        # reader reads, and the files service any other of theirs.
        search_services={"related": "consult", "patient": "consult"},
        read_first="consult",
    ),
    # The directory's, answered by the gateway itself (`gateway/directory/fhir.py`).
    "Patient": ResourceKind(
        "gateway",
        (
            _name("The patient's full name"),
            SearchParam("organization", "reference", "`Organization/<id>`: its patients"),
        ),
    ),
    "Practitioner": ResourceKind("gateway", (_name("The practitioner's full name"),)),
    "PractitionerRole": ResourceKind(
        "gateway",
        (
            SearchParam("practitioner", "reference", "`Practitioner/<id>`: their role"),
            SearchParam("organization", "reference", "`Organization/<id>`: its staff"),
            SearchParam("specialty", "token", "The specialty, as the directory spells it"),
        ),
    ),
    "Organization": ResourceKind(
        "gateway",
        (
            _name("The organisation's name"),
            SearchParam("type", "token", "The kind: regional-centre, district-hospital..."),
        ),
    ),
    "Appointment": ResourceKind(
        "scheduling",
        (
            _patient(identifier=False),
            _practitioner("practitioner", "the specialist's visits"),
            _status(
                "proposed, booked, checked-in, arrived, fulfilled, cancelled, noshow, "
                "entered-in-error"
            ),
            _date("start"),
        ),
    ),
    "Schedule": ResourceKind(
        "scheduling",
        (
            SearchParam("actor", "reference", "`Practitioner/<id>`: a specialist's schedule"),
            SearchParam("specialty", "token", "The specialty, as the directory spells it"),
        ),
    ),
    "Slot": ResourceKind(
        "scheduling",
        (
            SearchParam("schedule", "reference", "`Schedule/<id>`; required"),
            SearchParam(
                "service-type",
                "token",
                "The visit type: in-person, remote, doctor-to-doctor, consilium; required",
            ),
            _status("free (only free slots are computed)"),
            _date("start; within the service's availability window, from now by default"),
        ),
    ),
    # Rooms, whose schedules are scheduling's: the place of the visits booked in them.
    "Location": ResourceKind(
        "scheduling",
        (
            SearchParam("_id", "token", "The room's id (its schedule's); comma-separated"),
            SearchParam("organization", "reference", "`Organization/<id>`: its rooms"),
            _name("The room's name"),
        ),
    ),
}


def search_description(resource_type: str, who: str) -> str:
    """A search route's OpenAPI description: whose resources it finds (`who`), then the
    parameters the type declares above, so the document and the CapabilityStatement agree."""
    params = "; ".join(
        f"`{param.name}` ({param.documentation})" for param in RESOURCES[resource_type].params
    )
    return (
        f"{who} Parameters: {params}. `_count` sizes a page ({DEFAULT_COUNT}, at most "
        f"{MAX_COUNT}) and the Bundle's `next` link fetches the next; an unknown, repeated or "
        "malformed parameter is a 400 OperationOutcome."
    )


@dataclass(frozen=True)
class Search:
    """A parsed search: the common parameters, and the type's own tokens by name."""

    patient_id: uuid.UUID | None = None
    patient_identifier: str | None = None  # the MIS's patient reference
    statuses: frozenset[str] | None = None  # FHIR codes; None: any
    start: datetime | None = None  # the main date from (inclusive)
    end: datetime | None = None  # ...until (exclusive)
    count: int = DEFAULT_COUNT
    after: tuple[datetime, uuid.UUID] | None = None  # the cursor: the last row's sort key
    tokens: Mapping[str, str] = field(default_factory=dict)


def parse_search(request: Request, resource_type: str, statuses: Collection[str] = ()) -> Search:
    """The search's parameters, checked against the type's declared ones; anything unknown,
    repeated where it cannot be, or malformed is a 400 saying which and why."""
    kind = RESOURCES[resource_type]
    values: dict[str, Any] = {}
    tokens: dict[str, str] = {}
    start: datetime | None = None
    end: datetime | None = None
    chosen: frozenset[str] | None = None
    seen: set[str] = set()
    for key, value in request.query_params.multi_items():
        name = _check_declared(kind, resource_type, key)
        if key in seen and name not in {"date", "status"}:
            raise BadRequest(f"`{key}` may be given once.", parameter=key)
        seen.add(key)
        if name == "date":
            low, high = date_bounds(value)
            start = low if start is None or (low and low > start) else start
            end = high if end is None or (high and high < end) else end
        elif name == "status":
            wanted = frozenset(code.strip() for code in value.split(","))
            unknown = sorted(wanted - set(statuses))
            if unknown:
                raise BadRequest(
                    f"`status`: {', '.join(unknown)} is not a status of {resource_type}; "
                    f"it takes {', '.join(sorted(statuses))}.",
                    parameter="status",
                )
            chosen = wanted if chosen is None else chosen & wanted
        elif key == "patient":
            values["patient_id"] = _reference_id(value, "Patient", "patient")
        elif key == "patient:identifier":
            values["patient_identifier"] = _identifier(
                value, terms_of(request).patient_reference_system
            )
        elif key == "_count":
            values["count"] = _count(value)
        elif key == CURSOR:
            values["after"] = decode_cursor(value)
        elif key != "_format":
            tokens[name] = value
    return Search(statuses=chosen, start=start, end=end, tokens=tokens, **values)


def _check_declared(kind: ResourceKind, resource_type: str, key: str) -> str:
    """The parameter's name, if the type declares it (with this modifier); else a 400."""
    name, _, modifier = key.partition(":")
    param = kind.param(name)
    if key in COMMON_PARAMS or (param is not None and modifier in ("", *param.modifiers)):
        return name
    supported = sorted({*COMMON_PARAMS - {"_format"}, *(found.name for found in kind.params)})
    raise BadRequest(
        f"`{key}` is not a search parameter of {resource_type}; it takes {', '.join(supported)}.",
        parameter=key,
    )


def _reference_id(value: str, resource_type: str, name: str) -> uuid.UUID:
    text = value.removeprefix(f"{resource_type}/")
    try:
        return uuid.UUID(text)
    except ValueError:
        raise BadRequest(
            f"`{name}` takes `{resource_type}/<id>` or a bare id; {value!r} is neither.",
            parameter=name,
        ) from None


def containing(text: str) -> str:
    """A LIKE pattern (escaped with a backslash) for names containing `text`; `%` and `_`
    typed match themselves (case folds beyond ASCII on PostgreSQL only, as in
    `GET /api/directory/users?q=`)."""
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def reference_token(search: Search, name: str, resource_type: str) -> uuid.UUID | None:
    """A type's own reference parameter (`schedule=Schedule/<id>`), if given."""
    value = search.tokens.get(name)
    return None if value is None else _reference_id(value, resource_type, name)


def _identifier(value: str, known: str) -> str:
    system, bar, code = value.rpartition("|")
    if bar and system not in {"", known}:
        raise BadRequest(
            f"`patient:identifier` knows the system {known} only.",
            parameter="patient:identifier",
        )
    if not code:
        raise BadRequest("`patient:identifier` needs a value.", parameter="patient:identifier")
    return code


def _count(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise BadRequest(
            f"`_count` is a whole number from 1; {value!r} is not.", parameter="_count"
        )
    return min(count, MAX_COUNT)  # a server may return fewer than asked


DATE_PREFIXES = ("eq", "ge", "gt", "le", "lt")
_PARTIAL_DATES = {
    re.compile(r"^\d{4}$"): "%Y",
    re.compile(r"^\d{4}-\d{2}$"): "%Y-%m",
    re.compile(r"^\d{4}-\d{2}-\d{2}$"): "%Y-%m-%d",
}


def date_bounds(value: str) -> tuple[datetime | None, datetime | None]:
    """A `date` parameter as bounds `[from, until)` on an instant: the value stands for the
    range its precision implies (a day, a month...), and the prefix picks a side of it."""
    prefix = value[:2] if value[:2].isalpha() else "eq"
    text = value[2:] if value[:2].isalpha() else value
    if prefix not in DATE_PREFIXES:
        raise BadRequest(
            f"`date`: the prefix {prefix!r} is not supported; use {', '.join(DATE_PREFIXES)}.",
            parameter="date",
        )
    low, high = _implied_range(text)
    return {
        "eq": (low, high),
        "ge": (low, None),
        "gt": (high, None),
        "le": (None, high),
        "lt": (None, low),
    }[prefix]


def _implied_range(text: str) -> tuple[datetime, datetime]:
    try:
        for pattern, layout in _PARTIAL_DATES.items():
            if pattern.fullmatch(text):
                low = within_years(datetime.strptime(text, layout).replace(tzinfo=UTC))
                if layout == "%Y":
                    return low, low.replace(year=low.year + 1)
                if layout == "%Y-%m":
                    month = low.month % 12 + 1
                    return low, low.replace(year=low.year + (month == 1), month=month)
                return low, low + timedelta(days=1)
        if "T" not in text:
            raise ValueError(text)
        moment = within_years(datetime.fromisoformat(text))
    except ValueError:
        raise BadRequest(
            f"`date`: {text!r} is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD) or dateTime "
            f"(YYYY-MM-DDThh:mm:ss+zz:zz) from {FIRST_YEAR} to {LAST_YEAR}.",
            parameter="date",
        ) from None
    # A time without an offset is read in UTC, as the native API reads one.
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment, moment + timedelta(seconds=1)


def matching_statuses(table: Mapping[Status, str], search: Search) -> list[Status] | None:
    """Our statuses whose FHIR code the search asks for; None when it asks for any."""
    if search.statuses is None:
        return None
    return [ours for ours, code in table.items() if code in search.statuses]


def one_page(
    query: Query,
    sort: SQLColumnExpression[datetime],
    key: SQLColumnExpression[uuid.UUID],
    search: Search,
) -> Query:
    """`query` within the search's dates, after its cursor, in (sort, key) order, one page
    and one row more: the extra row says whether a next page follows."""
    if search.start is not None:
        query = query.where(sort >= search.start)
    if search.end is not None:
        query = query.where(sort < search.end)
    if search.after is not None:
        query = query.where(tuple_(sort, key) > search.after)
    return query.order_by(sort, key).limit(search.count + 1)


def split_page(
    rows: Sequence[Row], search: Search, sort_key: Callable[[Row], tuple[datetime, uuid.UUID]]
) -> tuple[list[Row], tuple[datetime, uuid.UUID] | None]:
    """The page of `one_page`'s rows, and the cursor of the next if there is one."""
    page = list(rows[: search.count])
    return page, sort_key(page[-1]) if len(rows) > search.count else None
