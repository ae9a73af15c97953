"""Pictures of the console for its guide: every screen of tests/web/screens.py, from the
demo system, in Russian and English.

Starts the demo as bench/web_weak_link.py does (`telemed migrate`, `seed --demo`, `run` on free
ports with a scratch var/, then what tests/web/screens.py stages), signs in as each screen's
user in headless Chromium and saves what the window shows at 1280x800, and for the roles' main
screens also at phone width (360x740), as docs/pictures/<screen>-<language>[-phone].png at one
device pixel per CSS pixel (small files for a repository).

    .venv/bin/python docs/screenshots.py [--screens home-patient,queue] [--out docs/pictures]
"""

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import Browser

from tests.web.browser import headless_chromium
from tests.web.demo_console import Demo, address, demo_console, signed_in
from tests.web.screens import Screen, chosen

PICTURES = Path(__file__).parent / "pictures"
LANGUAGES = ("ru", "en")
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
LARGE = 150_000  # bytes: a picture above this is said to be large


def picture(
    browser: Browser, demo: Demo, screen: Screen, language: str, phone: bool, out: Path
) -> Path:
    viewport = PHONE if phone else DESKTOP
    page = signed_in(
        browser, demo.system, screen, language, viewport=viewport, device_scale_factor=1
    )
    try:
        page.goto(address(page, screen, demo.staged))
        name = f"{screen.name}-{language}{'-phone' if phone else ''}.png"
        path = out / name
        page.screenshot(path=path, type="png", scale="css", animations="disabled", caret="hide")
        return path
    finally:
        page.context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--screens", help="comma-separated names (default: every screen)")
    parser.add_argument("--out", type=Path, default=PICTURES, help="where the PNG files go")
    args = parser.parse_args(argv)
    try:
        screens = chosen(args.screens)
    except ValueError as exc:
        parser.error(str(exc))
    args.out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    with (
        tempfile.TemporaryDirectory(prefix="telemed-screenshots-") as scratch,
        demo_console(Path(scratch)) as demo,
        headless_chromium() as browser,
    ):
        for screen in screens:
            for language in LANGUAGES:
                for phone in (False, True) if screen.phone else (False,):
                    saved.append(picture(browser, demo, screen, language, phone, args.out))
    for path in saved:
        size = path.stat().st_size
        print(f"{size / 1000:7.1f} KB  {path}{'  (large)' if size > LARGE else ''}")
    print(f"{len(saved)} pictures, {sum(p.stat().st_size for p in saved) / 1000:.0f} KB in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
