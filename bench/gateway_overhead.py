"""What the gateway costs: one authenticated read, straight to consult and through the gateway,
each beside a floor to measure it against in the same run.

Starts the real processes with `telemed.launcher.Launcher` on free loopback ports (a scratch
`var/`; SQLite by default, fresh PostgreSQL databases with `--database postgresql`), creates an
organisation, a specialist, a medic and one submitted case through the API, then sends the same
`GET /api/consult/cases/{id}` with the specialist's bearer token to four places: the consult
port; the floor (bench/floor/: the same read on Starlette and asyncpg with no ORM and no
middleware, writing into consult's own database and audit chains; PostgreSQL only); the gateway
port; and Debian's nginx as a plain reverse proxy in front of consult, the anchor for what a
proxy hop costs. Each runs at 32 and 128 concurrent keep-alive clients for a fixed time after a
warm-up, preceded by a short one-client baseline that shows latency when nothing queues. Only
200 responses count; anything else is reported.

Printed per concurrency: requests/s and p50/p99 latency of each; requests/s via the gateway
÷ direct (target >= 0.70) and the p50 difference (target <= 2 ms); consult's CPU per 200 ÷ the
floor's (target <= 1.5); the CPU per proxied 200 of the gateway (target <= 0.7 ms) beside
nginx's; the p50 each proxy adds (targets at one client: the gateway's <= +1 ms and within 2x
nginx's); and the CPU each process used in the measured window, so a saturated machine or load
generator shows up in the figures. At the end consult's audit chains are verified through its
API, the floor's records among them.

    .venv/bin/python bench/gateway_overhead.py [--database postgresql] [--seconds 10]
"""

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench import support
from bench.support import Directory, LoadResult, Stack
from telemed.registry import spec

RATIO_TARGET = 0.70
P50_DIFFERENCE_TARGET_MS = 2.0
FLOOR_RATIO_TARGET = 1.5  # consult's CPU per read ÷ the floor's
PROXY_CPU_TARGET_MS = 0.7  # the gateway's CPU per proxied read
ADDED_P50_TARGET_MS = 1.0  # what the gateway adds to one client's p50
ADDED_P50_NGINX_FACTOR = 2.0  # ... and within this multiple of what nginx adds
# Where each target's requests go, and whose CPU per 200 its row is about.
TARGETS = {"direct": "consult", "floor": "floor", "gateway": "gateway", "nginx": "nginx"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="measured time per run (default 10)"
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up per run (default 2)")
    parser.add_argument(
        "--baseline-seconds",
        type=float,
        default=3.0,
        help="first, one client for this long, to show the per-request cost without queueing "
        "(default 3; 0 skips it)",
    )
    parser.add_argument(
        "--concurrency", type=int, nargs="+", default=[32, 128], help="clients (default 32 128)"
    )
    parser.add_argument(
        "--as",
        dest="reader",
        choices=["specialist", "medic"],
        default="specialist",
        help="whose token reads the case (default specialist)",
    )
    parser.add_argument(
        "--load-processes", type=int, default=1, help="load generator processes (default 1)"
    )
    parser.add_argument(
        "--log-level", default="INFO", help="the services' log level (default INFO, to a file)"
    )
    args = parser.parse_args(argv)
    if not 0 < args.seconds <= 120 or not 0 <= args.warmup <= 30:
        parser.error("--seconds must be in (0, 120] and --warmup in [0, 30]")
    if not 0 <= args.baseline_seconds <= 60:
        parser.error("--baseline-seconds must be in [0, 60]")
    if any(not 1 <= clients <= 1024 for clients in args.concurrency):
        parser.error("--concurrency values must be 1..1024")
    return args


@dataclass(frozen=True)
class Reading:
    """The read every target is sent."""

    path: str
    headers: dict[str, str]


def prepare(stack: Stack, reader: str) -> Reading:
    """One submitted case and the headers of the user who reads it."""
    with Directory(stack) as directory:
        centre = directory.organization("Bench Regional Centre", "regional_centre")
        hospital = directory.organization("Bench District Hospital", "district_hospital")
        specialist = directory.actor("bench.cardiologist", "specialist", centre, "cardiology")
        medic = directory.actor("bench.medic", "district_medic", hospital)
        case = directory.submit_case(medic, centre, "cardiology")
        headers = (specialist if reader == "specialist" else medic).headers
        return Reading(f"/api/consult/cases/{case['id']}", headers)


def floor_environment(stack: Stack) -> dict[str, str]:
    """The floor reads consult's database with consult's audit key and token settings."""
    consult = spec("consult").settings(var_dir=stack.var_dir)
    return {
        "TELEMED_FLOOR_DATABASE_URL": support.asyncpg_dsn(stack.database_urls["consult"]),
        "TELEMED_FLOOR_JWKS_URL": stack.url("gateway") + "/.well-known/jwks.json",
        "TELEMED_FLOOR_AUDIT_KEY_PATH": str(consult.resolved_audit_key_path()),
        "TELEMED_FLOOR_ISSUER": consult.jwt_issuer,
        "TELEMED_FLOOR_AUDIENCE": consult.jwt_audience,
        "TELEMED_FLOOR_ALGORITHMS": ",".join(consult.jwt_algorithms),
    }


def same_answers(ports: dict[str, int], reading: Reading) -> None:
    """Every target answers the read with 200, and the floor with the JSON consult answers."""
    bodies = {}
    with httpx.Client(timeout=30.0) as client:
        for name, port in ports.items():
            response = client.get(f"http://127.0.0.1:{port}{reading.path}", headers=reading.headers)
            if response.status_code != 200:
                raise RuntimeError(f"{name} answered {response.status_code}: {response.text}")
            bodies[name] = response.json()
    if "floor" in bodies:
        differ = sorted(
            key
            for key in bodies["direct"].keys() | bodies["floor"].keys()
            if bodies["direct"].get(key, ...) != bodies["floor"].get(key, ...)
        )
        same = (
            "the same JSON as consult" if not differ else "fields that differ: " + ", ".join(differ)
        )
        print(f"the floor answers {same}")


def per_200(result: LoadResult, name: str) -> float:
    """CPU milliseconds per 200 response of one watched process (group)."""
    return result.cpu_seconds.get(name, 0.0) / result.ok * 1000 if result.ok else float("nan")


def cpu_line(result: LoadResult) -> str:
    """Cores each process used in the measured window, and CPU time per 200 response."""
    cores = os.cpu_count() or 1
    used = {name: seconds / result.seconds for name, seconds in result.cpu_seconds.items()}
    rest = max(0.0, result.machine_busy * cores - sum(used.values()))
    shares = ", ".join(f"{name} {value:.2f}" for name, value in used.items())
    per_response = ", ".join(
        f"{name} {per_200(result, name):.2f} ms"
        for name in ("consult", "floor", "gateway", "nginx", "postgres")
        if result.ok and result.cpu_seconds.get(name, 0) > 0.05
    )
    return (
        f"cores used: {shares}, rest of machine {rest:.2f} (of {cores}); "
        f"CPU per 200: {per_response}"
    )


def row(label: str, result: LoadResult) -> str:
    summary = support.summarize(result.latencies)
    return (
        f"  {label:<8} {result.rate:>9.1f} {summary.p50:>8.2f} {summary.p99:>8.2f} "
        f"{result.ok:>8} {result.non_ok:>8} {result.errors:>7}"
    )


def problems(label: str, result: LoadResult) -> list[str]:
    notes = []
    if result.non_ok:
        notes.append(f"{label}: non-200 answers {dict(result.statuses)}")
    if result.errors or result.unfinished:
        notes.append(
            f"{label}: {result.errors} errors, {result.unfinished} clients unfinished; "
            f"first errors: {result.error_samples}"
        )
    return notes


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def against_floor(results: dict[str, LoadResult]) -> list[bool]:
    """consult's CPU per read ÷ the floor's, and each proxy's CPU per proxied read."""
    verdicts = []
    if "floor" in results:
        consult, floor = per_200(results["direct"], "consult"), per_200(results["floor"], "floor")
        ratio = consult / floor if floor else float("nan")
        verdicts.append(ratio <= FLOOR_RATIO_TARGET)
        print(
            f"  consult CPU per 200 ÷ floor's: {consult:.2f} ÷ {floor:.2f} ms = {ratio:.2f} "
            f"(target <= {FLOOR_RATIO_TARGET:g}: {verdict(verdicts[-1])})"
        )
    else:
        print("  consult CPU per 200 ÷ floor's: no floor (it runs on PostgreSQL only)")
    gateway, nginx = per_200(results["gateway"], "gateway"), per_200(results["nginx"], "nginx")
    verdicts.append(gateway <= PROXY_CPU_TARGET_MS)
    print(
        f"  CPU per proxied 200: gateway {gateway:.2f} ms (target <= {PROXY_CPU_TARGET_MS:g} ms: "
        f"{verdict(verdicts[-1])}), nginx {nginx:.2f} ms"
    )
    return verdicts


def added_latency(results: dict[str, LoadResult], baseline: bool) -> list[bool]:
    """The p50 each proxy adds to the direct read; a target only at the one-client baseline,
    where nothing queues."""
    p50 = {name: support.summarize(result.latencies).p50 for name, result in results.items()}
    gateway, nginx = p50["gateway"] - p50["direct"], p50["nginx"] - p50["direct"]
    line = f"  added p50: gateway {gateway:+.2f} ms, nginx {nginx:+.2f} ms"
    if not baseline:
        print(line + " (requests queue: not a target)")
        return []
    verdicts = [gateway <= ADDED_P50_TARGET_MS, gateway <= ADDED_P50_NGINX_FACTOR * nginx]
    print(
        f"{line} (gateway <= +{ADDED_P50_TARGET_MS:g} ms: {verdict(verdicts[0])}; "
        f"within {ADDED_P50_NGINX_FACTOR:g}x nginx's: {verdict(verdicts[1])})"
    )
    return verdicts


def compare(ports: dict[str, int], args: argparse.Namespace, reading: Reading, clients: int,
            seconds: float, watch: support.Watched, *, baseline: bool = False,
            ) -> list[bool]:  # fmt: skip
    """One run against each target; prints them side by side and returns the verdicts (at the
    baseline, requests/s and the p50 difference are not targets)."""
    results = {}
    for name, port in ports.items():
        host = "127.0.0.1"
        results[name] = support.run_load(
            host,
            port,
            support.get_request(host, port, reading.path, reading.headers),
            concurrency=clients,
            seconds=seconds,
            warmup=args.warmup,
            processes=args.load_processes,
            watch=watch,
        )
    direct, proxied = results["direct"], results["gateway"]
    ratio = proxied.rate / direct.rate if direct.rate else float("nan")
    difference = support.summarize(proxied.latencies).p50 - support.summarize(direct.latencies).p50
    ratio_ok = ratio >= RATIO_TARGET
    difference_ok = difference <= P50_DIFFERENCE_TARGET_MS
    print(f"  {'target':<8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'200s':>8} "
          f"{'non-200':>8} {'errors':>7}")  # fmt: skip
    for name, result in results.items():
        print(row(name, result))
    print(
        f"  ratio gateway/direct {ratio:.2f} (target >= {RATIO_TARGET:.2f}: "
        f"{verdict(ratio_ok)}); p50 difference {difference:+.2f} ms "
        f"(target <= {P50_DIFFERENCE_TARGET_MS:g} ms: {verdict(difference_ok)})"
    )
    verdicts = against_floor(results) + added_latency(results, baseline)
    for name, result in results.items():
        print(f"  {name + ':':<8} {cpu_line(result)}")
    notes = [note for name, result in results.items() for note in problems(name, result)]
    if ratio > 1.05:
        notes.append(
            "the gateway path is faster than the direct one: consult is then limited by its own "
            "contention (compare its CPU per 200), so this ratio says little about the gateway"
        )
    for note in notes:
        print(f"  note: {note}")
    return verdicts + ([] if baseline else [ratio_ok, difference_ok])


def audit_check(stack: Stack) -> str:
    """consult's own verification of its audit chains, which the floor appends to as well (as
    the administrator `prepare` made, signed in afresh: a long run outlives a token)."""
    with httpx.Client(base_url=stack.url("gateway"), timeout=120.0) as client:
        credentials = {"username": "bench.admin", "password": support.PASSWORD}
        signed_in = client.post("/api/auth/token", data={"grant_type": "password", **credentials})
        token = signed_in.json().get("access_token") if signed_in.status_code == 200 else None
        response = client.get(
            "/api/consult/audit/verification", headers={"Authorization": f"Bearer {token}"}
        )
    if response.status_code != 200:
        return f"could not be verified: {response.status_code} {response.text[:200]}"
    report = response.json()
    if report["intact"]:
        return f"intact, {report['records']} records"
    return f"BROKEN: {json.dumps(report)}"


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    print(
        f"gateway overhead: GET /api/consult/cases/{{id}} as the {args.reader}, "
        f"{args.database}, {args.seconds:g} s measured after {args.warmup:g} s warm-up per run"
    )
    print(
        f"load: {args.load_processes} separate process(es), raw HTTP/1.1 keep-alive, "
        "one connection per client"
    )
    print(support.machine_report()[0])
    with support.scratch_stack(args.database, log_level=args.log_level) as stack:
        reading = prepare(stack, args.reader)
        consult = stack.port("consult")
        watch: dict[str, int | Callable[[], list[int]]] = {
            "consult": stack.pid("consult"),
            "gateway": stack.pid("gateway"),
        }
        ports = {"direct": consult}
        with contextlib.ExitStack() as extras:
            if args.database == "postgresql":
                port, floor = extras.enter_context(
                    support.asgi_process(
                        "bench.floor.app:create_app", floor_environment(stack), stack.log_path
                    )
                )
                ports["floor"], watch["floor"] = port, floor.pid
                # Only this run's: other work on the same server is not the read's cost.
                databases = frozenset(url.rsplit("/", 1)[1] for url in stack.database_urls.values())
                watch["postgres"] = lambda: support.pg_backends(databases)
            else:
                print("the floor runs on PostgreSQL only (--database postgresql)")
            ports["gateway"] = stack.port("gateway")
            port, nginx = extras.enter_context(
                support.nginx_proxy(f"127.0.0.1:{consult}", stack.var_dir.parent / "nginx")
            )
            ports["nginx"] = port
            watch["nginx"] = lambda: support.process_tree(nginx.pid)
            same_answers(ports, reading)
            verdicts = []
            if args.baseline_seconds:
                print()
                print(
                    f"baseline: 1 client, {args.baseline_seconds:g} s (no queueing: the added "
                    "p50 is a target here, requests/s and the p50 difference are not)"
                )
                verdicts += compare(
                    ports, args, reading, 1, args.baseline_seconds, watch, baseline=True
                )
            for clients in args.concurrency:
                print()
                print(f"{clients} concurrent clients")
                verdicts += compare(ports, args, reading, clients, args.seconds, watch)
        print()
        print(f"consult's audit chains after the runs: {audit_check(stack)}")
        print("all targets met" if all(verdicts) else "some targets MISSED")


if __name__ == "__main__":
    main()
