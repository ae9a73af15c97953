"""A visit keeps its patient's name and birth date as the directory showed them at booking (to
the booker, or to whoever opened the visit's episode): the specialist, whom the directory does
not show another organisation's patients, reads them on the visit, its follow-ups, its move
and its FHIR view."""

from typing import Any

from tests.scheduling.conftest import SCHEDULING, World, local

TUESDAY, NEXT_TUESDAY = "2025-10-21", "2025-10-28"
NAMED = {"patient_name": "Сидорова Мария Петровна", "patient_birth_date": "1956-03-14"}


async def _registered(world: World) -> dict[str, Any]:
    """A patient the hospital's registry registers, with a birth date on record."""
    registrar = await world.stack.actor("registrar", world.hospital)
    body = {"full_name": NAMED["patient_name"], "birth_date": NAMED["patient_birth_date"],
            "sex": "female"}  # fmt: skip
    response = await world.client.post(
        "/api/directory/patients", json=body, headers=registrar.headers
    )
    assert response.status_code == 201, response.text
    patient: dict[str, Any] = response.json()
    return patient


def named(appointment: dict[str, Any]) -> dict[str, Any]:
    return {name: appointment[name] for name in NAMED}


async def test_the_specialist_sees_whom_the_booking_named(world: World) -> None:
    patient = await _registered(world)
    hidden = await world.client.get(
        f"/api/directory/users/{patient['id']}", headers=world.cardiologist.headers
    )
    assert hidden.status_code == 404  # the directory does not show them the patient

    first = await world.booked(local(TUESDAY, "10:00"), patient_id=patient["id"])
    assert named(first) == NAMED
    seen = await world.get(world.cardiologist, f"/appointments/{first['id']}")
    assert named(seen.json()) == NAMED
    listed = await world.get(world.cardiologist, "/appointments")
    assert [named(item) for item in listed.json()["items"]] == [NAMED]

    # The specialist books the follow-up in the episode: no look-up, the episode's name.
    await world.fulfil_first_visit_of(first)
    remote = {"visit_type": "remote", "episode_id": first["episode_id"], "patient_id": None}
    follow_up = await world.booked(local(NEXT_TUESDAY, "10:00"), world.cardiologist, **remote)
    assert named(follow_up) == NAMED
    moved = await world.client.post(
        f"{SCHEDULING}/appointments/{follow_up['id']}/reschedule",
        json={"start": local(NEXT_TUESDAY, "11:00")},
        headers=world.cardiologist.headers,
    )
    assert moved.status_code == 201, moved.text
    assert named(moved.json()) == NAMED

    fhir = await world.client.get(
        f"/api/fhir/Appointment/{follow_up['id']}", headers=world.cardiologist.headers
    )
    assert fhir.status_code == 200, fhir.text
    actor = fhir.json()["participant"][0]["actor"]
    assert actor == {"reference": f"Patient/{patient['id']}", "display": NAMED["patient_name"]}


async def test_an_episode_opened_first_names_its_visits(world: World) -> None:
    """A patient without a registration record has a name in the directory, no birth date."""
    opened = await world.client.post(
        f"{SCHEDULING}/episodes",
        json={"patient_id": str(world.patient.id), "specialty": "cardiology"},
        headers=world.medic.headers,
    )
    assert opened.status_code == 201, opened.text
    user = await world.client.get(
        f"/api/directory/users/{world.patient.id}", headers=world.medic.headers
    )
    visit = await world.booked(local(TUESDAY, "10:00"), world.medic, episode_id=opened.json()["id"])
    assert named(visit) == {"patient_name": user.json()["full_name"], "patient_birth_date": None}
    # A consultation between doctors with no patient named has no one to keep.
    between_doctors = await world.booked(
        local(TUESDAY, "11:00"), world.medic, visit_type="doctor_to_doctor", patient_id=None
    )
    assert named(between_doctors) == {"patient_name": None, "patient_birth_date": None}
