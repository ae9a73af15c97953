"""The hotline operator's new-appeal round trip through the console, at a day's load.

Starts the demo system as tests/web/browser.py `running_console` does (`telemed migrate`,
`seed --demo`, `run`, the console behind the gateway) on SQLite files in a scratch `var/`, or
with `--database postgresql` on fresh PostgreSQL databases on 127.0.0.1:5432, made and dropped
afterwards as bench/hotline_day.py's are (`support.scratch_databases`). It adds through the API
what bench/hotline_day.py builds: the insurer's contact centre of Kuzbass, eight polyclinics and
hospitals with the territory map of their districts, and its operators (`--operators`, 20),
plus `--console` more operators who work in the console.

Then, while the API operators replay bench/hotline_day.py's day (`--appeals` appeals,
`--callbacks` dropped calls, the same mix: 70% phone, 5% on a topic the hotline does not
handle, callbacks worked every five appeals, queue reads), each console operator signs in
as a person does (the gateway's sign-in page, the console's session cookie) and files appeals
one after another as the live-call form sends them: `POST /appeals/new` (the form with its
CSRF token and key; a dropped call with its callback), answered with the confirmation and the
next empty form. One round trip is the form's submit to the next empty form, timed as the
browser waits for it. The console operators' calls take the day's
mix too. Printed: p50/p95/p99 of the round trip (all, and by kind), the API operators' own
figures and the errors of both (target: round trip p95 < 300 ms, 0 errors), and the load
average at the start and the end (the figures mean little on a machine busy with other work).

    .venv/bin/python bench/hotline_new_appeal.py [--database sqlite|postgresql] [--appeals 1500]
        [--callbacks 600] [--operators 20] [--console 2] [--per-console 150]
"""

import argparse
import asyncio
import random
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import home_visits, support
from bench.hotline_day import CONSULT, DISTRICTS, TEXTS, Call, Tally, World, hotline_day, replay
from bench.support import PASSWORD, Actor
from telemed.registry import SERVICES
from tests.web.browser import System, running_console
from tests.web.conftest import csrf_of

TARGET_P95_MS = 300.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--appeals", type=int, default=1500, help="the API operators' day")
    parser.add_argument("--callbacks", type=int, default=600, help="their dropped calls")
    parser.add_argument("--operators", type=int, default=20, help="API operators (20)")
    parser.add_argument("--console", type=int, default=2, help="console operators (2)")
    parser.add_argument("--per-console", type=int, default=150, help="appeals each files")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    if not 1 <= args.console <= 20 or not 1 <= args.per_console <= 5000:
        parser.error("--console must be 1..20 and --per-console 1..5000")
    return args


class Admin:
    """The demo's administrator, creating through the API what the day needs."""

    def __init__(self, client: httpx.Client, system: System) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {self.token('admin', system.password('admin'))}"}

    def token(self, username: str, password: str) -> str:
        response = self.client.post(
            "/api/auth/token",
            data={"grant_type": "password", "username": username, "password": password},
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.client.post(path, json=body, headers=self.headers)
        if response.status_code != 201:
            raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
        created: dict[str, Any] = response.json()
        return created

    def organization(self, name: str, kind: str) -> dict[str, Any]:
        body = {"name": name, "kind": kind, "region": "42", "timezone": "Asia/Novokuznetsk"}
        return self.post("/api/directory/organizations", body)

    def actor(self, username: str, role: str, organization: dict[str, Any]) -> Actor:
        body = {
            "username": username, "password": PASSWORD, "full_name": f"{role} {username}",
            "role": role, "organization_id": organization["id"],
        }  # fmt: skip
        user = self.post("/api/directory/users", body)
        token = self.token(username, PASSWORD)
        return Actor(user["id"], username, role, organization["id"], None, token)


def build_world(system: System, operators: int, console: int) -> tuple[World, list[str]]:
    """The day's organisations, map and API operators, and the console operators' usernames."""
    with httpx.Client(base_url=system.url, timeout=30) as client:
        admin = Admin(client, system)
        insurer = admin.organization("Kuzbass OMS Insurer Contact Centre", "insurer")
        organizations = {
            code: admin.organization(name, kind) for code, (_, name, kind) in DISTRICTS.items()
        }
        staff = [
            admin.actor(f"operator.{index:02d}", "coordinator", insurer)
            for index in range(operators)
        ]
        desks = [f"console.{index:02d}" for index in range(console)]
        for username in desks:
            admin.actor(username, "coordinator", insurer)
        for code, (town, _, _) in DISTRICTS.items():
            response = client.put(
                f"{CONSULT}/appeal-territories/42/{code}",
                json={"name": town, "organization_id": organizations[code]["id"]},
                headers=staff[0].headers,
            )
            response.raise_for_status()
        visit_staff = home_visits.set_up(admin, organizations, staff[0])
    return World(insurer, organizations, staff, visit_staff), desks


def local(location: str) -> str:
    """A redirect's target as a path on the system's address."""
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def sign_in(client: httpx.AsyncClient, username: str) -> None:
    """The console's sign-in as a browser goes through it (tests/web/conftest.py)."""
    started = await client.get("/auth/sign-in?next=/appeals/new")
    authorize = local(started.headers["location"])
    page = await client.get(authorize)
    form = {"csrf_token": csrf_of(page), "step": "sign_in", "username": username,
            "password": PASSWORD}  # fmt: skip
    signed = await client.post(authorize, data=form)
    callback = await client.get(local(signed.headers["location"]))
    if callback.status_code != 303:
        raise RuntimeError(f"{username} could not sign in: {callback.status_code}")


def hidden(page: httpx.Response, name: str) -> str:
    found = re.search(f'name="{name}" value="([^"]*)"', page.text)
    return found.group(1) if found else ""


def form_of(call: Call, index: int, page: httpx.Response) -> dict[str, str]:
    """The caller's form with what the page gives it: its CSRF token, key and time."""
    topic = f"excluded:{call.topic}" if call.topic else call.category
    return {
        "csrf_token": csrf_of(page), "form_key": hidden(page, "form_key"),
        "opened_at": hidden(page, "opened_at"),
        "contact_name": f"Console caller {index}", "contact_phone": f"+7 913 {index:07d}",
        "channel": call.channel, "territory": call.territory, "topic": topic,
        "text": TEXTS[call.category], "action": "dropped" if call.dropped else "file",
    }  # fmt: skip


def kind_of(call: Call) -> str:
    return "excluded topic" if call.topic else "dropped call" if call.dropped else "ordinary"


async def console_desk(url: str, username: str, calls: list[Call], tally: Tally) -> None:
    """One operator at the console: each round trip is a submit and the next empty form."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        await sign_in(client, username)
        page = await client.get("/appeals/new")
        for index, call in enumerate(calls):
            started = time.perf_counter()
            page = await client.post("/appeals/new", data=form_of(call, index, page))
            elapsed = time.perf_counter() - started
            ok = page.status_code == 200 and 'id="filed"' in page.text
            for kind in ("round trip", f"round trip: {kind_of(call)}"):
                tally.latencies[kind].append(elapsed)
                tally.errors[kind] += 0 if ok else 1
            if not ok and len(tally.samples) < 5:
                tally.samples.append(f"{username}: {page.status_code} {page.text[:200]!r}")
                page = await client.get("/appeals/new")


async def run(
    system: System, world: World, desks: list[str], args: argparse.Namespace
) -> tuple[Tally, Tally, float]:
    rng = random.Random(args.seed)
    day = hotline_day(rng, args.appeals, args.callbacks)
    total = args.per_console * len(desks)
    dropped = total * args.callbacks // args.appeals  # the day's share of dropped calls
    console_calls = hotline_day(random.Random(args.seed + 1), total, dropped)
    console_tally = Tally()
    host, port = system.url.removeprefix("http://").split(":")
    desks_done = asyncio.gather(
        *(
            console_desk(system.url, name, console_calls[number :: len(desks)], console_tally)
            for number, name in enumerate(desks)
        )
    )
    started = time.perf_counter()
    (_, api_tally, _), _ = await asyncio.gather(
        replay(world, day, host, int(port), args.seed), desks_done
    )
    return console_tally, api_tally, time.perf_counter() - started


def report(title: str, tally: Tally) -> int:
    print(title)
    print(f"  {'operation':<34} {'count':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'max ms':>8} {'errors':>6}")  # fmt: skip
    for operation, latencies in sorted(tally.latencies.items()):
        summary = support.summarize(latencies)
        print(
            f"  {operation:<34} {summary.count:>6} {summary.p50:>8.1f} {summary.p95:>8.1f} "
            f"{summary.p99:>8.1f} {summary.max:>8.1f} {tally.errors[operation]:>6}"
        )
    for sample in tally.samples:
        print(f"  e.g. {sample}")
    return sum(tally.errors.values())


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    print(
        f"console new-appeal round trip: {args.console} console operators x {args.per_console} "
        f"appeals, while {args.operators} API operators work a day of {args.appeals:,} appeals "
        f"and {args.callbacks} dropped calls; all through the gateway, on {args.database}"
    )
    print(support.machine_report()[0])
    print(f"at the start: {support.load_average()}")
    with (
        tempfile.TemporaryDirectory(prefix="telemed-hotline-") as scratch,
        support.scratch_databases(args.database, Path(scratch)) as urls,
    ):
        env = {service.env_prefix + "LOG_LEVEL": "WARNING" for service in SERVICES}
        env |= {service.env_prefix + "DATABASE_URL": urls[service.name] for service in SERVICES}
        with running_console(Path(scratch), **env) as system:
            world, desks = build_world(system, args.operators, args.console)
            console_tally, api_tally, seconds = asyncio.run(run(system, world, desks, args))
            print(f"at the end: {support.load_average()}")
    print(f"{seconds:.1f} s")
    console_errors = report("the console (submit to the next empty form):", console_tally)
    api_errors = report("the API operators' day (bench/hotline_day.py):", api_tally)
    p95 = support.summarize(console_tally.latencies["round trip"]).p95
    met = p95 < TARGET_P95_MS and console_errors == 0 and api_errors == 0
    print(
        f"round trip p95 {p95:.1f} ms (target < {TARGET_P95_MS:.0f} ms), errors "
        f"{console_errors} + {api_errors} (target 0): {'met' if met else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
