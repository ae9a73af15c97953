"""The patient's screens in process: their visits in their own zone with "Join" enabled only
inside the visit's window (times set relative to now through the API), a question with a photo
filed and its answer shown once the specialist answers through the API; another patient's
question or visit is the 404 page; a form without its CSRF token or without an in-person visit
is refused."""

import contextlib
import math
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.models import ApiClient, kernel_tables
from services.common.uow import standalone_unit_of_work
from tests.conftest import Actor, Stack, running_stack
from tests.files.samples import jpeg_bytes
from tests.web.conftest import Console, csrf_of
from web.i18n import local_time

SCHEDULING = "/api/scheduling"
CONSULT = "/api/consult"
CLIENT_ID, CLIENT_SECRET = "tmc_scheduling_web", "the scheduling service's test secret"
CENTRE_ZONE, PATIENT_ZONE = "Asia/Novokuznetsk", "Asia/Vladivostok"
ALL_DAY = [{"weekday": day, "start": "00:00", "end": "24:00"} for day in range(7)]
VISIT_TYPES = [
    {"type": "in_person", "duration_minutes": 30},
    {"type": "remote", "duration_minutes": 20},
]
STEP = timedelta(minutes=5)
# Not scheduling's default (15 minutes): the console's "Join" follows the appointment's window.
JOIN_LINK_BEFORE = timedelta(minutes=25)


class Clock:
    """Scheduling's time: the real one, unless a test holds it at a moment."""

    held: datetime | None = None

    def __call__(self) -> datetime:
        return self.held or datetime.now(UTC)


def on_grid(moment: datetime) -> datetime:
    """The first start of the schedule's 5-minute grid from `moment`."""
    seconds = STEP.total_seconds()
    return datetime.fromtimestamp(math.ceil(moment.timestamp() / seconds) * seconds, UTC)


def form_of(page: str, action: str) -> str:
    """The form of the page that posts to `action`."""
    return page.split(f'action="{action}"')[1].split("</form>")[0]


@pytest.fixture
async def stack(clean_databases: dict[str, str], tmp_path: Path) -> AsyncIterator[Stack]:
    """With scheduling's API client, so remote visits get video rooms and join links."""
    video_client = {"video_client_id": CLIENT_ID, "video_client_secret": CLIENT_SECRET}
    overrides = {"scheduling": video_client | {"join_link_before": JOIN_LINK_BEFORE}}
    async with running_stack(clean_databases, tmp_path, overrides) as running:
        gateway = running.apps["gateway"]
        platform = await running.organization(kind="regional_centre")
        async with standalone_unit_of_work(gateway.state.database, kernel_tables.audit) as uow:
            uow.session.add(
                ApiClient(
                    client_id=CLIENT_ID,
                    secret_hash=await gateway.state.secret_hasher.hash(CLIENT_SECRET),
                    name="Scheduling service",
                    organization_id=uuid.UUID(platform["id"]),
                    scopes=["video:rooms"],
                    is_service=True,
                )
            )
        yield running


@dataclass
class Patients:
    """A regional centre whose cardiologist saw the patient in person two hours ago, and a
    district hospital in another zone with its medic and two patients."""

    stack: Stack
    console: Console
    clock: Clock
    medic: Actor
    cardiologist: Actor
    patient: Actor
    other_patient: Actor
    episode_id: str = ""

    async def call(self, actor: Actor, path: str, body: Any = None, status: int = 200) -> Any:
        response = await self.stack.client.post(path, json=body, headers=actor.headers)
        assert response.status_code == status, response.text
        return response.json()

    async def book(self, visit_type: str, start: datetime) -> dict[str, Any]:
        body = {
            "practitioner_id": str(self.cardiologist.id),
            "visit_type": visit_type,
            "start": start.isoformat(),
        } | ({"episode_id": self.episode_id} if self.episode_id else {})
        if not self.episode_id:
            body["patient_id"] = str(self.patient.id)
        booked: dict[str, Any] = await self.call(
            self.medic, f"{SCHEDULING}/appointments", body, 201
        )
        return booked

    async def seen_in_person(self) -> dict[str, Any]:
        """Booked and held two hours ago, by scheduling's clock."""
        start = on_grid(datetime.now(UTC) - timedelta(hours=2))
        self.clock.held = start - STEP
        first = await self.book("in_person", start)
        self.clock.held = start + STEP
        for action in ("arrive", "fulfil"):
            held = await self.call(
                self.cardiologist, f"{SCHEDULING}/appointments/{first['id']}/{action}"
            )
        self.clock.held = None
        self.episode_id = first["episode_id"]
        return dict(held)

    @contextlib.asynccontextmanager
    async def browser(self, actor: Actor) -> AsyncIterator[httpx.AsyncClient]:
        async with self.console.browser("en") as browser:
            signed = await self.console.sign_in(browser, actor.username)
            assert signed.status_code == 303, signed.text
            page = await self.console.page(browser, "/profile")
            await self.console.post(browser, page, "/language", language="en")
            yield browser


@pytest.fixture
async def patients(stack: Stack, console: Console) -> Patients:
    clock = Clock()
    stack.apps["scheduling"].state.clock = clock
    centre = await stack.organization(kind="regional_centre", timezone=CENTRE_ZONE)
    hospital = await stack.organization(kind="district_hospital", timezone=PATIENT_ZONE)
    cardiologist = await stack.actor("specialist", centre, "cardiology")
    schedule = {"weekly_hours": ALL_DAY, "visit_types": VISIT_TYPES, "slot_step_minutes": 5,
                "min_notice_minutes": 0}  # fmt: skip
    created = await stack.client.post(
        f"{SCHEDULING}/schedules", json=schedule, headers=cardiologist.headers
    )
    assert created.status_code == 201, created.text
    return Patients(
        stack=stack,
        console=console,
        clock=clock,
        medic=await stack.actor("district_medic", hospital),
        cardiologist=cardiologist,
        patient=await stack.actor("patient", hospital),
        other_patient=await stack.actor("patient", hospital),
    )


async def test_visits_in_the_patients_zone_and_join_only_inside_the_window(
    patients: Patients,
) -> None:
    await patients.seen_in_person()
    now = datetime.now(UTC)
    soon = await patients.book("remote", on_grid(now) + STEP)  # its window opened already
    later = await patients.book("remote", on_grid(now) + timedelta(hours=3))
    async with patients.browser(patients.patient) as browser:
        home = await patients.console.page(browser, "/")
        text = home.text
        assert "Your visits" in text
        start = datetime.fromisoformat(soon["start"])
        assert local_time(start, "en", PATIENT_ZONE) in text  # "…, 14:30 (Vladivostok)"
        assert "(Vladivostok)" in text
        assert "(Novokuznetsk)" not in text
        open_form = form_of(text, f"/appointments/{soon['id']}/join")
        assert "Join the video visit" in open_form
        assert "disabled" not in open_form
        closed_form = form_of(text, f"/appointments/{later['id']}/join")
        assert "disabled" in closed_form
        opens = datetime.fromisoformat(later["start"]) - JOIN_LINK_BEFORE
        assert f"You can join from {local_time(opens, 'en', PATIENT_ZONE)}." in closed_form
        assert "Recent visits" in text
        assert "in person: took place" in text

        joined = await patients.console.post(browser, home, f"/appointments/{soon['id']}/join")
        assert joined.status_code == 303, joined.text
        assert "/join/" in joined.headers["location"]  # the video service's page and token
        early = await patients.console.post(browser, home, f"/appointments/{later['id']}/join")
        assert early.status_code == 409
        assert "The video visit is not open yet." in early.text
    async with patients.browser(patients.other_patient) as other:
        page = await patients.console.page(other, "/")
        assert soon["id"] not in page.text
        stranger = await patients.console.post(other, page, f"/appointments/{soon['id']}/join")
        assert stranger.status_code == 404
        assert "Page not found" in stranger.text


QUESTION = {
    "specialty": "cardiology",
    "question": "My ankles swell in the evening; keep the amlodipine?",
    "mode": "written",
    "sign": "leg_swelling",
    "full_name": "Petrova Anna Ivanovna",
    "birth_date": "1958-02-03",
    "sex": "female",
    "insurance_policy": "4250000000000777",
}


async def test_a_question_with_a_photo_is_answered_and_only_its_patient_reads_it(
    patients: Patients,
) -> None:
    await patients.seen_in_person()
    async with patients.browser(patients.patient) as browser:
        form = await patients.console.page(browser, "/questions/new")
        assert '<option value="cardiology"' in form.text
        assert 'capture="environment"' in form.text
        assert "Leg swelling" in form.text
        sent = await browser.post(
            "/questions",
            data={"csrf_token": csrf_of(form), "form_key": "k1", **QUESTION},
            files=[("photo", ("ankle.jpg", jpeg_bytes(), "image/jpeg"))],
        )
        assert sent.status_code == 303, sent.text
        path = sent.headers["location"].split("?")[0]
        case_id = path.rsplit("/", 1)[1]
        page = await patients.console.page(browser, sent.headers["location"])
        assert "Your question was sent to the specialist." in page.text
        assert "No answer yet." in page.text
        assert "ankle.jpg" in page.text
        assert "Leg swelling" in page.text

        case = await patients.call(patients.cardiologist, f"{CONSULT}/cases/{case_id}/accept")
        assert case["flagged"] is True
        await patients.call(patients.cardiologist, f"{CONSULT}/cases/{case_id}/start")
        content = {
            "findings": "Ankle oedema on amlodipine, no signs of heart failure.",
            "diagnosis_text": "Drug-induced oedema",
            "diagnosis_codes": ["R60.0"],
            "recommendations": "Halve the amlodipine dose; elevate the legs in the evening.",
        }
        await patients.call(
            patients.cardiologist, f"{CONSULT}/cases/{case_id}/conclusions",
            {"content": content}, 201,
        )  # fmt: skip
        answered = await patients.console.page(browser, path)
        assert "Halve the amlodipine dose" in answered.text
        assert "Drug-induced oedema" in answered.text
        listed = await patients.console.page(browser, "/questions")
        assert path in listed.text
        assert "Answered" in listed.text
        again = await patients.console.page(browser, "/questions/new")
        assert 'value="4250000000000777"' in again.text  # the details of the last question
    async with patients.browser(patients.other_patient) as other:
        stranger = await other.get(path)
        assert stranger.status_code == 404
        assert "Page not found" in stranger.text
        assert case_id not in (await patients.console.page(other, "/questions")).text


async def test_refusals_are_said_on_the_form(patients: Patients) -> None:
    async with patients.browser(patients.patient) as browser:
        empty = await patients.console.page(browser, "/questions/new")
        assert "You have no in-person visit that took place yet" in empty.text
        await patients.seen_in_person()
        form = await patients.console.page(browser, "/questions/new")
        forged = await browser.post("/questions", data={**QUESTION, "csrf_token": "forged"})
        assert forged.status_code == 403
        elsewhere = await browser.post(
            "/questions",
            data={"csrf_token": csrf_of(form), "form_key": "k2", **QUESTION,
                  "specialty": "neurology"},
        )  # fmt: skip
        assert elsewhere.status_code == 409
        assert "You were seen in person in other specialties, not this one." in elsewhere.text
        assert "book an in-person visit" in elsewhere.text
        assert "My ankles swell" in elsewhere.text  # what was typed stays
        unfinished = await browser.post(
            "/questions",
            data={"csrf_token": csrf_of(form), "form_key": "k3", **QUESTION, "question": ""},
        )
        assert unfinished.status_code == 422
        assert 'id="question-error"' in unfinished.text
