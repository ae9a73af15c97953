"""The figures' query time over a year of hotline days: `GET /api/consult/stats` through the
gateway for a month, a quarter and a year (target p95 < 200 ms on PostgreSQL).

Starts the real processes on fresh PostgreSQL databases (dropped afterwards), creates through
the API the Kuzbass hotline of `hotline_day.py` (its insurer's contact centre, eight
polyclinics and hospitals, the territory map, operators) and two regional centres. Then a
year of such days is copied straight into the consult database with `COPY`: the appeals of
`hotline_day.year_of_appeals` (1,500 a day, those not finished by now left open) with their
histories and resolutions, 600 callbacks a day, consultations with their specialists'
questions, and patients under monitoring with the escalations of their check-ins. The year
is rolled up as the service's statistics job does (timed; then ANALYZE, as autovacuum would),
and the figures read `--requests` times per period as an operator (a coordinator of region
42). Printed: p50/p95/p99 per period, one read of a month and a year before the roll-up, the
roll-up's and the gauges' times, and the month's figures.

    .venv/bin/python bench/consult_stats.py [--days 365] [--appeals 1500] [--callbacks 600]
"""

import argparse
import asyncio
import itertools
import json
import random
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import hotline_day, support
from bench.consult_queue import measure
from bench.support import PASSWORD, Actor, Stack
from gateway.client import Organization
from services.common.db import Database
from services.consult.settings import ConsultSettings
from services.consult.stats import rollup as stats_rollup
from services.consult.stats.gauges import gauges
from telemed.registry import GATEWAY

CONSULT = "/api/consult"
ZONE = ZoneInfo(hotline_day.ZONE)
TARGET_P95_MS = 200.0
COPY_BATCH = 20_000
SPECIALTIES = ("cardiology", "neurology", "obstetrics", "oncology", "pulmonology", "surgery")
# Share and deadline of each urgency of the consultations.
URGENCIES = {"planned": (70, timedelta(days=7)), "urgent": (25, timedelta(hours=24)),
             "emergency": (5, timedelta(hours=2))}  # fmt: skip
PERIODS = {"month": 30, "quarter": 91, "year": 365}
STACK_ENV = {
    # The bench rolls up itself, when the data is in; the service's jobs stay out of its way.
    "TELEMED_CONSULT_STATS_INTERVAL_SECONDS": "3600",
    "TELEMED_CONSULT_APPEAL_ESCALATION_INTERVAL_SECONDS": "3600",
    "TELEMED_CONSULT_STATS_TIMEZONE": hotline_day.ZONE,
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--days", type=int, default=365, help="hotline days to copy in (365)")
    parser.add_argument("--appeals", type=int, default=1500, help="appeals a day (1500)")
    parser.add_argument("--callbacks", type=int, default=600, help="callbacks a day (600)")
    parser.add_argument("--cases", type=int, default=40, help="consultations a day (40)")
    parser.add_argument("--enrolments", type=int, default=2000, help="monitored (2000)")
    parser.add_argument("--requests", type=int, default=100, help="reads per period (100)")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured reads first (5)")
    parser.add_argument("--seed", type=int, default=42, help="of the synthetic data (42)")
    parser.add_argument(
        "--log-level", default="INFO", help="the services' log level (default INFO, to a file)"
    )
    args = parser.parse_args(argv)
    if not 30 <= args.days <= 730 or not 1 <= args.appeals <= 10_000:
        parser.error("--days must be 30..730 and --appeals 1..10000")
    if not 0 <= args.callbacks <= args.appeals * 0.7:
        parser.error("--callbacks must be 0..70% of --appeals (phone calls drop)")
    if not 1 <= args.requests <= 10_000 or not 0 <= args.warmup <= 1000:
        parser.error("--requests must be 1..10000 and --warmup 0..1000")
    return args


@dataclass
class World:
    hotline: hotline_day.World
    centres: list[dict[str, Any]]

    @property
    def operator(self) -> Actor:
        return self.hotline.operators[0]


def build_world(stack: Stack) -> World:
    """The hotline of `hotline_day`, and two regional centres its administrator adds."""
    hotline = hotline_day.build_world(stack, operators=2)
    with httpx.Client(base_url=stack.url(GATEWAY.name), timeout=30.0) as client:
        login = {"grant_type": "password", "username": "bench.admin", "password": PASSWORD}
        token = client.post("/api/auth/token", data=login).raise_for_status().json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        centres = [
            client.post(
                "/api/directory/organizations",
                json={"name": name, "kind": "regional_centre", "region": "42",
                      "timezone": hotline_day.ZONE},
                headers=headers,
            ).raise_for_status().json()
            for name in ("Kuzbass Regional Clinical Hospital", "Kuzbass Cardiology Centre")
        ]  # fmt: skip
    return World(hotline, centres)


# The tables copied into, parents before the tables referring to them.
TABLES = (
    "appeals", "appeal_events", "appeal_callbacks", "appeal_resolutions", "cases", "case_messages",
    "monitoring_enrolments", "monitoring_check_ins", "monitoring_tasks",
)  # fmt: skip
Row = tuple[str, dict[str, Any]]  # a table and one row of it


def _event(appeal: dict[str, Any], kind: str, at: datetime, actor: uuid.UUID | None) -> Row:
    routed_to = appeal["organization_id"] if kind == "routed" else None
    event = {
        "appeal_id": appeal["id"],
        "kind": kind,
        "at": at,
        "actor_id": actor,
        "actor_role": "coordinator" if actor else None,
        "to_organization_id": routed_to,
    }
    return "appeal_events", event


def appeal_rows(
    world: World, args: argparse.Namespace, rng: random.Random, now: datetime
) -> Iterator[Row]:
    """The year's appeals, as `hotline_day` makes them, with their histories and callbacks;
    what would be done after `now` is still open."""
    organizations = {
        code: Organization.model_validate(found)
        for code, found in world.hotline.organizations.items()
    }
    operators = [uuid.UUID(actor.id) for actor in world.hotline.operators]
    today = now.astimezone(ZONE).date()
    opening = datetime.combine(today - timedelta(days=args.days - 1), datetime.min.time(), ZONE)
    first_day = (opening + timedelta(hours=8)).astimezone(UTC)
    insurer = uuid.UUID(world.hotline.insurer["id"])
    callback_chance = args.callbacks / (args.appeals * 0.7)
    for appeal in hotline_day.year_of_appeals(
        rng, organizations, operators, first_day, days=args.days, per_day=args.appeals
    ):
        received, handled, by = appeal["received_at"], appeal["closed_at"], appeal["created_by"]
        if received > now:  # today's later hours
            continue
        if appeal["escalated_at"] is not None and appeal["escalated_at"] > now:
            appeal["escalated_at"] = None
        events = [
            _event(appeal, "received", received, by),
            _event(appeal, "routed", received, None),
        ]
        if handled > now:
            appeal.update(status="routed", first_contact_resolution=None, resolved_at=None,
                          closed_at=None, updated_at=received, redirect_topic=None)  # fmt: skip
        elif appeal["status"] == "redirected":
            events.append(_event(appeal, "redirected", handled, by))
        else:
            if not appeal["first_contact_resolution"]:
                taken = received + (handled - received) * rng.uniform(0.05, 0.4)
                events.append(_event(appeal, "taken", taken, by))
            events.append(_event(appeal, "resolved", handled, by))
        if appeal["escalated_at"] is not None:
            events.append(_event(appeal, "escalated", appeal["escalated_at"], None))
        yield "appeals", appeal
        yield from events
        if appeal["status"] == "resolved" and appeal["resolved_at"] is not None:
            yield "appeal_resolutions", _resolution(appeal)
        if appeal["channel"] == "phone" and rng.random() < callback_chance:
            yield "appeal_callbacks", _callback(appeal, insurer, rng, now)


def _resolution(appeal: dict[str, Any]) -> dict[str, Any]:
    """What was done, as `hotline_day`'s operators say it for the appeal's category."""
    return {"appeal_id": appeal["id"], "actions": json.dumps(hotline_day.DONE[appeal["category"]]),
            "details": None, "organization_id": appeal["organization_id"],
            "person_name": "Petrova Anna Sergeevna", "person_position": "Head of the polyclinic",
            "result": "resolved", "result_reason": None, "recorded_by": appeal["created_by"],
            "created_at": appeal["resolved_at"]}  # fmt: skip


def _callback(
    appeal: dict[str, Any], insurer: uuid.UUID, rng: random.Random, now: datetime
) -> dict[str, Any]:
    """A dropped call, called back by the contact centre: mostly within its 15 minutes."""
    due = appeal["received_at"] + timedelta(minutes=15)
    called = due + timedelta(minutes=rng.uniform(-13, 4))
    status = "reached" if rng.random() < 0.85 else "failed"
    closed = called if called <= now else None
    if closed is None:
        status = "pending"
    return {"id": uuid.uuid4(), "appeal_id": appeal["id"], "region": "42",
            "organization_id": insurer, "assignee_id": appeal["created_by"],
            "created_by": appeal["created_by"], "phone": "+7 913 0000000",
            "reason": "dropped_call", "status": status, "due_at": due,
            "attempts": 0 if status == "pending" else 1, "max_attempts": 3,
            "last_outcome": None if status == "pending" else "reached", "closed_at": closed,
            "created_at": appeal["received_at"], "updated_at": closed or due}  # fmt: skip


def case_rows(
    world: World, args: argparse.Namespace, rng: random.Random, now: datetime
) -> Iterator[Row]:
    """Consultations over the working days, answered well within their deadlines mostly."""
    hospitals = list(world.hotline.organizations.values())
    weights = [weight for weight, _ in URGENCIES.values()]
    for index in range(args.days * args.cases):
        day = now - timedelta(days=args.days) + timedelta(days=index / args.cases)
        submitted = day.replace(hour=1) + timedelta(seconds=rng.uniform(0, 12 * 3600))
        if submitted > now:
            continue
        urgency = rng.choices(list(URGENCIES), weights=weights)[0]
        deadline = URGENCIES[urgency][1]
        accepted = submitted + deadline * rng.uniform(0.005, 0.2)
        concluded = submitted + deadline * rng.uniform(0.2, 1.2)
        status = "concluded" if concluded <= now else "in_progress"
        case = {"id": uuid.uuid4(), "kind": "doctor_to_doctor", "status": status,
                "requester_id": uuid.uuid4(),
                "requesting_organization_id": uuid.UUID(rng.choice(hospitals)["id"]),
                "target_organization_id": uuid.UUID(rng.choice(world.centres)["id"]),
                "specialty": rng.choice(SPECIALTIES), "region": "42",
                "patient_reference": f"MIS-42-{index:07d}", "patient_full_name": "Petrov Ivan",
                "patient_birth_date": date(1961, 4, 12), "patient_sex": "male",
                "patient_insurance_policy": "4250000000000123", "urgency": urgency,
                "mode": "written", "question": "Is transfer for PCI indicated?", "summary": "{}",
                "attachment_ids": "[]", "attachments": "[]", "worsening_signs": "[]",
                "flagged": False, "due_at": submitted + deadline, "submitted_at": submitted,
                "accepted_at": accepted if accepted <= now else None,
                "concluded_at": concluded if status == "concluded" else None,
                "closed_at": concluded if status == "concluded" else None,
                "created_at": submitted, "updated_at": min(concluded, now)}  # fmt: skip
        yield "cases", case
        if rng.random() < 0.15 and accepted <= now:
            yield "case_messages", (
                {"id": uuid.uuid4(), "case_id": case["id"], "author_id": uuid.uuid4(),
                 "author_role": "specialist", "kind": "info_request",
                 "text": "Please add the ECG.", "created_at": accepted - (accepted - submitted) / 2}
            )  # fmt: skip


def monitoring_rows(
    world: World, args: argparse.Namespace, rng: random.Random, now: datetime
) -> Iterator[Row]:
    """Patients under monitoring by the polyclinics, most discharged within two months, and
    the home visits and ambulances one in three of them needed once."""
    organizations = list(world.hotline.organizations.values())
    for index in range(args.enrolments):
        enrolled = now - timedelta(days=rng.uniform(0, args.days))
        leaves = enrolled + timedelta(days=rng.uniform(7, 60))
        discharged = leaves if leaves <= now else None
        organization = uuid.UUID(rng.choice(organizations)["id"])
        enrolment = {"id": uuid.uuid4(), "programme": "heart_failure",
                     "status": "discharged" if discharged else "active",
                     "organization_id": organization, "patient_reference": f"MIS-42-P{index:06d}",
                     "patient_full_name": "Ivanova Anna", "patient_birth_date": date(1950, 1, 1),
                     "patient_sex": "female", "patient_insurance_policy": "4250000000000999",
                     "contact_phone": "+7 913 0000000", "indication": "Heart failure.",
                     "interval_hours": 24, "enrolled_by": uuid.UUID(world.operator.id),
                     "enrolled_at": enrolled, "next_due_at": enrolled + timedelta(days=1),
                     "discharged_at": discharged,
                     "discharge_reason": "recovered" if discharged else None,
                     "created_at": enrolled, "updated_at": discharged or enrolled}  # fmt: skip
        yield "monitoring_enrolments", enrolment
        worse = enrolled + timedelta(days=rng.uniform(1, 6))
        if rng.random() < 1 / 3 and worse <= now:
            yield from _escalation(enrolment, worse, rng)


def _escalation(enrolment: dict[str, Any], at: datetime, rng: random.Random) -> Iterator[Row]:
    kind = "ambulance" if rng.random() < 0.2 else "home_visit"
    check_in = {"id": uuid.uuid4(), "enrolment_id": enrolment["id"], "checked_at": at,
                "recorded_by": enrolment["enrolled_by"], "recorder_role": "coordinator",
                "vital_signs": json.dumps({"spo2": 89}),
                "symptoms": json.dumps(["shortness_of_breath"]), "wellbeing": "worse",
                "note": "Worse since the morning.", "escalation": kind,
                "fired_rules": json.dumps(["spo2_low"])}  # fmt: skip
    yield "monitoring_check_ins", check_in
    yield "monitoring_tasks", (
        {"id": uuid.uuid4(), "enrolment_id": enrolment["id"], "check_in_id": check_in["id"],
         "organization_id": enrolment["organization_id"], "kind": kind,
         "urgency": "emergency" if kind == "ambulance" else "urgent", "status": "done",
         "reasons": json.dumps(["spo2_low"]), "created_at": at}
    )  # fmt: skip


async def _copy(connection: Any, table: str, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])  # every row of a table names the same ones; the rest take defaults
    records = [tuple(row[name] for name in columns) for row in rows]
    await connection.copy_records_to_table(table, records=records, columns=columns)


async def copy(dsn: str, rows: Iterable[Row]) -> dict[str, int]:
    """COPYs `rows` in batches, each batch's tables parents first; then ANALYZE."""
    copied = dict.fromkeys(TABLES, 0)
    pending: dict[str, list[dict[str, Any]]] = {table: [] for table in TABLES}
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        for number, (table, row) in enumerate(rows, start=1):
            pending[table].append(row)
            if number % COPY_BATCH == 0:
                for name, batch in pending.items():
                    if batch:
                        await _copy(connection, name, batch)
                        copied[name] += len(batch)
                        batch.clear()
        for name, batch in pending.items():
            if batch:
                await _copy(connection, name, batch)
                copied[name] += len(batch)
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return copied


async def roll_up(url: str, now: datetime) -> tuple[float, int, float, int]:
    """The statistics job's work, as the service does it: the year rolled up, batch by batch,
    then the gauges computed. Returns the seconds of each, the roll-up's rows and the gauges'
    series."""
    settings = ConsultSettings(database_url=url, stats_timezone=ZONE)
    database = Database(url)
    try:
        started = time.perf_counter()
        await stats_rollup.roll_up(database, settings, now)
        rolled = time.perf_counter() - started
        started = time.perf_counter()
        families = await gauges(database, settings, now)
        refreshed = time.perf_counter() - started
    finally:
        await database.dispose()
    connection = await asyncpg.connect(support.asyncpg_dsn(url), timeout=10)
    try:
        # As autovacuum does within a minute of so many inserts into empty tables; without
        # statistics the planner sorts the year's rows on disk instead of hashing them.
        await connection.execute("ANALYZE stats_figures, stats_days, stats_months")
        count = await connection.fetchval("SELECT count(*) FROM stats_figures")
    finally:
        await connection.close()
    return rolled, count, refreshed, sum(len(family.samples) for family in families)


def paths(now: datetime) -> dict[str, str]:
    today = now.astimezone(ZONE).date()
    found = {"month": f"{CONSULT}/stats"}  # the default: the last 30 days
    for name, days in PERIODS.items():
        if name != "month":
            period = {"from": (today - timedelta(days=days - 1)).isoformat(), "to": today}
            found[name] = f"{CONSULT}/stats?{urlencode(period)}"
    return found


def describe(body: bytes) -> Iterator[str]:
    figures = json.loads(body)
    totals = figures["totals"]
    cases, appeals = totals["cases"], totals["appeals"]
    callbacks, monitoring = totals["callbacks"], totals["monitoring"]

    def minutes(percentiles: dict[str, Any]) -> str:
        median, p90 = percentiles["median_seconds"], percentiles["p90_seconds"]
        if median is None:
            return "none"
        return f"median {median / 60:.1f} min, p90 {p90 / 60:.1f} min"

    def share(rate: dict[str, Any]) -> str:
        ratio = rate["ratio"]
        return f"{rate['count']:,} of {rate['of']:,} ({ratio:.1%})" if ratio is not None else "-"

    yield (f"{figures['from']} to {figures['to']} ({figures['timezone']}), region "
           f"{figures['region']}, {len(figures['groups'])} organisations")  # fmt: skip
    yield (f"cases: {cases['submitted']:,} submitted, {cases['concluded']:,} concluded; first "
           f"response {minutes(cases['first_response'])}; conclusion "
           f"{minutes(cases['conclusion'])}; within deadline {share(cases['within_deadline'])}; "
           f"overdue now {cases['overdue_now']}")  # fmt: skip
    yield (f"appeals: {appeals['received']:,} received, {appeals['resolved']:,} resolved; first "
           f"response {minutes(appeals['first_response'])}; resolution "
           f"{minutes(appeals['resolution'])}; within deadline "
           f"{share(appeals['within_deadline'])}; first contact "
           f"{share(appeals['first_contact_resolution'])}; escalated {appeals['escalated']:,}; "
           f"overdue now {appeals['overdue_now']}")  # fmt: skip
    done = appeals["resolutions"]["by_action"]
    yield "resolutions: " + ", ".join(
        f"{action} {count:,}" for action, count in sorted(done.items(), key=lambda item: -item[1])
        if count
    )  # fmt: skip
    yield (f"callbacks: {callbacks['owed']:,} owed, within due time "
           f"{share(callbacks['within_due_time'])}")  # fmt: skip
    yield (
        f"monitoring: {monitoring['patients_now']:,} patients now, "
        f"{monitoring['patients']:,} in the period, {monitoring['escalations']} escalations"
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    print(
        f"consult stats: {args.days} hotline days of {args.appeals:,} appeals and about "
        f"{args.callbacks} callbacks, {args.cases} consultations a day, {args.enrolments:,} "
        f"monitored patients, on PostgreSQL; {args.requests} reads per period through the gateway"
    )
    print(support.machine_report()[0])
    rng = random.Random(args.seed)
    with support.scratch_stack(
        "postgresql", log_level=args.log_level, extra_env=STACK_ENV
    ) as stack:
        world = build_world(stack)
        now = datetime.now(UTC)
        started = time.perf_counter()
        url = stack.database_urls["consult"]
        rows = itertools.chain(
            appeal_rows(world, args, rng, now),
            case_rows(world, args, rng, now),
            monitoring_rows(world, args, rng, now),
        )
        copied = asyncio.run(copy(support.asyncpg_dsn(url), rows))
        print(f"generated and copied in {time.perf_counter() - started:.0f} s:")
        print("  " + ", ".join(f"{table} {count:,}" for table, count in copied.items()))
        host, port = stack.launcher.host, stack.port("gateway")
        headers = world.operator.headers
        reads = paths(now)
        for name in ("month", "year"):
            latencies, _ = asyncio.run(measure(host, port, reads[name], headers, 1))
            print(f"before the roll-up, one read of the {name}: {latencies[0] * 1000:,.0f} ms")
        peak = support.process_memory_kib(stack.pid("consult"))["VmHWM"] / 1024
        print(f"  the consult process's peak memory (VmHWM) after them: {peak:,.0f} MB")
        rolled, count, refreshed, series = asyncio.run(roll_up(url, now))
        print(
            f"rolled up {args.days} days into {count:,} rows in {rolled:.1f} s; the gauges "
            f"(the last 30 days, {series:,} series) refreshed in {refreshed * 1000:.0f} ms"
        )
        print()
        print(f"as {world.operator.username} (coordinator, region 42), through the gateway")
        print(f"  {'period':<8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7}  p95<200")
        verdicts, month = [], b""
        for name, path in reads.items():
            asyncio.run(measure(host, port, path, headers, max(args.warmup, 1)))
            latencies, first = asyncio.run(measure(host, port, path, headers, args.requests))
            month = month or first
            summary = support.summarize(latencies)
            met = summary.p95 < TARGET_P95_MS
            verdicts.append(met)
            print(
                f"  {name:<8} {summary.p50:>7.1f} {summary.p95:>7.1f} {summary.p99:>7.1f} "
                f"{summary.max:>7.1f}  {'met' if met else 'MISSED'}"
            )
        print()
        print("the month's figures:")
        for line in describe(month):
            print(f"  {line}")
    print()
    print("all targets met" if all(verdicts) else "some targets MISSED")


if __name__ == "__main__":
    main()
