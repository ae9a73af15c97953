"""The registry's screens in process, as a call centre's registrar uses them: a patient
registered (a namesake warned, then registered anyway), found, booked for an in-person first
visit on a week of free slots shown in the specialist's zone and the call centre's, checked in;
the cardiologist marks it arrived and fulfilled on their calendar; then two remote follow-ups
booked as a series, one moved, one cancelled with a reason, an invitation sent again. Refused:
a step the visit's state does not allow, a patient of an organisation the call centre does not
serve (the 404 page), a form without its CSRF token."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import Stack
from tests.web.conftest import Console, csrf_of
from tests.web.registry_world import POLICY_ELSEWHERE, SCHEDULING, Registry, slots_of
from web.registry.slots import parse_slot

NEXT_WEEK = (datetime.now(UTC) + timedelta(days=7)).date().isoformat()


@pytest.fixture
async def registry(stack: Stack, console: Console) -> Registry:
    found = await Registry.open(stack, console)
    await found.schedule()
    return found


async def _post(
    browser: httpx.AsyncClient, page_path: str, action: str, **fields: str
) -> httpx.Response:
    page = await browser.get(page_path)
    assert page.status_code == 200, page.text
    return await browser.post(action, data={"csrf_token": csrf_of(page), **fields})


def _saved(response: httpx.Response, path: str, saved: str) -> None:
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"{path}?saved={saved}"


async def _register(browser: httpx.AsyncClient, registry: Registry, **more: str) -> httpx.Response:
    fields = {"full_name": "Maria Petrovna Sidorova", "birth_date": "1956-03-14", "sex": "female",
              "email": "sidorova@example.org", "language": "en",
              "organization_id": registry.hospital["id"], **more}  # fmt: skip
    return await _post(browser, "/patients", "/patients", **fields)


async def test_a_registrar_registers_books_and_follows_up_a_patient(registry: Registry) -> None:
    async with registry.browser(registry.registrar) as desk:
        registered = await _register(desk, registry)
        assert registered.status_code == 303, registered.text
        patient_path = urlsplit(registered.headers["location"]).path
        page = await desk.get(registered.headers["location"])
        assert "The patient is registered." in page.text
        assert "sidorova@example.org" in page.text

        again = await _register(desk, registry)
        assert again.status_code == 409
        assert "already registered" in again.text
        assert f'href="{patient_path}"' in again.text  # the namesake on record, to open
        assert 'value="Maria Petrovna Sidorova"' in again.text  # what was typed is kept
        anyway = await _register(desk, registry, anyway="yes")
        assert anyway.status_code == 303, anyway.text

        found = await desk.get("/patients", params={"name": "sidorova"})
        assert found.text.count("Maria Petrovna Sidorova") >= 2

        booking = f"{patient_path}/book"
        week = await desk.get(booking, params={"specialty": "cardiology", "week": NEXT_WEEK})
        assert week.status_code == 200, week.text
        slots = slots_of(week.text)
        assert slots, week.text
        # 08:00 in Novokuznetsk (UTC+7) is 07:00 in Omsk, the call centre's zone.
        assert "8:00\u202fAM (7:00\u202fAM Omsk)" in week.text
        booked = await desk.post(booking, data={"csrf_token": csrf_of(week), "slot": slots[0],
                                                "specialty": "cardiology"})  # fmt: skip
        _saved(booked, patient_path, "booked")
        page = await desk.get(patient_path)
        assert "Booked" in page.text
        assert "Book remote follow-ups" not in page.text
        (visit_id,) = {line.split("/")[0] for line in page.text.split('action="/bookings/')[1:]}
        _saved(await _post(desk, patient_path, f"/bookings/{visit_id}/check-in"),
               patient_path, "check-in")  # fmt: skip
        refused = await _post(desk, patient_path, f"/bookings/{visit_id}/check-in")
        assert refused.status_code == 409
        assert "checked_in" in refused.text  # the API's words: the visit is checked in

    parsed = parse_slot(slots[0])
    assert parsed is not None
    first_start = parsed[1]
    async with registry.browser(registry.cardiologist) as specialist:
        calendar = f"/schedule/calendar?week={NEXT_WEEK}"
        registry.clock.held = first_start + timedelta(minutes=5)
        for step in ("arrive", "fulfil"):
            done = await _post(specialist, calendar, f"/schedule/visits/{visit_id}/{step}",
                               week=NEXT_WEEK)  # fmt: skip
            assert done.status_code == 303, done.text
        registry.clock.held = None
        shown = await specialist.get(calendar)
        assert "Took place" in shown.text
        # Whom she saw, as the booking kept it: the directory does not show her the patient.
        assert "Maria Petrovna Sidorova, born 1956-03-14, age " in shown.text

    async with registry.browser(registry.registrar) as desk:
        page = await desk.get(patient_path)
        assert "Book remote follow-ups as a series" in page.text
        episode_id = page.text.split('action="/episodes/')[1].split("/")[0]
        follow_up_day = (first_start + timedelta(days=7)).date().isoformat()
        series = await desk.post(
            f"/episodes/{episode_id}/follow-ups",
            data={"csrf_token": csrf_of(page), "first_date": follow_up_day, "first_time": "10:00",
                  "every_days": "7", "count": "2", "form_key": "series-1"},
        )  # fmt: skip
        assert series.status_code == 200, series.text
        assert "Follow-ups booked: 2 of 2." in series.text
        visits = (await registry.stack.client.get(
            f"{SCHEDULING}/episodes/{episode_id}", headers=registry.registrar.headers
        )).json()["appointments"]  # fmt: skip
        remote = [item["id"] for item in visits if item["visit_type"] == "remote"]
        assert len(remote) == 2

        _saved(await _post(desk, patient_path, f"/bookings/{remote[0]}/resend",
                           form_key="resend-1"), patient_path, "resent")  # fmt: skip
        moving = await desk.get(f"/bookings/{remote[0]}/reschedule", params={"week": NEXT_WEEK})
        later = slots_of(moving.text)[-1]
        moved = await desk.post(f"/bookings/{remote[0]}/reschedule",
                                data={"csrf_token": csrf_of(moving), "slot": later,
                                      "reason": "Asked for later"})  # fmt: skip
        _saved(moved, patient_path, "moved")
        cancelled = await _post(desk, patient_path, f"/bookings/{remote[1]}/cancel",
                                reason="Admitted to hospital")  # fmt: skip
        _saved(cancelled, patient_path, "cancel")
        page = await desk.get(patient_path)
        assert "Admitted to hospital" in page.text
        assert "Asked for later" in page.text


async def test_a_call_centre_sees_only_the_organisations_it_serves(registry: Registry) -> None:
    elsewhere = await registry.patient_elsewhere()
    async with registry.browser(registry.registrar) as desk:
        for path in (f"/patients/{elsewhere['id']}", f"/patients/{elsewhere['id']}/book"):
            page = await desk.get(path)
            assert page.status_code == 404, path
        found = await desk.get("/patients", params={"name": "Outside"})
        assert "Outside Patient" not in found.text
        form = await desk.get("/patients")
        assert registry.outside["id"] not in form.text  # not an organisation to register with
        # Their policy number is refused (the 409's `reason`), in the page's words, unnamed.
        taken = await _register(desk, registry, full_name="Another Person",
                                policy_number=POLICY_ELSEWHERE)  # fmt: skip
        assert taken.status_code == 409
        assert "A patient with this OMS policy number is already registered." in taken.text
        assert elsewhere["id"] not in taken.text
        assert "Register anyway" not in taken.text


async def test_forms_without_their_csrf_token_are_refused(registry: Registry) -> None:
    async with registry.browser(registry.registrar) as desk:
        refused = await desk.post("/patients", data={"full_name": "Nobody", "sex": "male"})
        assert refused.status_code == 403
        found = await desk.get("/patients", params={"name": "Nobody"})
        assert "Nobody registered matches." in found.text
