"""What the gateway costs: one authenticated read, straight to consult and through the gateway.

Starts the real processes with `telemed.launcher.Launcher` on free loopback ports (a scratch
`var/`; SQLite by default, fresh PostgreSQL databases with `--database postgresql`), creates an
organisation, a specialist, a medic and one submitted case through the API, then sends the same
`GET /api/consult/cases/{id}` with the specialist's bearer token directly to the consult port
and to the gateway port, at 32 and 128 concurrent keep-alive clients, each for a fixed time after
a warm-up (preceded by a short one-client baseline that shows the gateway's latency when nothing
queues). Only 200 responses count; anything else is reported.

Printed per concurrency: requests/s direct and via the gateway and their ratio (target >= 0.70),
p50 and p99 latency of both, and the p50 difference (target <= 2 ms); plus the CPU each process
used in the measured window, so a saturated machine or load generator shows up in the figures.

    .venv/bin/python bench/gateway_overhead.py [--database postgresql] [--seconds 10]
"""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import support
from bench.support import Directory, LoadResult, Stack

RATIO_TARGET = 0.70
P50_DIFFERENCE_TARGET_MS = 2.0


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


def prepare(stack: Stack, reader: str) -> tuple[str, dict[str, str]]:
    """One submitted case and the headers of the user who reads it."""
    with Directory(stack) as directory:
        centre = directory.organization("Bench Regional Centre", "regional_centre")
        hospital = directory.organization("Bench District Hospital", "district_hospital")
        specialist = directory.actor("bench.cardiologist", "specialist", centre, "cardiology")
        medic = directory.actor("bench.medic", "district_medic", hospital)
        case = directory.submit_case(medic, centre, "cardiology")
        headers = (specialist if reader == "specialist" else medic).headers
        path = f"/api/consult/cases/{case['id']}"
        for name in ("consult", "gateway"):
            response = directory.client.get(stack.url(name) + path, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"{name} answered {response.status_code}: {response.text}")
    return path, headers


def cpu_line(result: LoadResult) -> str:
    """Cores each process used in the measured window, and CPU time per 200 response."""
    cores = os.cpu_count() or 1
    used = {name: seconds / result.seconds for name, seconds in result.cpu_seconds.items()}
    rest = max(0.0, result.machine_busy * cores - sum(used.values()))
    shares = ", ".join(f"{name} {value:.2f}" for name, value in used.items())
    per_response = ", ".join(
        f"{name} {result.cpu_seconds[name] / result.ok * 1000:.2f} ms"
        for name in ("consult", "gateway")
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


def compare(stack: Stack, args: argparse.Namespace, request_path: str, headers: dict[str, str],
            clients: int, seconds: float, watch: support.Watched) -> tuple[bool, bool]:  # fmt: skip
    """One run straight to consult and one through the gateway; prints them side by side."""
    results = {}
    for name in ("consult", "gateway"):
        host, port = stack.launcher.host, stack.port(name)
        results[name] = support.run_load(
            host,
            port,
            support.get_request(host, port, request_path, headers),
            concurrency=clients,
            seconds=seconds,
            warmup=args.warmup,
            processes=args.load_processes,
            watch=watch,
        )
    direct, proxied = results["consult"], results["gateway"]
    ratio = proxied.rate / direct.rate if direct.rate else float("nan")
    difference = support.summarize(proxied.latencies).p50 - support.summarize(direct.latencies).p50
    ratio_ok = ratio >= RATIO_TARGET
    difference_ok = difference <= P50_DIFFERENCE_TARGET_MS
    print(f"  {'target':<8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'200s':>8} "
          f"{'non-200':>8} {'errors':>7}")  # fmt: skip
    print(row("direct", direct))
    print(row("gateway", proxied))
    print(
        f"  ratio gateway/direct {ratio:.2f} (target >= {RATIO_TARGET:.2f}: "
        f"{'met' if ratio_ok else 'MISSED'}); p50 difference {difference:+.2f} ms "
        f"(target <= {P50_DIFFERENCE_TARGET_MS:g} ms: {'met' if difference_ok else 'MISSED'})"
    )
    print(f"  direct:  {cpu_line(direct)}")
    print(f"  gateway: {cpu_line(proxied)}")
    notes = problems("direct", direct) + problems("gateway", proxied)
    if ratio > 1.05:
        notes.append(
            "the gateway path is faster than the direct one: consult is then limited by its own "
            "contention (compare its CPU per 200), so this ratio says little about the gateway"
        )
    for note in notes:
        print(f"  note: {note}")
    return ratio_ok, difference_ok


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
        path, headers = prepare(stack, args.reader)
        watch: support.Watched = {"consult": stack.pid("consult"), "gateway": stack.pid("gateway")}
        if args.database == "postgresql":
            watch = {**watch, "postgres": lambda: support.pids_named("postgres")}
        if args.baseline_seconds:
            print()
            print(f"baseline: 1 client, {args.baseline_seconds:g} s (no queueing; not a target)")
            compare(stack, args, path, headers, 1, args.baseline_seconds, watch)
        verdicts = []
        for clients in args.concurrency:
            print()
            print(f"{clients} concurrent clients")
            verdicts.append(all(compare(stack, args, path, headers, clients, args.seconds, watch)))
        print()
        print("all targets met" if all(verdicts) else "some targets MISSED")


if __name__ == "__main__":
    main()
