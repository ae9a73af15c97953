"""The schedule form: weekly hours typed per weekday ("09:00-13:00, 14:00-18:00"), the visit
types with their lengths and buffers, and the booking policy, as the scheduling API's body; an
exception's dates read in the schedule's zone."""

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from web.cases.forms import FormState
from web.registry.schemas import Schedule

VISIT_TYPES = ("in_person", "remote", "doctor_to_doctor", "consilium")
# A regional centre's usual lengths (scheduling's own defaults): duration, buffers before, after.
DEFAULT_TYPES = {
    "in_person": (30, 0, 10),
    "remote": (20, 5, 5),
    "doctor_to_doctor": (30, 0, 0),
    "consilium": (60, 10, 10),
}
DEFAULT_HOURS = "09:00-17:00"
POLICY = ("slot_step_minutes", "min_notice_minutes", "horizon_days")
TYPE_PARTS = {
    "duration_minutes": "duration",
    "buffer_before_minutes": "before",
    "buffer_after_minutes": "after",
}
FIELDS = (
    *(f"hours_{day}" for day in range(7)),
    *(f"{part}_{kind}" for kind in VISIT_TYPES for part in ("offer", *TYPE_PARTS.values())),
    *POLICY,
)
INTERVAL = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-\u2013\u2014]\s*(\d{1,2}:\d{2})\s*$")
EXCEPTION_FIELDS = ("kind", "start_date", "start_time", "end_date", "end_time", "reason")


def schedule_values(schedule: Schedule | None) -> dict[str, str]:
    """The form filled in from the stored schedule, or with the usual week for a new one."""
    if schedule is None:
        values = {f"hours_{day}": DEFAULT_HOURS if day < 5 else "" for day in range(7)}
        for kind, (duration, before, after) in DEFAULT_TYPES.items():
            values |= {
                f"offer_{kind}": "yes",
                f"duration_{kind}": str(duration),
                f"before_{kind}": str(before),
                f"after_{kind}": str(after),
            }
        return values | {
            "slot_step_minutes": "15",
            "min_notice_minutes": "120",
            "horizon_days": "90",
        }
    values = {
        f"hours_{day}": ", ".join(
            f"{item.start}-{item.end}" for item in schedule.weekly_hours if item.weekday == day
        )
        for day in range(7)
    }
    for kind in VISIT_TYPES:
        values[f"duration_{kind}"] = str(DEFAULT_TYPES[kind][0])
    for item in schedule.visit_types:
        values |= {
            f"offer_{item.type}": "yes",
            f"duration_{item.type}": str(item.duration_minutes),
            f"before_{item.type}": str(item.buffer_before_minutes),
            f"after_{item.type}": str(item.buffer_after_minutes),
        }
    return values | {name: str(getattr(schedule, name)) for name in POLICY}


def _padded(clock: str) -> str:
    hours, minutes = clock.split(":")
    return f"{int(hours):02d}:{minutes}"


def schedule_body(values: dict[str, str]) -> tuple[dict[str, Any], FormState | None]:
    """The API's body, and the form with its mistakes when an interval is not in the form's
    format (the API never sees that text; it checks the times themselves)."""
    hours, errors = [], {}
    for day in range(7):
        for part in filter(None, re.split(r"[,;]", values[f"hours_{day}"])):
            found = INTERVAL.match(part)
            if found is None:
                errors[f"hours_{day}"] = ["interval"]
                continue
            start, end = (_padded(found.group(1)), _padded(found.group(2)))
            hours.append({"weekday": day, "start": start, "end": end})
    types = [
        {"type": kind}
        | {api: values[f"{field}_{kind}"] or "0" for api, field in TYPE_PARTS.items()}
        for kind in VISIT_TYPES
        if values[f"offer_{kind}"] == "yes"
    ]
    body = {"weekly_hours": hours, "visit_types": types} | {name: values[name] for name in POLICY}
    return body, FormState(values=values, errors=errors) if errors else None


def schedule_field(location: tuple[str | int, ...], body: dict[str, Any]) -> str | None:
    """The form field an API error is about: `("weekly_hours", 3, "end")` is the weekday of the
    body's fourth interval, `("visit_types", 1, "duration_minutes")` the second type's length."""
    head = str(location[0]) if location else ""
    index = location[1] if len(location) > 1 and isinstance(location[1], int) else None
    if head == "weekly_hours" and index is not None and index < len(body["weekly_hours"]):
        return f"hours_{body['weekly_hours'][index]['weekday']}"
    if head == "visit_types" and index is not None and index < len(body["visit_types"]):
        kind = body["visit_types"][index]["type"]
        part = TYPE_PARTS.get(str(location[2])) if len(location) > 2 else None
        return f"{part or 'duration'}_{kind}"
    return head if head in POLICY else None


def exception_body(values: dict[str, str], zone: str) -> tuple[dict[str, Any], FormState | None]:
    """From the start of its start day (or the time given) to the end of its end day (or the
    time given), in the schedule's zone."""
    errors: dict[str, list[str]] = {}
    moments = {}
    for end, name in ((False, "start"), (True, "end")):
        try:
            day = date.fromisoformat(values[f"{name}_date"])
            at = time.fromisoformat(values[f"{name}_time"]) if values[f"{name}_time"] else None
        except ValueError:
            errors[f"{name}_date"] = ["missing" if not values[f"{name}_date"] else "format"]
            continue
        if at is None and end:
            day, at = day + timedelta(days=1), time()
        moments[name] = datetime.combine(day, at or time(), ZoneInfo(zone)).isoformat()
    if errors:
        return {}, FormState(values=values, errors=errors)
    body = {"kind": values["kind"], **moments}
    return body | ({"reason": values["reason"]} if values["reason"] else {}), None


def exception_field(location: tuple[str | int, ...]) -> str | None:
    head = str(location[0]) if location else ""
    return {"start": "start_date", "end": "end_date", "kind": "kind", "reason": "reason"}.get(head)
