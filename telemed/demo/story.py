"""`telemed demo`: the whole story against a running system, one numbered step at a time.

A district medic opens an urgent case with a lab PDF and a DICOM image (sent resumably), a
cardiologist concludes it, sees the patient in person, books remote follow-ups (the patient's
invitation email arrives in the local mail catcher) and holds the first over video with a bot
patient, and the webhook log shows the events. The first step that fails stops the story with
the API's problem; the command then exits non-zero.
"""

import asyncio
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from gateway.settings import GatewaySettings
from telemed.demo.api import Api, StepFailed
from telemed.demo.runner import Credentials, CredentialSource, Story
from telemed.demo.steps import STEPS
from telemed.registry import spec

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
TIMEOUT = httpx.Timeout(30.0, connect=5.0)


def is_local(url: str) -> bool:
    return urlsplit(url).hostname in LOOPBACK


def from_file(path: Path) -> CredentialSource:
    """The credentials `telemed seed --demo --json` printed, as the demo's users sign in."""

    async def load() -> tuple[Credentials, str]:
        try:
            credentials: Credentials = json.loads(await asyncio.to_thread(path.read_text))
        except (OSError, ValueError) as exc:
            raise StepFailed(f"cannot read the credentials in {path}: {exc}") from exc
        return credentials, f"credentials from {path}"

    return load


def seeding(var_dir: Path | None) -> CredentialSource:
    """Seeds the demo directory of the local system (what `make run` started, under `var_dir`)
    as `telemed seed --demo` does: missing organisations, users and API clients are created,
    existing demo users get fresh passwords. Those are kept, readable only by the owner, in
    `<var_dir>/demo/credentials.json`, so the demo users can sign in after the demo too."""

    async def seed() -> tuple[Credentials, str]:
        from telemed.demo.seed import seed_demo

        settings = GatewaySettings(var_dir=var_dir) if var_dir else GatewaySettings()
        local = {"var_dir": var_dir} if var_dir else {}
        consult, video = spec("consult").settings(**local), spec("video").settings(**local)
        try:
            credentials = await seed_demo(settings, consult, video)
        except Exception as exc:  # any failure here is told as the step's, not raised
            raise StepFailed(
                f"seeding the demo directory in {settings.var_dir} failed ({type(exc).__name__}:"
                f" {exc}); is it the `var` directory of the running system, migrated "
                "(`make run` does both)? Or pass --credentials"
            ) from exc
        kept = settings.var_dir / "demo" / "credentials.json"
        await asyncio.to_thread(_keep_private, kept, json.dumps(credentials, indent=2))
        return credentials, (
            f"seeded the demo directory in {settings.var_dir}/; the users' fresh passwords are "
            f"in {kept}"
        )

    return seed


def _keep_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)  # also when an older file was made with wider rights
    path.write_text(text)


async def run_story(
    url: str,
    credential_source: CredentialSource,
    *,
    as_json: bool = False,
    var_dir: Path | None = None,
) -> tuple[bool, dict[str, Any]]:
    """Runs every step against the gateway at `url`; returns whether all passed, and the
    report. Progress lines go to stdout, or to stderr when the JSON report is wanted. A system
    on this machine keeps its mail (with `--mail-catcher`) under `var_dir` (default: as
    `telemed run`)."""
    out = sys.stderr if as_json else sys.stdout
    async with httpx.AsyncClient(base_url=url, timeout=TIMEOUT, trust_env=False) as client:
        story = Story(Api(client), credential_source, out)
        if is_local(url):
            var = var_dir or GatewaySettings().var_dir
            story.context.mail_folder = var / "catcher" / "mail"
        ok = await story.run(STEPS)
    return ok, story.json_report(len(STEPS))


def credential_source(url: str, credentials: Path | None, var_dir: Path | None) -> CredentialSource:
    """The credentials file when given; otherwise the local system's directory, seeded. A
    system elsewhere has its directory elsewhere: then the file is required."""
    if credentials is not None:
        return from_file(credentials)
    if not is_local(url):
        raise ValueError(
            f"{url} is not this machine: pass --credentials with the JSON `telemed seed --demo "
            "--json` printed there"
        )
    return seeding(var_dir)
