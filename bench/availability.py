"""Availability of a specialty over 14 days with 200 practitioners 30% booked, and bookings/s.

PostgreSQL only (127.0.0.1:5432, fresh databases that are dropped afterwards). Starts the real
processes with `telemed.launcher.Launcher`; through the API creates three regional centres
(UTC+7, UTC+7, UTC+10), a specialist who sets up a schedule and a district medic. Then copies
straight into the scheduling database 200 practitioners' schedules (ten specialties with a
regional centre's mix; weekday hours of a few realistic shapes, some with Saturday mornings,
one in twenty on leave for a few days) and, over the next 30 days, appointments of every visit
type filling 30% of each one's working time, placed with the service's own slot arithmetic so
that none overlaps; then `ANALYZE`.

Measured, with the medic's token, sequentially on one keep-alive connection, straight to the
scheduling process and through the gateway: `GET /api/scheduling/availability` for the largest
specialty, in-person visits, over the next 14 days, as the default page (the first 200 free
slots; target: p95 under 100 ms) and as the largest page (1000). Then booking
throughput under contention: 50 concurrent clients, each on its own keep-alive connection to the
gateway, book distinct free slots of days 31 to 45 (in-person first visits, each opening its
care episode) as fast as they are answered; printed as bookings per second, with the latency,
the CPU each booking cost the scheduling process, the gateway and PostgreSQL (on a shared
machine a steadier figure than the rate), and any answer other than 201. Last, an SQL check
counts the double bookings left in the database: pairs of appointments holding time on one
schedule whose buffered spans overlap.

    .venv/bin/python bench/availability.py [--practitioners 200] [--requests 200]
"""

import argparse
import asyncio
import json
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from bench import support
from bench.support import Actor, Directory, Stack
from services.common.db import UTCDateTime
from services.scheduling.enums import VIDEO_VISITS, ScheduleKind, VisitType
from services.scheduling.models import HOLDS_TIME, Appointment, Schedule
from services.scheduling.schedules import plan_of, visit_of
from services.scheduling.schemas import default_visit_types
from services.scheduling.timeplan import epoch, free_starts, instant, merge, working_hours

P95_TARGET_MS = 100.0
BOOKED_SHARE = 0.30
WINDOW_DAYS = 14
SPECIALTIES = {
    "cardiology": 22,
    "neurology": 15,
    "obstetrics": 12,
    "oncology": 10,
    "pulmonology": 10,
    "endocrinology": 8,
    "paediatrics": 8,
    "traumatology": 7,
    "nephrology": 4,
    "infectious_diseases": 4,
}
VISIT_MIX = {VisitType.IN_PERSON: 50, VisitType.REMOTE: 35, VisitType.DOCTOR_TO_DOCTOR: 12,
             VisitType.CONSILIUM: 3}  # fmt: skip
# Weekday patterns: (start, end) intervals; a few also work Saturday mornings.
HOURS = [
    [("08:00", "12:00"), ("13:00", "17:00")],
    [("09:00", "13:00"), ("14:00", "18:00")],
    [("08:30", "14:30")],
    [("12:00", "20:00")],
]
COPY_BATCH = 5_000
SURNAMES = ["Ivanova", "Petrov", "Smirnova", "Kuznetsov", "Popova", "Sokolov", "Lebedeva",
            "Kozlov", "Novikova", "Morozov", "Volkova", "Fedorov"]  # fmt: skip
GIVEN_NAMES = ["Anna", "Ivan", "Olga", "Sergei", "Elena", "Dmitry", "Tatiana", "Nikolai"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--practitioners", type=int, default=200, help="(default 200)")
    parser.add_argument("--requests", type=int, default=200, help="per measurement (200)")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured requests first (20)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent bookers (50)")
    parser.add_argument("--bookings", type=int, default=2000, help="bookings to make (2000)")
    parser.add_argument("--seed", type=int, default=42, help="of the synthetic data (42)")
    parser.add_argument(
        "--log-level", default="WARNING", help="the services' log level (default WARNING)"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.practitioners <= 10_000 or not 1 <= args.requests <= 10_000:
        parser.error("--practitioners must be 1..10000 and --requests 1..10000")
    if not 1 <= args.clients <= 1000 or not args.clients <= args.bookings <= 100_000:
        parser.error("--clients must be 1..1000 and --bookings clients..100000")
    return args


@dataclass
class World:
    centres: list[dict[str, Any]]
    medic: Actor
    hospital: dict[str, Any]
    patient: Actor  # of the medic's hospital: a medic books for their organisation's patients


def build_world(stack: Stack) -> World:
    with Directory(stack) as directory:
        centres = [
            directory.organization("Novosibirsk Regional Hospital", "regional_centre", "54",
                                   "Asia/Novosibirsk"),
            directory.organization("Kuzbass Regional Hospital", "regional_centre", "42",
                                   "Asia/Novokuznetsk"),
            directory.organization("Primorye Regional Hospital", "regional_centre", "25",
                                   "Asia/Vladivostok"),
        ]  # fmt: skip
        hospital = directory.organization("Tashtagol District Hospital", "district_hospital")
        medic = directory.actor("medic.tashtagol", "district_medic", hospital)
        patient = directory.actor("patient.tashtagol", "patient", hospital)
        specialist = directory.actor("cardiology.api", "specialist", centres[0], "cardiology")
        # One schedule through the API too: the write path works on this database.
        response = directory.client.post(
            "/api/scheduling/schedules",
            json={"weekly_hours": weekly_hours(HOURS[0], saturday=False)},
            headers=specialist.headers,
        )
        directory._ok(response, 201)
    return World(centres, medic, hospital, patient)


def weekly_hours(pattern: list[tuple[str, str]], *, saturday: bool) -> list[dict[str, Any]]:
    hours = [
        {"weekday": day, "start": start, "end": end} for day in range(5) for start, end in pattern
    ]
    if saturday:
        hours.append({"weekday": 5, "start": "09:00", "end": "13:00"})
    return hours


def synthetic_schedules(world: World, count: int, rng: random.Random, now: datetime) -> list[Any]:
    visit_types = [config.model_dump(mode="json") for config in default_visit_types()]
    schedules = []
    for index in range(count):
        centre = rng.choices(world.centres, weights=[50, 30, 20])[0]
        specialty = rng.choices(list(SPECIALTIES), weights=list(SPECIALTIES.values()))[0]
        schedules.append(
            Schedule(
                id=uuid.uuid4(),
                kind=ScheduleKind.PRACTITIONER,
                practitioner_id=uuid.uuid4(),
                name=f"bench.practitioner.{index}",
                organization_id=uuid.UUID(centre["id"]),
                specialty=specialty,
                timezone=centre["timezone"],
                weekly_hours=weekly_hours(rng.choice(HOURS), saturday=rng.random() < 0.2),
                visit_types=visit_types,
                slot_step_minutes=15,
                min_notice_minutes=120,
                horizon_days=90,
                created_by=uuid.uuid4(),
                created_at=now,
                updated_at=now,
            )
        )
    return schedules


def leave_for(schedules: list[Any], rng: random.Random, now: datetime) -> dict[uuid.UUID, Any]:
    """One practitioner in twenty is away for 2 to 5 days of the window."""
    leave = {}
    for schedule in schedules:
        if rng.random() < 0.05:
            start = now + timedelta(days=rng.randrange(1, WINDOW_DAYS))
            leave[schedule.id] = (start, start + timedelta(days=rng.randrange(2, 6)))
    return leave


def synthetic_appointments(
    schedules: list[Any],
    leave: dict[uuid.UUID, Any],
    rng: random.Random,
    now: datetime,
    horizon: datetime,
    medic_organization: uuid.UUID,
) -> Iterator[dict[str, Any]]:
    """Per practitioner, visits at random free slots until 30% of their working time is taken."""
    low, high = epoch(now + timedelta(hours=3)), epoch(horizon)
    for schedule in schedules:
        plan = plan_of(schedule)
        away = (
            [(epoch(leave[schedule.id][0]), epoch(leave[schedule.id][1]))]
            if schedule.id in leave
            else []
        )
        hours = working_hours(plan, (low, high), unavailable=away)
        intervals = [
            (max(start, low), min(end, high)) for start, end in hours.intervals if end > low
        ]
        working = sum(end - start for start, end in intervals)
        busy: list[tuple[int, int]] = []
        booked = 0
        candidates = [start for start, _ in intervals]
        for _ in range(100_000):
            if booked >= working * BOOKED_SHARE or not candidates:
                break
            kind = rng.choices(list(VISIT_MIX), weights=list(VISIT_MIX.values()))[0]
            visit = visit_of(schedule, kind)
            assert visit is not None
            day_start, day_end = rng.choice(intervals)
            free = list(free_starts(plan, visit, hours, busy, (day_start, day_end)))
            if not free:
                continue
            start = rng.choice(free)
            busy = merge([*busy, (start - visit.buffer_before,
                                  start + visit.duration + visit.buffer_after)])  # fmt: skip
            booked += visit.duration
            yield appointment_row(schedule, kind, visit, start, rng, now, medic_organization)


def appointment_row(
    schedule: Any, kind: VisitType, visit: Any, start: int, rng: random.Random, now: datetime,
    medic_organization: uuid.UUID,
) -> dict[str, Any]:  # fmt: skip
    """The columns the booking path fills; `complete_row` gives any other column a value."""
    starts_at, ends_at = instant(start), instant(start + visit.duration)
    video = kind in VIDEO_VISITS
    with_patient = kind in {VisitType.IN_PERSON, VisitType.REMOTE}
    return {
        "id": uuid.uuid4(),
        "schedule_id": schedule.id,
        "practitioner_id": schedule.practitioner_id,
        "organization_id": schedule.organization_id,
        "specialty": schedule.specialty,
        "timezone": schedule.timezone,
        "patient_id": uuid.uuid4() if with_patient else None,
        # The directory's name of the patient, kept with the visit as a booking does.
        "patient_name": f"{rng.choice(SURNAMES)} {rng.choice(GIVEN_NAMES)}"
        if with_patient
        else None,
        "patient_birth_date": (
            date(1940, 1, 1) + timedelta(days=rng.randrange(80 * 365)) if with_patient else None
        ),
        "requesting_organization_id": medic_organization,
        "patient_timezone": "Asia/Novokuznetsk",
        "episode_id": None,
        "consult_case_id": None,
        "series_id": None,
        "visit_type": kind.value,
        "status": "booked" if rng.random() < 0.95 else "proposed",
        "starts_at": starts_at,
        "ends_at": ends_at,
        "busy_from": starts_at - timedelta(seconds=visit.buffer_before),
        "busy_until": ends_at + timedelta(seconds=visit.buffer_after),
        "hold_expires_at": now + timedelta(hours=1),
        "replaces_id": None,
        "replaced_by_id": None,
        "booked_by": uuid.uuid4(),
        "status_changed_at": now,
        "cancel_reason": None,
        "room_state": "pending" if video else None,
        "room_id": None,
        "room_join_url": None,
        "room_updated_at": now if video else None,
        "created_at": now,
        "updated_at": now,
    }


def schedule_row(schedule: Any) -> dict[str, Any]:
    row = {column.key: getattr(schedule, column.key) for column in Schedule.__table__.columns}
    row["kind"] = schedule.kind.value
    row["weekly_hours"] = json.dumps(schedule.weekly_hours)
    row["visit_types"] = json.dumps(schedule.visit_types)
    return row


def complete_row(table: Any, row: dict[str, Any], now: datetime) -> tuple[Any, ...]:
    """`row` in the order of the table's columns: a column the synthetic rows do not name
    (one added since the benchmark was written) gets its default, the copy's time or null,
    so a new column does not stop the copy; one that needs a value it cannot guess does."""
    values = []
    for column in table.columns:
        if column.name in row:
            values.append(row[column.name])
        elif column.default is not None and column.default.is_scalar:
            values.append(column.default.arg)
        elif isinstance(column.type, UTCDateTime):
            values.append(now)
        elif column.nullable:
            values.append(None)
        else:
            raise KeyError(f"{table.name}.{column.name} needs a value in the synthetic rows")
    return tuple(values)


async def copy_rows(
    connection: Any, table: Any, rows: Iterator[dict[str, Any]], now: datetime
) -> int:
    columns = [column.name for column in table.columns]
    batch, total = [], 0
    for row in rows:
        batch.append(complete_row(table, row, now))
        if len(batch) == COPY_BATCH:
            await connection.copy_records_to_table(table.name, records=batch, columns=columns)
            total, batch = total + len(batch), []
    if batch:
        await connection.copy_records_to_table(table.name, records=batch, columns=columns)
        total += len(batch)
    return total


async def load(dsn: str, world: World, args: argparse.Namespace, now: datetime) -> dict[str, Any]:
    """Copies the schedules, leave and appointments in; returns what the measurements need."""
    rng = random.Random(args.seed)
    schedules = synthetic_schedules(world, args.practitioners, rng, now)
    leave = leave_for(schedules, rng, now)
    medic_organization = uuid.UUID(world.hospital["id"])
    started = time.perf_counter()
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        await copy_rows(connection, Schedule.__table__, (schedule_row(s) for s in schedules), now)
        leave_rows = [(uuid.uuid4(), key, start, end, uuid.uuid4(), now)
                      for key, (start, end) in leave.items()]  # fmt: skip
        await connection.executemany(
            "INSERT INTO schedule_exceptions (id, schedule_id, kind, starts_at, ends_at, reason, "
            "created_by, created_at) VALUES ($1, $2, 'unavailable', $3, $4, 'Leave', $5, $6)",
            leave_rows,
        )
        rows = synthetic_appointments(
            schedules, leave, rng, now, now + timedelta(days=30), medic_organization
        )
        appointments = await copy_rows(connection, Appointment.__table__, rows, now)
        await connection.execute("ANALYZE")
        size = await connection.fetchval(
            "SELECT pg_size_pretty(pg_total_relation_size('appointments'))"
        )
    finally:
        await connection.close()
    specialty = Counter(schedule.specialty for schedule in schedules).most_common(1)[0]
    return {
        "schedules": schedules,
        "leave": leave,
        "appointments": appointments,
        "size": size,
        "seconds": time.perf_counter() - started,
        "specialty": specialty,
    }


async def measure(
    host: str, port: int, path: str, headers: dict[str, str], requests: int
) -> tuple[list[float], bytes]:
    """Sequential requests on one keep-alive connection; latency of each, first body."""
    connection = support.HttpConnection(host, port)
    raw = support.get_request(host, port, path, headers)
    latencies, first = [], b""
    try:
        for index in range(requests):
            started = time.perf_counter()
            status, body = await connection.request(raw)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                raise RuntimeError(f"{path} answered {status}: {body[:300]!r}")
            if index == 0:
                first = body
    finally:
        await connection.close()
    return latencies, first


def post_request(host: str, port: int, path: str, headers: dict[str, str], body: Any) -> bytes:
    payload = json.dumps(body).encode()
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Content-Type: application/json",
             f"Content-Length: {len(payload)}"]  # fmt: skip
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload


def distinct_slots(
    schedules: list[Any], leave: dict[uuid.UUID, Any], now: datetime, count: int
) -> list[tuple[uuid.UUID, datetime]]:
    """Free in-person slots of days 31 to 45 (beyond the copied appointments), one per
    practitioner-hour, so that no two of them can conflict."""
    low, high = epoch(now + timedelta(days=31)), epoch(now + timedelta(days=45))
    per_schedule = []
    for schedule in schedules:
        plan = plan_of(schedule)
        visit = visit_of(schedule, VisitType.IN_PERSON)
        assert visit is not None
        hours = working_hours(plan, (low, high))
        starts = list(free_starts(plan, visit, hours, [], (low, high)))
        hourly = [start for start in starts if start % 3600 == starts[0] % 3600] if starts else []
        per_schedule.append([(schedule.practitioner_id, instant(start)) for start in hourly])
    slots = []
    for round_ in range(max(len(found) for found in per_schedule)):
        slots += [found[round_] for found in per_schedule if round_ < len(found)]
    if len(slots) < count:
        raise RuntimeError(f"only {len(slots)} distinct slots for {count} bookings")
    return slots[:count]


async def book_all(
    host: str,
    port: int,
    medic: Actor,
    patient: Actor,
    slots: list[tuple[uuid.UUID, datetime]],
    clients: int,
) -> tuple[float, Counter[int], list[float], list[bytes]]:
    """`clients` keep-alive connections book their share of `slots` back to back."""
    shares = [slots[index::clients] for index in range(clients)]
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    samples: list[bytes] = []

    async def client(share: list[tuple[uuid.UUID, datetime]]) -> None:
        connection = support.HttpConnection(host, port)
        try:
            for practitioner_id, start in share:
                body = {"practitioner_id": str(practitioner_id), "visit_type": "in_person",
                        "start": start.isoformat(), "patient_id": patient.id}  # fmt: skip
                raw = post_request(host, port, "/api/scheduling/appointments", medic.headers, body)
                started = time.perf_counter()
                status, answer = await connection.request(raw)
                latencies.append(time.perf_counter() - started)
                statuses[status] += 1
                if status != 201 and len(samples) < 3:
                    samples.append(answer[:300])
        finally:
            await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(share) for share in shares))
    return time.perf_counter() - started, statuses, latencies, samples


Watch = dict[str, Callable[[], list[int]]]


def booking_processes(stack: Stack) -> Watch:
    """The processes a booking costs CPU in: the scheduling service, the gateway, and the
    PostgreSQL backends of this run's own databases (not other work on the same server)."""
    scheduling, gateway = stack.pid("scheduling"), stack.pid("gateway")
    databases = frozenset(url.rsplit("/", 1)[1] for url in stack.database_urls.values())
    return {
        "scheduling": lambda: [scheduling],
        "gateway": lambda: [gateway],
        "PostgreSQL": lambda: support.pg_backends(databases),
    }


def cpu_seconds(watch: Watch) -> dict[str, dict[int, float]]:
    """CPU seconds used so far by each watched process, by name and pid."""
    return {
        name: {pid: support.process_cpu_seconds(pid) for pid in pids()}
        for name, pids in watch.items()
    }


def cpu_used(
    before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]
) -> dict[str, float]:
    """CPU seconds per name in between; a backend that ended in between is lost, so
    PostgreSQL's figure is a lower bound."""
    return {
        name: sum(cpu - before[name].get(pid, 0.0) for pid, cpu in pids.items())
        for name, pids in after.items()
    }


async def double_bookings(dsn: str) -> int:
    """Pairs of appointments that hold their time on one practitioner's (or room's) schedule
    and whose buffered spans overlap: what the booking path must never let in."""
    holds = HOLDS_TIME.replace("status", "{}.status")
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM appointments a JOIN appointments b"
            " ON b.schedule_id = a.schedule_id AND b.id > a.id"
            " AND b.busy_from < a.busy_until AND b.busy_until > a.busy_from"
            f" WHERE {holds.format('a')} AND {holds.format('b')}"
        )
    finally:
        await connection.close()
    return count


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    print(
        f"availability: {args.practitioners} practitioners {BOOKED_SHARE:.0%} booked on "
        f"PostgreSQL, {args.requests} sequential requests per read after {args.warmup} unmeasured"
    )
    print(support.machine_report()[0])
    with support.scratch_stack("postgresql", log_level=args.log_level) as stack:
        world = build_world(stack)
        now = datetime.now(UTC)
        dsn = support.asyncpg_dsn(stack.database_urls["scheduling"])
        loaded = asyncio.run(load(dsn, world, args, now))
        specialty, practitioners = loaded["specialty"]
        print(
            f"copied {args.practitioners} schedules ({len(loaded['leave'])} with leave) and "
            f"{loaded['appointments']:,} appointments over 30 days in {loaded['seconds']:.1f} s "
            f"(appointments: {loaded['size']} with indexes)"
        )
        start = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        print()
        print(f"GET availability of {specialty} ({practitioners} practitioners), in-person, "
              f"{WINDOW_DAYS} days from tomorrow, as {world.medic.username}")  # fmt: skip
        print(f"  {'page':<22} {'via':<8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7}"
              "  p95<100  answer")  # fmt: skip
        verdicts = []
        host = stack.launcher.host
        # The default page is what a booking screen asks for; 1000 is the most one answer holds.
        for limit in (None, 1000):
            parameters = {"specialty": specialty, "visit_type": "in_person",
                          "from": start.isoformat(),
                          "to": (start + timedelta(days=WINDOW_DAYS)).isoformat()}  # fmt: skip
            if limit:
                parameters["limit"] = str(limit)
            path = f"/api/scheduling/availability?{urlencode(parameters)}"
            for via in ("scheduling", "gateway"):
                port = stack.port(via)
                asyncio.run(measure(host, port, path, world.medic.headers, max(args.warmup, 1)))
                latencies, first = asyncio.run(
                    measure(host, port, path, world.medic.headers, args.requests)
                )
                summary = support.summarize(latencies)
                met = summary.p95 < P95_TARGET_MS
                if limit is None:
                    verdicts.append(met)
                answer = json.loads(first)
                slots_at = [datetime.fromisoformat(slot["start"]) for slot in answer["slots"]]
                reach = (slots_at[-1] - start).total_seconds() / 86400 if slots_at else 0
                page = "default (200)" if limit is None else f"limit={limit}"
                print(
                    f"  {page:<22} {'direct' if via == 'scheduling' else via:<8} "
                    f"{summary.p50:>7.2f} {summary.p95:>7.2f} {summary.p99:>7.2f} "
                    f"{summary.max:>7.2f}  {'met' if met else 'MISSED':<7}  "
                    f"{len(slots_at)} slots up to day {reach:.1f}, more: {answer['truncated']}, "
                    f"{len(first) / 1024:.0f} KiB"
                )

        slots = distinct_slots(loaded["schedules"], loaded["leave"], now, args.bookings)
        watch = booking_processes(stack)
        cpu_before, machine_before = cpu_seconds(watch), support.machine_cpu_busy()
        seconds, statuses, latencies, samples = asyncio.run(
            book_all(host, stack.port("gateway"), world.medic, world.patient, slots, args.clients)
        )
        cpu_after, machine_after = cpu_seconds(watch), support.machine_cpu_busy()
        summary = support.summarize(latencies)
        print()
        print(
            f"booking under contention: {args.clients} clients, {args.bookings} distinct slots, "
            "through the gateway"
        )
        print(
            f"  {statuses[201] / seconds:.0f} bookings/s ({statuses[201]} booked in "
            f"{seconds:.1f} s); latency p50 {summary.p50:.1f} ms, p95 {summary.p95:.1f} ms, "
            f"p99 {summary.p99:.1f} ms"
        )
        used = ", ".join(
            f"{name} {seconds_used / max(statuses[201], 1) * 1000:.1f} ms"
            for name, seconds_used in cpu_used(cpu_before, cpu_after).items()
        )
        busy = (machine_after[0] - machine_before[0]) / max(machine_after[1] - machine_before[1], 1)
        print(f"  CPU per booking: {used}; the machine was {busy:.0%} busy meanwhile")
        others = {status: count for status, count in statuses.items() if status != 201}
        if others:
            print(f"  other answers: {others}; e.g. {samples}")
        overlaps = asyncio.run(double_bookings(dsn))
        print(
            f"  double bookings (overlapping appointments holding time, per schedule): {overlaps}"
        )
        verdicts.append(not others and not overlaps)
        print()
        print("all targets met" if all(verdicts) else "some targets MISSED")


if __name__ == "__main__":
    main()
