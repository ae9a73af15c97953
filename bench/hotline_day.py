"""A regional insurer's hotline day replayed through the gateway: latency of each operation.

Starts the real processes with `telemed.launcher.Launcher` (SQLite by default, `--database
postgresql` for fresh PostgreSQL databases on 127.0.0.1:5432, dropped afterwards), and creates
through the API the insurer's contact centre in Kuzbass (region 42, Asia/Novokuznetsk), eight
municipal polyclinics and hospitals, the territory map of their districts (OKTMO codes) and 20
operators (coordinators of the contact centre); and for home visits, the districts on the
region's catchment and each organisation's coordinator and district nurse.

Then the operators work a day of 1,500 appeals (`--appeals`) and 600 dropped calls
(`--callbacks`) at once, each on its own keep-alive connection to the gateway, back to back:
file the appeal (70% by phone, 30% from the medical chat; 5% on a topic the channels do not
handle, answered at once). A dropped call gets a callback, due at once; every five appeals an
operator works their own queue of due callbacks (70% reached, and the appeal is resolved on
that call; 20% no answer, 10% busy: due again in 30 minutes, after the run). Of the other
appeals 80% are resolved at the first contact; the rest are taken, one in ten passed to
another organisation, and resolved after follow-up (a phone one then owes the polyclinic's
call with the answer). Each resolution says what was done for its category (`DONE`), by whom
and with what result. Every tenth appeal the operator also reads it back and looks at the
queue and its overdue page. Every fifteenth call is a home-visit call (`bench/home_visits.py`):
the operator reads out the polyclinic and window the preview gives, then files it; each
organisation's coordinator works its day's list meanwhile, sending its nurse, who marks the
visit done. The knowledge base holds the demo's articles for the region: as
each appeal is typed the screen asks for articles from its topic and the caller's words (a
first-contact resolution cites the first), and every third call the operator also searches it.
Printed: p50/p95/p99 latency per operation, the count of each, and errors (target: 0).

Then the knowledge base grows to 5,000 articles (`--articles`, generated from the demo's, written
and published through the API), and one operator's searches of it are timed one after another:
p95 under 50 ms on PostgreSQL is the target.

`year_of_appeals` generates the appeals rows of a year of such days, for the statistics part to
copy in and time its queries on.

    .venv/bin/python bench/hotline_day.py [--appeals 1500] [--callbacks 600] [--operators 20]
        [--articles 5000] [--database postgresql]
"""

import argparse
import asyncio
import json
import random
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import home_visits, knowledge_base, support
from bench.support import Actor, Directory, Stack
from gateway.client import Organization
from services.consult.appeals.enums import AppealCategory, AppealChannel
from services.consult.appeals.settings import AppealDeadlinePolicy
from services.consult.appeals.working_hours import add_working_time, clock_start
from telemed.samples import sample_resolution

CONSULT = "/api/consult"
FIRST_CONTACT_SHARE = 0.80  # of appeals the channels handle: resolved while the caller is on
REDIRECT_SHARE = 0.05
REASSIGN_SHARE = 0.10  # of those resolved after follow-up
QUEUE_EVERY = 10  # appeals between two looks at the queue
CALLBACKS_EVERY = 5  # appeals between two rounds of the due callbacks
SEARCH_EVERY = 3  # appeals between two searches of the knowledge base
SEARCH_ROUNDS = 20  # of every query of `knowledge_base.QUERIES`, timed over the large base
SEARCH_TARGET_MS = 50.0  # p95 of one search over 5,000 articles, on PostgreSQL
ZONE = "Asia/Novokuznetsk"
# The districts of Kuzbass's largest towns (OKTMO) and who answers their callers.
DISTRICTS = {
    "32701000": ("Kemerovo", "Kemerovo City Polyclinic No. 1", "polyclinic"),
    "32731000": ("Novokuznetsk", "Novokuznetsk City Polyclinic No. 5", "polyclinic"),
    "32737000": ("Prokopyevsk", "Prokopyevsk City Hospital", "district_hospital"),
    "32719000": ("Leninsk-Kuznetsky", "Leninsk-Kuznetsky District Hospital", "district_hospital"),
    "32725000": ("Mezhdurechensk", "Mezhdurechensk City Hospital", "district_hospital"),
    "32713000": ("Kiselyovsk", "Kiselyovsk City Polyclinic", "polyclinic"),
    "32704000": ("Belovo", "Belovo District Hospital", "district_hospital"),
    "32749000": ("Yurga", "Yurga City Hospital", "district_hospital"),
}
# Weights of the towns' callers, roughly by population.
TOWN_WEIGHTS = {
    "32701000": 30, "32731000": 30, "32737000": 10, "32719000": 6, "32725000": 5,
    "32713000": 5, "32704000": 7, "32749000": 4,
}  # fmt: skip
# An insurer's contact centre: questions on the policy and the programme lead; complaints of
# refused or paid-for care, waits and beds follow (the seeds' mix).
CATEGORY_WEIGHTS = {
    "question": 45, "appointment_help": 15, "refusal_of_free_care": 9,
    "paid_service_imposition": 8, "waiting_time": 9, "complaint": 8, "hospital_bed": 3,
    "other": 3,
}  # fmt: skip
TEXTS = {
    "question": "How do I change my insurer and will my policy still work in another region?",
    "appointment_help": "The polyclinic's registry does not answer; I need a cardiologist visit.",
    "refusal_of_free_care": "The clinic refused to attach me because I am registered elsewhere.",
    "paid_service_imposition": "They ask 3,500 roubles for a repeat histology the oncologist "
    "ordered.",
    "waiting_time": "The MRI the neurologist ordered is booked for next month; the pain is bad.",
    "complaint": "The district doctor did not come on a home call booked two days ago.",
    "hospital_bed": "The hospital says there is no bed for my mother, referred for surgery.",
    "other": "Where do I get a copy of my medical record?",
}
TOPICS = ("diagnosis_or_treatment", "medicine_availability", "emergency_care")
ATTEMPT_OUTCOMES = {"reached": 70, "no_answer": 20, "busy": 10}
ANSWER = (
    "We called the head of the polyclinic: the service is covered by the OMS programme; you are "
    "booked free of charge for Thursday at 10:00, room 214, and the invoice is withdrawn."
)
# What the operator says was done, by the appeal's category (a resolution's `actions`).
DONE = {
    "question": ["gave_information"],
    "appointment_help": ["booked_appointment"],
    "refusal_of_free_care": ["called_head", "arranged_free_care"],
    "paid_service_imposition": ["called_head", "arranged_free_care", "refunded_payment"],
    "waiting_time": ["called_head", "moved_appointment_forward"],
    "complaint": ["called_head", "ordered_quality_check"],
    "hospital_bed": ["called_head", "arranged_hospital_bed"],
    "other": ["gave_information"],
}


def resolution(category: str, first_contact: bool, **overrides: Any) -> dict[str, Any]:
    """The body of a resolve: the sample resolution with what is done for `category`."""
    return sample_resolution(
        actions=DONE[category], answer=ANSWER, first_contact_resolution=first_contact, **overrides
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--appeals", type=int, default=1500, help="appeals of the day (1500)")
    parser.add_argument("--callbacks", type=int, default=600, help="dropped calls (600)")
    parser.add_argument("--operators", type=int, default=20, help="concurrent operators (20)")
    parser.add_argument(
        "--articles", type=int, default=5000, help="knowledge-base articles searched (5000)"
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seed", type=int, default=42, help="of the synthetic day (42)")
    parser.add_argument(
        "--log-level", default="INFO", help="the services' log level (default INFO, to a file)"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.appeals <= 100_000 or not 1 <= args.operators <= 200:
        parser.error("--appeals must be 1..100000 and --operators 1..200")
    if not 0 <= args.callbacks <= args.appeals:
        parser.error("--callbacks must be 0..--appeals (one dropped call per appeal at most)")
    return args


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


@dataclass(frozen=True)
class Call:
    """One contact of the day: what the caller asks and how the operator will end it."""

    channel: str
    category: str
    territory: str
    topic: str | None  # one the channels do not handle: answered at once
    first_contact: bool
    reassign: bool
    dropped: bool  # the call drops and is called back

    def body(self, index: int) -> dict[str, Any]:
        body: dict[str, Any] = {
            "channel": self.channel,
            "category": self.category,
            "territory": self.territory,
            "contact": {"name": f"Caller {index}", "phone": f"+7 913 {index:07d}"},
            "text": TEXTS[self.category],
        }
        return body | ({"topic": self.topic} if self.topic else {})


def hotline_day(rng: random.Random, appeals: int, dropped: int) -> list[Call]:
    """A day's contacts in the proportions of a regional contact centre; `dropped` of those the
    channels handle drop and are called back."""
    redirected = [rng.random() < REDIRECT_SHARE for _ in range(appeals)]
    handled = [index for index, away in enumerate(redirected) if not away]
    dropped_ones = set(rng.sample(handled, min(dropped, len(handled))))
    calls = []
    for index, away in enumerate(redirected):
        first = not away and rng.random() < FIRST_CONTACT_SHARE
        calls.append(
            Call(
                channel="phone" if rng.random() < 0.7 else "chat",
                category=_weighted(rng, CATEGORY_WEIGHTS),
                territory=_weighted(rng, TOWN_WEIGHTS),
                topic=rng.choice(TOPICS) if away else None,
                first_contact=first,
                reassign=not away and not first and rng.random() < REASSIGN_SHARE,
                dropped=index in dropped_ones,
            )
        )
    return calls


def year_of_appeals(
    rng: random.Random,
    organizations: dict[str, Organization],
    operators: list[uuid.UUID],
    first_day: datetime,
    *,
    days: int = 365,
    per_day: int = 1500,
) -> Iterator[dict[str, Any]]:
    """Rows of the `appeals` table for `days` hotline days from `first_day` (the first day's
    opening, 08:00 local): the days' contacts as `hotline_day` makes them, received over the
    working day, answered by the organisation `organizations` names for their territory, with
    deadlines from the service's own policy and working hours, resolved within or past them.
    Not replayed here: the statistics part copies them in to time its queries."""
    policy = AppealDeadlinePolicy()
    for day in range(days):
        opening = first_day + timedelta(days=day)
        for call in hotline_day(rng, per_day, 0):
            organization = organizations[call.territory]
            received = opening + timedelta(seconds=rng.uniform(0, 13 * 3600))
            starts = clock_start(organization, received)
            working_time = policy.working_time(
                AppealChannel(call.channel), AppealCategory(call.category)
            )
            due = add_working_time(organization, starts, working_time)
            handled = received + (
                timedelta(minutes=rng.uniform(2, 10))
                if call.first_contact or call.topic
                else (due - received) * rng.uniform(0.2, 1.3)
            )
            status = "redirected" if call.topic else "resolved"
            yield {
                "id": uuid.uuid4(), "region": organization.region, "channel": call.channel,
                "category": call.category, "status": status, "redirect_topic": call.topic,
                "patient_id": None, "contact_name": "Caller", "contact_phone": "+7 913 0000000",
                "contact_email": None, "territory_code": call.territory,
                "text": TEXTS[call.category], "organization_id": organization.id,
                "assignee_id": None, "created_by": rng.choice(operators),
                "created_by_role": "coordinator", "received_at": received,
                "clock_starts_at": starts, "due_at": due,
                "escalated_at": due if handled > due else None, "answer": ANSWER,
                "first_contact_resolution": None if call.topic else call.first_contact,
                "close_reason": None, "resolved_at": None if call.topic else handled,
                "closed_at": handled, "created_at": received, "updated_at": handled,
            }  # fmt: skip


@dataclass
class World:
    insurer: dict[str, Any]
    organizations: dict[str, dict[str, Any]]  # by territory
    operators: list[Actor]
    visit_staff: dict[str, home_visits.Staff]  # each organisation's, by its id


def build_world(stack: Stack, operators: int) -> World:
    with Directory(stack) as directory:
        insurer = directory.organization("Kuzbass OMS Insurer Contact Centre", "insurer")
        organizations = {
            code: directory.organization(name, kind) for code, (_, name, kind) in DISTRICTS.items()
        }
        staff = [
            directory.actor(f"operator.{index:02d}", "coordinator", insurer)
            for index in range(operators)
        ]
        for code, (town, _, _) in DISTRICTS.items():
            response = directory.client.put(
                f"{CONSULT}/appeal-territories/42/{code}",
                json={"name": town, "organization_id": organizations[code]["id"]},
                headers=staff[0].headers,
            )
            directory._ok(response, 200)
        # The insurer's coordinators write the region's articles: the demo's, published.
        for body in knowledge_base.region_articles("42"):
            article = directory._ok(
                directory.client.post(knowledge_base.ARTICLES, json=body, headers=staff[0].headers),
                201,
            )
            path = f"{knowledge_base.ARTICLES}/{article['id']}/publish"
            directory._ok(directory.client.post(path, headers=staff[0].headers), 200)
        visit_staff = home_visits.set_up(directory, organizations, staff[0])
    return World(insurer, organizations, staff, visit_staff)


def encode(
    method: str, host: str, port: int, path: str, headers: dict[str, str], body: Any = None
) -> bytes:
    payload = json.dumps(body).encode() if body is not None else b""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Accept: application/json"]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: list[str] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class Operator:
    """One operator at their desk: one keep-alive connection to the gateway."""

    def __init__(self, actor: Actor, host: str, port: int, tally: Tally, rng: random.Random):
        self.actor, self.host, self.port, self.tally, self.rng = actor, host, port, tally, rng
        self.connection = support.HttpConnection(host, port)

    async def call(
        self, operation: str, method: str, path: str, body: Any = None, expect: int = 200
    ) -> Any:
        raw = encode(method, self.host, self.port, path, self.actor.headers, body)
        started = time.perf_counter()
        try:
            status, answer = await self.connection.request(raw)
        except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError) as error:
            status, answer = 0, repr(error).encode()
        self.tally.latencies[operation].append(time.perf_counter() - started)
        if status != expect:
            self.tally.errors[operation] += 1
            if len(self.tally.samples) < 5:
                self.tally.samples.append(f"{operation}: {status} {answer[:300]!r}")
            return None
        return json.loads(answer)

    async def work_callbacks(self) -> None:
        """The operator's due callbacks, one call each."""
        page = await self.call("due callbacks", "GET", f"{CONSULT}/callbacks/due?limit=20")
        for callback in page["items"] if page else ():
            outcome = _weighted(self.rng, ATTEMPT_OUTCOMES)
            self.tally.attempts[outcome] += 1
            path = f"{CONSULT}/callbacks/{callback['id']}/attempts"
            await self.call("callback attempt", "POST", path, {"outcome": outcome})
            if outcome == "reached":  # the appeal is settled on the callback itself
                # Its category is not in the callback: information, which answers any.
                answer = resolution("other", False, answer_by_phone=False)
                appeal = f"{CONSULT}/appeals/{callback['appeal_id']}"
                await self.call("resolve", "POST", f"{appeal}/resolve", answer)

    async def handle(self, index: int, call: Call, elsewhere: dict[str, str]) -> None:
        suggest = knowledge_base.suggest_path(call.topic or call.category, TEXTS[call.category])
        suggested = await self.call("knowledge suggest", "GET", suggest)
        if index % SEARCH_EVERY == 0:
            query = self.rng.choice(knowledge_base.QUERIES)
            await self.call("knowledge search", "GET", knowledge_base.search_path(query))
        appeal = await self.call(
            "file appeal", "POST", f"{CONSULT}/appeals", call.body(index), expect=201
        )
        if appeal is None or call.topic:
            return
        path = f"{CONSULT}/appeals/{appeal['id']}"
        if call.dropped:
            # The line dropped while the caller explained: the operator calls back at once and
            # settles the appeal on that call, or it waits for the next try.
            now = datetime.now(UTC).isoformat()
            dropped = {"reason": "dropped_call", "due_at": now}
            await self.call("schedule callback", "POST", f"{path}/callbacks", dropped, expect=201)
            return
        if not call.first_contact:
            await self.call("take", "POST", f"{path}/take")
            if call.reassign:
                moved = {"organization_id": elsewhere[call.territory], "reason": "Not theirs."}
                await self.call("reassign", "POST", f"{path}/reassign", moved)
        cited = {"article_id": suggested[0]["id"]} if suggested and call.first_contact else {}
        answer = resolution(call.category, call.first_contact, **cited)
        await self.call("resolve", "POST", f"{path}/resolve", answer)
        if index % QUEUE_EVERY == 0:
            await self.call("read appeal", "GET", path)
            await self.call("queue page", "GET", f"{CONSULT}/appeals?limit=50")
            query = urlencode({"limit": "50", "overdue": "true"})
            await self.call("queue overdue page", "GET", f"{CONSULT}/appeals?{query}")

    async def work(
        self,
        share: list[tuple[int, Call]],
        elsewhere: dict[str, str],
        visits: home_visits.Rounds,
    ) -> None:
        try:
            for done, (index, call) in enumerate(share, start=1):
                await self.handle(index, call, elsewhere)
                if done % CALLBACKS_EVERY == 0:
                    await self.work_callbacks()
                if done % home_visits.EVERY == 0:
                    territory = _weighted(self.rng, TOWN_WEIGHTS)
                    town = DISTRICTS[territory][0]
                    await home_visits.file_call(self, index, territory, town, visits)
            await self.work_callbacks()
        finally:
            await self.connection.close()


async def replay(
    world: World, calls: list[Call], host: str, port: int, seed: int
) -> tuple[float, Tally, home_visits.Rounds]:
    tally, visits = Tally(), home_visits.Rounds()
    codes = list(world.organizations)
    # A reassignment goes to the next town's organisation: a caller registered there.
    elsewhere = {
        code: world.organizations[codes[(position + 1) % len(codes)]]["id"]
        for position, code in enumerate(codes)
    }
    indexed = list(enumerate(calls))
    desks = [
        Operator(actor, host, port, tally, random.Random(seed + number))
        for number, actor in enumerate(world.operators)
    ]
    # Each polyclinic's coordinator and nurse, each at their own connection.
    pairs = [
        (
            people,
            Operator(people.coordinator, host, port, tally, random.Random(seed)),
            Operator(people.nurse, host, port, tally, random.Random(seed)),
        )
        for people in world.visit_staff.values()
    ]
    polyclinics = [home_visits.Polyclinic(*pair) for pair in pairs]

    async def operators() -> None:
        await asyncio.gather(
            *(
                desk.work(indexed[number :: len(desks)], elsewhere, visits)
                for number, desk in enumerate(desks)
            )
        )
        visits.operators_finished.set()

    started = time.perf_counter()
    try:
        await asyncio.gather(operators(), *(polyclinic.work(visits) for polyclinic in polyclinics))
    finally:
        for _, coordinator, nurse in pairs:
            await coordinator.connection.close()
            await nurse.connection.close()
    return time.perf_counter() - started, tally, visits


async def search_large_base(
    world: World, stack: Stack, count: int, seed: int
) -> tuple[int, Tally, str]:
    """The knowledge base grown to `count` articles by the operators at once, then one
    operator's searches of it timed one after another; and the load average they began at."""
    tally = Tally()
    rng = random.Random(seed)
    generated = list(
        knowledge_base.generated_articles(
            rng, count - len(knowledge_base.region_articles("42")), "42"
        )
    )
    host, port = stack.launcher.host, stack.port("gateway")
    desks = [Operator(actor, host, port, tally, rng) for actor in world.operators]
    try:
        published = await knowledge_base.write_articles(list(desks), generated)
        await knowledge_base.analyse(stack.database_urls["consult"])
        load = support.load_average()
        await knowledge_base.time_searches(desks[0], "search", SEARCH_ROUNDS)
    finally:
        for desk in desks:
            await desk.connection.close()
    return published, tally, load


def report(tally: Tally) -> None:
    print(f"  {'operation':<20} {'count':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'max ms':>8} {'errors':>6}")  # fmt: skip
    for operation, latencies in tally.latencies.items():
        summary = support.summarize(latencies)
        print(
            f"  {operation:<20} {summary.count:>6} {summary.p50:>8.1f} {summary.p95:>8.1f} "
            f"{summary.p99:>8.1f} {summary.max:>8.1f} {tally.errors[operation]:>6}"
        )
    for sample in tally.samples:
        print(f"  e.g. {sample}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    rng = random.Random(args.seed)
    calls = hotline_day(rng, args.appeals, args.callbacks)
    dropped = sum(call.dropped for call in calls)
    print(
        f"hotline day: {args.appeals:,} appeals, {dropped} dropped calls called back, "
        f"{args.operators} operators at once through the gateway, on {args.database}"
    )
    print(support.machine_report()[0])
    with support.scratch_stack(args.database, log_level=args.log_level) as stack:
        world = build_world(stack, args.operators)
        seconds, tally, visits = asyncio.run(
            replay(world, calls, stack.launcher.host, stack.port("gateway"), args.seed)
        )
        if args.articles:
            published, searches, searched_under = asyncio.run(
                search_large_base(world, stack, args.articles, args.seed)
            )
    requests = sum(len(values) for values in tally.latencies.values())
    errors = sum(tally.errors.values())
    print(
        f"{requests:,} requests in {seconds:.1f} s ({requests / seconds:.0f} requests/s, "
        f"{args.appeals / seconds:.1f} appeals/s); callback attempts: {dict(tally.attempts)}"
    )
    print(f"home visits: {visits.filed} filed, {visits.done} done by their polyclinics' nurses")
    report(tally)
    print(f"errors: {errors} (target 0): {'met' if errors == 0 else 'MISSED'}")
    if not args.articles:
        return
    total = published + len(knowledge_base.region_articles("42"))
    print(
        f"knowledge base of {total:,} published articles ({args.database}), searched one at a "
        f"time (before: {searched_under}; after: {support.load_average()}):"
    )
    report(searches)
    p95 = support.summarize(searches.latencies["search"]).p95
    met = "met" if p95 < SEARCH_TARGET_MS else "MISSED"
    print(f"search p95 {p95:.1f} ms (target < {SEARCH_TARGET_MS:.0f} ms on PostgreSQL): {met}")


if __name__ == "__main__":
    main()
