"""The demo's look into the local mail catcher (`telemed run --mail-catcher`, telemed/catcher.py):
the invitation email a booking sent the patient, found by the personal visit link in it.

The catcher keeps each email as `<var>/catcher/mail/<UTC arrival 20261208T143000.123456Z>-<n>.eml`,
so its name says when it arrived; the demo reads nothing of the gateway's but what was mailed.
"""

import asyncio
import base64
import binascii
import email
import email.policy
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

ARRIVAL = "%Y%m%dT%H%M%S.%fZ"
TEMPLATE_HEADER = "X-Telemed-Template"
# A personal visit link (gateway/visits/links.py): its token starts with the appointment's id.
VISIT_LINK = re.compile(r"https?://\S+?/visit/([A-Za-z0-9_-]{64})")


@dataclass(frozen=True)
class Mailed:
    subject: str
    link: str
    arrived_at: datetime
    path: Path


def arrival(path: Path) -> datetime | None:
    try:
        return datetime.strptime(path.name.split("-", 1)[0], ARRIVAL).replace(tzinfo=UTC)
    except ValueError:
        return None


def appointment_of(token: str) -> uuid.UUID | None:
    """The appointment a visit link names (as written, unverified: only to recognise it)."""
    try:
        return uuid.UUID(bytes=base64.urlsafe_b64decode(token)[:16])
    except (binascii.Error, ValueError):
        return None


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    return body.get_content() if body is not None else ""


def invitation_in(path: Path, recipient: str, appointment_id: uuid.UUID) -> Mailed | None:
    """The file's email if it is the visit's invitation to `recipient`."""
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)  # what the default policy makes
    if message.get(TEMPLATE_HEADER) != "visit.invitation":
        return None
    if recipient.lower() not in str(message.get("To", "")).lower():
        return None
    for found in VISIT_LINK.finditer(_text(message)):
        arrived_at = arrival(path)
        if appointment_of(found.group(1)) == appointment_id and arrived_at is not None:
            return Mailed(str(message.get("Subject", "")), found.group(0), arrived_at, path)
    return None


async def wait_for_invitation(
    folder: Path, recipient: str, appointment_id: uuid.UUID, since: datetime, within: float
) -> Mailed | None:
    """Polls the catcher's mail folder for the invitation, among emails that arrived from
    `since` on (earlier runs' stay out of it); None if none came within `within` seconds."""
    deadline = time.monotonic() + within
    seen: set[Path] = set()
    while True:
        for path in sorted(await asyncio.to_thread(lambda: list(folder.glob("*.eml")))):
            arrived_at = arrival(path)
            if path in seen or arrived_at is None or arrived_at < since:
                continue
            seen.add(path)
            mailed = await asyncio.to_thread(invitation_in, path, recipient, appointment_id)
            if mailed is not None:
                return mailed
        if time.monotonic() > deadline:
            return None
        await asyncio.sleep(0.1)
