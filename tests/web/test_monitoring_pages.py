"""The monitoring screens in process: a patient enrolled (mistakes said beside their fields,
what was typed kept), an in-range check-in and one over the threshold whose ambulance task
shows on the escalations screen and is recorded done, the patient's zone in the due list,
discharge; a forged form and another organisation's patient refused."""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.conftest import Actor, Stack
from tests.web.conftest import Console, csrf_of
from tests.web.test_appeal_pages import text_of

MONITORING = "/api/consult/monitoring"
PATIENT = {
    "patient_reference": "MIS-42-000042",
    "patient_full_name": "Ivanova Anna Sergeevna",
    "patient_birth_date": "1994-06-01",
    "patient_sex": "female",
    "patient_insurance_policy": "4250000000000042",
    "contact_phone": "+7 913 555-01-23",
    "programme": "pregnancy_high_risk",
    "indication": "Week 32, chronic hypertension.",
}


@dataclass
class Ward:
    stack: Stack
    console: Console
    coordinator: Actor
    far_coordinator: Actor  # another organisation's

    @asynccontextmanager
    async def browser(self, actor: Actor | None = None) -> AsyncIterator[httpx.AsyncClient]:
        async with self.console.browser("en") as browser:
            signed = await self.console.sign_in(browser, (actor or self.coordinator).username)
            assert signed.status_code == 303, signed.text
            page = await self.console.page(browser, "/profile")
            await self.console.post(browser, page, "/language", language="en")
            yield browser

    async def enrol(self, browser: httpx.AsyncClient, **fields: str) -> httpx.Response:
        form = await self.console.page(browser, "/monitoring/enrol")
        return await self.console.post(browser, form, "/monitoring/enrol", **(PATIENT | fields))


@pytest.fixture
async def ward(stack: Stack, console: Console) -> Ward:
    hospital = await stack.organization()
    other = await stack.organization()
    return Ward(
        stack,
        console,
        await stack.actor("coordinator", hospital),
        await stack.actor("coordinator", other),
    )


def enrolment_id(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    found = re.match(r"/monitoring/([0-9a-f-]{36})\?saved=enrolled", response.headers["location"])
    assert found, response.headers["location"]
    return found.group(1)


async def check_in(
    ward: Ward, browser: httpx.AsyncClient, path: str, **fields: Any
) -> httpx.Response:
    page = await ward.console.page(browser, path)
    values = {"wellbeing": "same", "note": ""} | fields
    recorded = await ward.console.post(browser, page, f"{path}/check-ins", **values)
    assert recorded.status_code == 303, recorded.text
    return await ward.console.page(browser, recorded.headers["location"].split("#")[0])


async def test_a_check_in_over_the_threshold_raises_an_ambulance_on_the_escalations_screen(
    ward: Ward,
) -> None:
    async with ward.browser() as browser:
        refused = await ward.enrol(browser, patient_full_name="", contact_phone="call me")
        assert refused.status_code == 422, refused.text
        said = text_of(refused.text)
        assert 'id="patient_full_name-error"' in refused.text
        assert 'id="contact_phone-error"' in refused.text
        assert 'value="MIS-42-000042"' in refused.text  # what was typed stays
        assert "Some answers need correcting" in said

        enrolled = await ward.enrol(browser, patient_timezone="Asia/Kamchatka")
        path = f"/monitoring/{enrolment_id(enrolled)}"
        said = text_of((await ward.console.page(browser, enrolled.headers["location"])).text)
        assert "The patient is enrolled." in said
        assert "Threshold: ≥ 160 (Ambulance); ≥ 140 (Home visit)" in said
        overview = text_of((await ward.console.page(browser, "/monitoring")).text)
        assert "Ivanova Anna Sergeevna · High-risk pregnancy" in overview

        calm = text_of(
            (await check_in(ward, browser, path, systolic_bp="120", diastolic_bp="80")).text
        )
        assert "every value is within the programme's thresholds" in calm
        assert "Out of range" not in calm
        tasks = text_of((await ward.console.page(browser, "/monitoring/tasks")).text)
        assert "No escalations." in tasks

        worse = await check_in(
            ward, browser, path, systolic_bp="170", diastolic_bp="100", symptoms="severe_headache"
        )
        said = text_of(worse.text)
        assert "Over the threshold: Ambulance arranged." in said
        assert "Out of range: ≥ 160 (Ambulance); ≥ 140 (Home visit)" in said  # in words
        assert "Out of range: ≥ 90 (Home visit)" in said
        assert "Arranged: Ambulance — Severe systolic hypertension" in said

        escalations = await ward.console.page(browser, "/monitoring/tasks")
        said = text_of(escalations.text)
        assert "Ambulance · To arrange · Ivanova Anna Sergeevna" in said
        task = re.search(r'action="/monitoring/tasks/([0-9a-f-]{36})/complete"', escalations.text)
        assert task, escalations.text
        action = f"/monitoring/tasks/{task.group(1)}/complete"
        empty = await ward.console.post(browser, escalations, action, outcome="")
        assert empty.status_code == 422
        assert 'id="outcome-' in empty.text
        assert 'aria-invalid="true"' in empty.text
        done = await ward.console.post(browser, escalations, action, outcome="Taken to hospital.")
        assert done.status_code == 303, done.text
        said = text_of((await ward.console.page(browser, done.headers["location"])).text)
        assert "Ambulance · Done" in said
        assert "Taken to hospital." in said

        page = await ward.console.page(browser, path)
        gone = await ward.console.post(
            browser, page, f"{path}/discharge", reason="hospitalised", note=""
        )
        assert gone.status_code == 303, gone.text
        said = text_of((await ward.console.page(browser, gone.headers["location"])).text)
        assert "The patient is discharged from monitoring." in said
        assert "Discharged: Hospitalised" in said
        assert "Record a check-in" not in said


async def test_a_wrong_value_is_said_beside_its_field_and_kept(ward: Ward) -> None:
    async with ward.browser() as browser:
        path = f"/monitoring/{enrolment_id(await ward.enrol(browser))}"
        page = await ward.console.page(browser, path)
        refused = await ward.console.post(
            browser, page, f"{path}/check-ins", systolic_bp="900", diastolic_bp="80",
            wellbeing="same", note="",
        )  # fmt: skip
        assert refused.status_code == 422
        assert 'id="systolic_bp-error"' in refused.text
        assert 'value="900"' in refused.text


async def test_the_due_list_gives_each_patient_their_own_time(ward: Ward) -> None:
    """The form enrols with the first check-in a day on; through the API, one due within the
    hour, for a patient far east or west (whichever is before 23:00 now, so the check-in is
    due today there): the list shows the patient's time and the reader's."""
    now: datetime = ward.stack.apps["consult"].state.clock()
    zone, city = next(
        (name, city)
        for name, city in (("Asia/Kamchatka", "Kamchatka"), ("Europe/Kaliningrad", "Kaliningrad"))
        if now.astimezone(ZoneInfo(name)).hour < 23
    )
    soon = (now + timedelta(minutes=30)).isoformat()
    body = {
        "programme": "home_treatment",
        "patient": {
            "reference": "MIS-42-7",
            "full_name": "Petrov Pavel",
            "birth_date": "1960-01-01",
            "sex": "male",
            "insurance_policy": "4250000000000007",
        },
        "contact_phone": "+7 913 555-01-24",
        "indication": "Pneumonia treated at home.",
        "patient_timezone": zone,
        "first_check_in_due_at": soon,
    }
    response = await ward.stack.client.post(
        f"{MONITORING}/enrolments", json=body, headers=ward.coordinator.headers
    )
    assert response.status_code == 201, response.text
    async with ward.browser() as browser:
        said = text_of((await ward.console.page(browser, "/monitoring")).text)
    assert "Petrov Pavel · Home treatment of an acute respiratory infection" in said
    patient_time = rf"Due [^)]* \({city}\), the patient's time"
    assert re.search(patient_time + r" \(your time: [^)]* \(Novokuznetsk\)\)", said), said


async def test_a_forged_form_and_another_organisations_patient_are_refused(ward: Ward) -> None:
    async with ward.browser() as browser:
        path = f"/monitoring/{enrolment_id(await ward.enrol(browser))}"
        page = await ward.console.page(browser, path)
        forged = await browser.post(
            f"{path}/check-ins", data={"csrf_token": "forged", "wellbeing": "same"}
        )
        assert forged.status_code == 403
        assert csrf_of(page)
    async with ward.browser(ward.far_coordinator) as browser:
        other = await browser.get(path)
        assert other.status_code == 404
        assert "Page not found" in other.text
