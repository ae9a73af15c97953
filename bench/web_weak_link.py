"""The console's screens over a weak rural link: bytes and time to usable, first and later load.

Starts the demo system as tests/web/browser.py `running_console` does (`telemed migrate`,
`seed --demo`, `run` on free ports, a scratch var/) and stages the cases the screens show
(tests/web/screens.py, the screen list the pictures share). Then, for each screen, in
headless Chromium:

1. a new context (own cookies, empty cache), unthrottled: signed in as the screen's user,
   switched to `--language`, the screen's address found; then the cache is cleared
   (`Network.clearBrowserCache`), so signing in costs the screen nothing and leaves it nothing;
2. throttled with `Network.emulateNetworkConditions`: 256 kbit/s down (32,000 bytes/s),
   128 kbit/s up (16,000 bytes/s), `latency` 300 ms; the screen loaded: the first load;
3. a blank page, then the screen again in the same context (its assets cached): a later
   navigation.

Bytes are the sum of `Network.loadingFinished.encodedDataLength` over the load (what came over
the wire: headers and the compressed body), plus the same figure of each redirect answer on the
way (`requestWillBeSent.redirectResponse`), until the network is idle or 10 s after `load` (the
video page's room events are a stream held open: never finished, never counted); requests sent
are not counted. KB are 1,000 bytes.
Usable is the document's `load` event end from its Navigation Timing (the HTML parsed, the
stylesheet and the deferred htmx script loaded and run), counted from the navigation's start
(redirects included), with the main heading (`h1`) visible then.

DevTools' `latency` delays every request's response headers by that much: each request costs
one 300 ms round trip, as a request on an open connection does. It does not add the TCP
handshake of a new connection (one more round trip per connection a real link needs), so over
a real 300 ms link a first load takes about 0.3 s more per connection on the critical path.

Targets (docs/DESIGN: the console's budgets): first load <= 150 KB, later navigation <= 30 KB,
usable <= 3 s.

    .venv/bin/python bench/web_weak_link.py [--screens home-medic,queue] [--language en] [--json]
"""

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import Browser, CDPSession, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.web.browser import headless_chromium
from tests.web.demo_console import Demo, address, demo_console, signed_in
from tests.web.screens import Screen, chosen

WEAK_LINK = {
    "offline": False,
    "latency": 300,  # ms added to each request's answer: one round trip per request
    "downloadThroughput": 256_000 // 8,  # bytes/s
    "uploadThroughput": 128_000 // 8,
}
UNTHROTTLED = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
FIRST_LOAD_KB, LATER_KB, USABLE_S = 150.0, 30.0, 3.0
USABLE = "() => performance.getEntriesByType('navigation')[0].loadEventEnd"
SETTLING_MS = 10_000  # after `load`, how long requests made later are waited for and counted


@dataclass
class Meter:
    """Bytes each request brought in while it listens, from the DevTools protocol's events."""

    requests: dict[str, int] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)

    def listen(self, cdp: CDPSession) -> None:
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.loadingFinished", self._finished)

    def reset(self) -> None:
        self.requests.clear()
        self.urls.clear()

    def _sent(self, event: dict[str, Any]) -> None:
        request_id = event["requestId"]
        if redirect := event.get("redirectResponse"):  # the same id goes on to the next hop
            key = f"{request_id}@{redirect['url']}"
            self.requests[key] = int(redirect["encodedDataLength"])
            self.urls[key] = redirect["url"]
        self.urls[request_id] = event["request"]["url"]

    def _finished(self, event: dict[str, Any]) -> None:
        if event["requestId"] in self.urls:  # sent during this load, not before it
            self.requests[event["requestId"]] = int(event["encodedDataLength"])

    def total(self) -> int:
        return sum(self.requests.values())

    def each(self) -> list[dict[str, Any]]:
        """Each request's address and bytes (inline `data:` addresses left out)."""
        sizes = [(self.urls[key], size) for key, size in self.requests.items()]
        return [{"url": url, "bytes": size} for url, size in sizes if not url.startswith("data:")]


@dataclass
class Load:
    bytes: int
    usable_s: float
    requests: list[dict[str, Any]]


@dataclass
class Figures:
    screen: str
    user: str | None
    path: str
    first: Load
    later: Load

    def over(self) -> list[str]:
        """The targets this screen misses."""
        missed = []
        if self.first.bytes / 1000 > FIRST_LOAD_KB:
            missed.append("first-load bytes")
        if self.later.bytes / 1000 > LATER_KB:
            missed.append("later bytes")
        if self.first.usable_s > USABLE_S:
            missed.append("first usable")
        if self.later.usable_s > USABLE_S:
            missed.append("later usable")
        return missed


def load(page: Page, meter: Meter, path: str) -> Load:
    meter.reset()
    page.goto(path, wait_until="load")
    usable_ms = float(page.evaluate(USABLE))
    expect(page.locator("h1").first).to_be_visible(timeout=1000)  # there when the page loaded
    # Anything late is still counted; a stream held open (the video page's events) never idles.
    with suppress(PlaywrightTimeoutError):
        page.wait_for_load_state("networkidle", timeout=SETTLING_MS)
    return Load(meter.total(), round(usable_ms / 1000, 3), meter.each())


def measure(browser: Browser, demo: Demo, screen: Screen, language: str) -> Figures:
    page = signed_in(browser, demo.system, screen, language)
    try:
        path = address(page, screen, demo.staged)
        cdp = page.context.new_cdp_session(page)
        meter = Meter()
        meter.listen(cdp)
        cdp.send("Network.enable")
        cdp.send("Network.clearBrowserCache")
        cdp.send("Network.emulateNetworkConditions", WEAK_LINK)
        first = load(page, meter, path)
        cdp.send("Network.emulateNetworkConditions", UNTHROTTLED)
        page.goto("about:blank")
        cdp.send("Network.emulateNetworkConditions", WEAK_LINK)
        later = load(page, meter, path)
        return Figures(screen.name, screen.user, path, first, later)
    finally:
        page.context.close()


def verdict(figures: Figures) -> str:
    missed = figures.over()
    return "PASS" if not missed else "over: " + ", ".join(missed)


def print_table(results: list[Figures], language: str, show_requests: bool) -> None:
    print(
        f"Weak link: 256 kbit/s down, 128 kbit/s up, 300 ms per request; language {language}. "
        f"Targets: first load <= {FIRST_LOAD_KB:.0f} KB, later <= {LATER_KB:.0f} KB, "
        f"usable <= {USABLE_S:.0f} s."
    )
    print(f"{'screen':<18} {'first KB':>9} {'later KB':>9} {'usable first s':>15} "
          f"{'later s':>8}  verdict")  # fmt: skip
    for figures in results:
        print(
            f"{figures.screen:<18} {figures.first.bytes / 1000:>9.1f} "
            f"{figures.later.bytes / 1000:>9.1f} {figures.first.usable_s:>15.2f} "
            f"{figures.later.usable_s:>8.2f}  {verdict(figures)}"
        )
        if show_requests:
            for label, loaded in (("first", figures.first), ("later", figures.later)):
                for request in loaded.requests:
                    print(f"    {label} {request['bytes']:>9,} B  {request['url']}")
    passed = sum(1 for figures in results if not figures.over())
    worst_first = max(results, key=lambda figures: figures.first.bytes)
    slowest = max(results, key=lambda figures: figures.first.usable_s)
    print(
        f"{passed} of {len(results)} screens within every target; largest first load "
        f"{worst_first.screen} {worst_first.first.bytes / 1000:.1f} KB; slowest first load "
        f"{slowest.screen} {slowest.first.usable_s:.2f} s."
    )


@contextmanager
def system_output_to_stderr() -> Iterator[None]:
    """What `telemed migrate`, `seed` and `run` print goes to stderr, so that stdout carries
    only the figures (`--json` is one JSON document)."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--screens", help="comma-separated names (default: every screen)")
    parser.add_argument("--language", choices=["ru", "en"], default="ru")
    parser.add_argument("--json", action="store_true", help="the figures as JSON")
    parser.add_argument(
        "--requests", action="store_true", help="also each request's bytes, per load"
    )
    args = parser.parse_args(argv)
    try:
        screens = chosen(args.screens)
    except ValueError as exc:
        parser.error(str(exc))
    with (
        system_output_to_stderr(),
        tempfile.TemporaryDirectory(prefix="telemed-weak-link-") as scratch,
        demo_console(Path(scratch)) as demo,
        headless_chromium() as browser,
    ):
        results = [measure(browser, demo, screen, args.language) for screen in screens]
    if args.json:
        rows = [asdict(figures) | {"over": figures.over()} for figures in results]
        targets = {"first_load_kb": FIRST_LOAD_KB, "later_kb": LATER_KB, "usable_s": USABLE_S}
        print(json.dumps({"language": args.language, "targets": targets, "screens": rows}))
    else:
        print_table(results, args.language, args.requests)
    return 0


if __name__ == "__main__":
    sys.exit(main())
