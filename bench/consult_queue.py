"""The specialist's work queue on a big consult database: latency of its reads, and memory.

PostgreSQL only (127.0.0.1:5432, fresh databases that are dropped afterwards). Starts the real
processes with `telemed.launcher.Launcher`, creates through the API three regional centres,
specialists of three specialties at the first one, district hospitals and their medics, then
copies 100,000 cases straight into the consult database (ten specialties, every status from
submitted to cancelled, deadlines from 30 days ago to 30 days ahead so many are overdue, three
target organisations) and runs `ANALYZE`.

Then, with a specialist's token, 300 sequential requests of each read, straight to the consult
process and through the gateway: the queue's first page (`GET /api/consult/cases?limit=50`,
also filtered to open statuses and to overdue cases) and the overdue count
(`GET /api/consult/cases/overdue-count`). Printed: p50/p95/p99 in ms of each (target: p95 under
20 ms), the consult process's resident memory afterwards (target: under 200 MB), and the
PostgreSQL plans of the queue's and the count's SQL.

    .venv/bin/python bench/consult_queue.py [--cases 100000] [--requests 300]
"""

import argparse
import asyncio
import json
import os
import random
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from bench import support
from bench.support import Actor, Directory, Stack
from telemed.samples import clinical_summary

P95_TARGET_MS = 20.0
RSS_TARGET_MB = 200.0
COPY_BATCH = 10_000
# Ten specialties with a regional centre's rough mix: cardiology and neurology lead.
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
SPECIALISTS = ("cardiology", "neurology", "obstetrics")
OPEN = ("submitted", "accepted", "in_progress", "info_requested")
TAKEN = frozenset({"accepted", "in_progress", "info_requested", "concluded"})
# Past their deadline most cases are closed; ahead of it most are still being worked on.
STATUS_WEIGHTS_PAST = {"submitted": 8, "accepted": 5, "in_progress": 8, "info_requested": 4,
                       "concluded": 65, "cancelled": 10}  # fmt: skip
STATUS_WEIGHTS_AHEAD = {"submitted": 35, "accepted": 15, "in_progress": 25, "info_requested": 10,
                        "concluded": 12, "cancelled": 3}  # fmt: skip
URGENCY = {"planned": (70, timedelta(days=7)), "urgent": (25, timedelta(hours=24)),
           "emergency": (5, timedelta(hours=2))}  # fmt: skip
SURNAMES = ("Ivanov", "Petrov", "Sidorov", "Kuznetsov", "Smirnov", "Popov", "Volkov", "Orlov")
GIVEN = ("Ivan", "Sergei", "Anna", "Olga", "Pavel", "Elena", "Nikolai", "Marina")
QUESTIONS = (
    "Is transfer for PCI indicated, or can we continue conservative treatment here?",
    "Please review the ECG and troponin trend; is this an acute coronary syndrome?",
    "CT shows a hypodense lesion; is thrombolysis still possible at 5 hours from onset?",
    "Gestational hypertension at 34 weeks with proteinuria: deliver here or transfer?",
    "Persistent hyperglycaemia despite insulin titration; please advise on the regimen.",
)

QUERIES = {
    "queue page": "/api/consult/cases?limit=50",
    "queue page, open statuses": "/api/consult/cases?limit=50&"
    + "&".join(f"status={status}" for status in OPEN),
    "queue page, overdue=true": "/api/consult/cases?limit=50&overdue=true",
    "overdue count": "/api/consult/cases/overdue-count",
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cases", type=int, default=100_000, help="cases to copy in (100000)")
    parser.add_argument("--requests", type=int, default=300, help="requests per read (300)")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured requests first (20)")
    parser.add_argument("--seed", type=int, default=42, help="of the synthetic data (42)")
    parser.add_argument(
        "--vacuum", action="store_true", help="VACUUM (ANALYZE) instead of ANALYZE after the copy"
    )
    parser.add_argument(
        "--log-level", default="INFO", help="the services' log level (default INFO, to a file)"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.cases <= 2_000_000 or not 1 <= args.requests <= 10_000:
        parser.error("--cases must be 1..2000000 and --requests 1..10000")
    if not 0 <= args.warmup <= 1000:
        parser.error("--warmup must be 0..1000")
    return args


@dataclass
class World:
    centres: list[dict[str, Any]]
    hospitals: list[dict[str, Any]]
    medics: list[Actor]
    specialists: dict[str, Actor]


def build_world(stack: Stack) -> World:
    with Directory(stack) as directory:
        centres = [
            directory.organization("Kuzbass Regional Clinical Hospital", "regional_centre"),
            directory.organization("Kuzbass Cardiology Centre", "regional_centre"),
            directory.organization(
                "Khabarovsk Territorial Telemedicine Centre", "regional_centre", "27",
                "Asia/Vladivostok",
            ),
        ]  # fmt: skip
        hospitals = [
            directory.organization(f"{town} District Hospital", "district_hospital")
            for town in ("Tashtagol", "Mariinsk", "Yurga", "Tisul")
        ]
        medics = [
            directory.actor(f"medic.{index}", "district_medic", hospital)
            for index, hospital in enumerate(hospitals)
        ]
        specialists = {
            specialty: directory.actor(f"{specialty}.centre", "specialist", centres[0], specialty)
            for specialty in SPECIALISTS
        }
        # One case through the API too: the write path works on this database.
        directory.submit_case(medics[0], centres[0], "cardiology")
    return World(centres, hospitals, medics, specialists)


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def synthetic_cases(world: World, count: int, seed: int, now: datetime) -> Iterator[dict[str, Any]]:
    """Plausible cases: a status that fits the deadline, timestamps that fit the status."""
    rng = random.Random(seed)
    summary = json.dumps(clinical_summary())
    targets = [(centre, weight) for centre, weight in zip(world.centres, (60, 25, 15), strict=True)]
    for index in range(count):
        target = rng.choices([t[0] for t in targets], weights=[t[1] for t in targets])[0]
        specialty = _weighted(rng, SPECIALTIES)
        requester = rng.randrange(len(world.medics))
        due_at = now + timedelta(seconds=rng.uniform(-30, 30) * 86400)
        status = _weighted(rng, STATUS_WEIGHTS_PAST if due_at < now else STATUS_WEIGHTS_AHEAD)
        urgency = rng.choices(list(URGENCY), weights=[u[0] for u in URGENCY.values()])[0]
        submitted_at = min(
            due_at - URGENCY[urgency][1], now - timedelta(seconds=rng.uniform(60, 6 * 3600))
        )
        elapsed = (now - submitted_at).total_seconds()
        accepted_at = concluded_at = closed_at = None
        assignee_id = resume_status = cancel_reason = None
        if status in TAKEN:
            accepted_at = submitted_at + timedelta(seconds=rng.uniform(0, elapsed / 2))
            specialist = world.specialists.get(specialty)
            assignee_id = (
                uuid.UUID(specialist.id)
                if specialist and target is world.centres[0]
                else uuid.uuid4()
            )
        if status == "info_requested":
            resume_status = rng.choice(["accepted", "in_progress"])
        if status == "concluded" and accepted_at is not None:
            concluded_at = accepted_at + timedelta(
                seconds=rng.uniform(0, (now - accepted_at).total_seconds())
            )
            closed_at = concluded_at
        if status == "cancelled":
            closed_at = submitted_at + timedelta(seconds=rng.uniform(0, elapsed))
            cancel_reason = "Patient transferred by ambulance."
        created_at = submitted_at - timedelta(seconds=rng.uniform(0, 7200))
        stamps = [submitted_at, accepted_at, concluded_at, closed_at]
        attachments = [
            {"id": str(uuid.uuid4()), "display_name": f"result-{n}.pdf", "kind": "lab_result",
             "media_type": "application/pdf", "size": rng.randrange(10**4, 10**7),
             "sha256": f"{rng.getrandbits(256):064x}", "modality": None}
            for n in range(rng.randrange(4))
        ]  # fmt: skip
        yield {
            "id": uuid.uuid4(),
            "kind": "doctor_to_doctor",
            "status": status,
            "resume_status": resume_status,
            "requester_id": uuid.UUID(world.medics[requester].id),
            "requesting_organization_id": uuid.UUID(world.hospitals[requester]["id"]),
            "target_organization_id": uuid.UUID(target["id"]),
            "specialty": specialty,
            "region": "42",
            "assignee_id": assignee_id,
            "patient_reference": f"MIS-42-{index:07d}",
            "patient_full_name": f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}",
            "patient_birth_date": date(1940, 1, 1) + timedelta(days=rng.randrange(80 * 365)),
            "patient_sex": rng.choice(["male", "female"]),
            "patient_insurance_policy": f"{rng.randrange(10**15, 10**16)}",
            "urgency": urgency,
            "mode": "video" if rng.random() < 0.15 else "written",
            "question": rng.choice(QUESTIONS),
            "summary": summary,
            "attachment_ids": json.dumps([item["id"] for item in attachments]),
            "attachments": json.dumps(attachments),
            "worsening_signs": "[]",  # doctor-to-doctor cases report none; patients' requests do
            "flagged": False,
            "due_at": due_at,
            "submitted_at": submitted_at,
            "accepted_at": accepted_at,
            "concluded_at": concluded_at,
            "closed_at": closed_at,
            "decline_reason": None,
            "cancel_reason": cancel_reason,
            "created_at": created_at,
            "updated_at": max(stamp for stamp in stamps if stamp is not None),
        }


async def copy_cases(dsn: str, world: World, args: argparse.Namespace) -> dict[str, Any]:
    """COPYs the synthetic cases into `cases` with the columns of the consult model."""
    from services.consult.cases.models import Case

    table = Case.__table__
    columns = [column.name for column in table.columns]
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        rows = synthetic_cases(world, args.cases, args.seed, datetime.now(UTC))
        sample: dict[str, Any] = {}
        batch: list[tuple[Any, ...]] = []
        loop = asyncio.get_running_loop()
        started = loop.time()
        centre = uuid.UUID(world.centres[0]["id"])
        for row in rows:
            if not batch:
                missing = [
                    name for name in columns if name not in row and not table.c[name].nullable
                ]
                if missing:
                    raise RuntimeError(f"the generator does not fill {missing}")
            if (
                not sample
                and row["specialty"] == "cardiology"
                and row["status"] in OPEN
                and row["target_organization_id"] == centre
            ):
                sample = row
            batch.append(tuple(row.get(name) for name in columns))
            if len(batch) == COPY_BATCH:
                await connection.copy_records_to_table("cases", records=batch, columns=columns)
                batch = []
        if batch:
            await connection.copy_records_to_table("cases", records=batch, columns=columns)
        copied = loop.time() - started
        await connection.execute("VACUUM (ANALYZE) cases" if args.vacuum else "ANALYZE cases")
        total = await connection.fetchval("SELECT count(*) FROM cases")
        size = await connection.fetchval("SELECT pg_size_pretty(pg_total_relation_size('cases'))")
    finally:
        await connection.close()
    return {"seconds": copied, "total": total, "size": size, "sample": sample}


async def measure(
    host: str, port: int, path: str, headers: dict[str, str], requests: int
) -> tuple[list[float], bytes]:
    """Sequential requests on one keep-alive connection; latency of each, first body."""
    connection = support.HttpConnection(host, port)
    raw = support.get_request(host, port, path, headers)
    latencies = []
    first = b""
    loop = asyncio.get_running_loop()
    try:
        for index in range(requests):
            started = loop.time()
            status, body = await connection.request(raw)
            elapsed = loop.time() - started
            if status != 200:
                raise RuntimeError(f"{path} answered {status}: {body[:300]!r}")
            if index == 0:
                first = body
            latencies.append(elapsed)
    finally:
        await connection.close()
    return latencies, first


def describe(name: str, body: bytes) -> str:
    document = json.loads(body)
    if "items" in document:
        items = document["items"]
        statuses = sorted({item["status"] for item in items})
        overdue = sum(1 for item in items if item["overdue"])
        more = "more pages" if document["next_cursor"] else "last page"
        return f"{len(items)} items ({overdue} overdue; {', '.join(statuses)}), {more}"
    return f"overdue = {document.get('overdue')}"


async def explain(dsn: str, specialist: Actor) -> list[tuple[str, list[str]]]:
    """The plans of the queue's and the count's SQL, built with the service's own access rule."""
    from sqlalchemy.dialects import postgresql

    from services.common.auth import Principal, Role
    from services.consult.cases.enums import CaseStatus
    from services.consult.cases.queue import QueueFilter, overdue_count_query, page_query

    principal = Principal(
        subject=uuid.UUID(specialist.id),
        username=specialist.username,
        role=Role.SPECIALIST,
        organization_id=uuid.UUID(str(specialist.organization_id)),
        region="42",
        specialty=specialist.specialty,
    )
    now = datetime.now(UTC)
    # The service's own statements, so the plans are those of the SQL it sends.
    open_statuses = tuple(CaseStatus(status) for status in OPEN)
    statements = {
        "queue page": page_query(principal, QueueFilter(), limit=50, now=now),
        "queue page, open statuses": page_query(
            principal, QueueFilter(statuses=open_statuses), limit=50, now=now
        ),
        "queue page, overdue=true": page_query(
            principal, QueueFilter(overdue=True), limit=50, now=now
        ),
        "overdue count": overdue_count_query(principal, now=now),
    }
    dialect = postgresql.asyncpg.dialect()  # type: ignore[no-untyped-call]
    plans = []
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        for name, statement in statements.items():
            sql = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
            rows = await connection.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            plans.append((name, [row[0] for row in rows]))
    finally:
        await connection.close()
    return plans


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    print(
        f"consult queue: {args.cases:,} cases on PostgreSQL, {args.requests} sequential requests "
        f"per read after {args.warmup} unmeasured"
    )
    print(support.machine_report()[0])
    with support.scratch_stack("postgresql", log_level=args.log_level) as stack:
        world = build_world(stack)
        specialist = world.specialists["cardiology"]
        dsn = support.asyncpg_dsn(stack.database_urls["consult"])
        copied = asyncio.run(copy_cases(dsn, world, args))
        print(
            f"copied {args.cases:,} cases in {copied['seconds']:.1f} s "
            f"({'VACUUM ANALYZE' if args.vacuum else 'ANALYZE'} after); table holds "
            f"{copied['total']:,} rows, {copied['size']} with indexes"
        )
        if copied["sample"]:
            path = f"/api/consult/cases/{copied['sample']['id']}"
            status, _ = asyncio.run(
                _one(stack.launcher.host, stack.port("consult"), path, specialist.headers)
            )
            print(f"a copied case reads back through the API: GET {path} -> {status}")
        memory_before = support.process_memory_kib(stack.pid("consult"))
        print()
        print(f"as {specialist.username} (cardiology, {world.centres[0]['name']})")
        print(
            f"  {'read':<27} {'via':<8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7}"
            f"  {'p95<20':<6}  CPU ms per request, machine busy"
        )
        verdicts = []
        answers = {}
        pids = {"consult": stack.pid("consult"), "gateway": stack.pid("gateway")}
        for name, path in QUERIES.items():
            for via in ("consult", "gateway"):
                host, port = stack.launcher.host, stack.port(via)
                _, first = asyncio.run(
                    measure(host, port, path, specialist.headers, max(args.warmup, 1))
                )
                cpu_before = {
                    process: support.process_cpu_seconds(pid) for process, pid in pids.items()
                }
                machine_before = support.machine_cpu_busy()
                latencies, _ = asyncio.run(
                    measure(host, port, path, specialist.headers, args.requests)
                )
                machine_after = support.machine_cpu_busy()
                cpu = {
                    process: (support.process_cpu_seconds(pid) - cpu_before[process])
                    / args.requests
                    * 1000
                    for process, pid in pids.items()
                }
                busy = (machine_after[0] - machine_before[0]) / max(
                    1.0, machine_after[1] - machine_before[1]
                )
                answers[name] = describe(name, first)
                summary = support.summarize(latencies)
                met = summary.p95 < P95_TARGET_MS
                verdicts.append(met)
                used = f"consult {cpu['consult']:.1f}" + (
                    f", gateway {cpu['gateway']:.1f}" if via == "gateway" else ""
                )
                print(
                    f"  {name:<27} {'direct' if via == 'consult' else via:<8} "
                    f"{summary.p50:>7.2f} {summary.p95:>7.2f} {summary.p99:>7.2f} "
                    f"{summary.max:>7.2f}  {'met' if met else 'MISSED':<6}  {used}; "
                    f"{busy * 100:.0f}% of {os.cpu_count()} cores"
                )
        print()
        for name, answer in answers.items():
            print(f"  {name}: {answer}")
        memory = support.process_memory_kib(stack.pid("consult"))
        rss_mb, peak_mb = memory["VmRSS"] / 1024, memory["VmHWM"] / 1024
        rss_met = rss_mb < RSS_TARGET_MB
        verdicts.append(rss_met)
        print()
        print(
            f"consult process RSS {rss_mb:.1f} MB after the run (peak {peak_mb:.1f} MB, "
            f"{memory_before['VmRSS'] / 1024:.1f} MB before the reads); target < "
            f"{RSS_TARGET_MB:g} MB: {'met' if rss_met else 'MISSED'}"
        )
        print()
        for name, plan in asyncio.run(explain(dsn, specialist)):
            print(f"plan of {name}:")
            for line in plan:
                print(f"    {line}")
        print()
        print("all targets met" if all(verdicts) else "some targets MISSED")


async def _one(host: str, port: int, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    connection = support.HttpConnection(host, port)
    try:
        return await connection.request(support.get_request(host, port, path, headers))
    finally:
        await connection.close()


if __name__ == "__main__":
    main()
