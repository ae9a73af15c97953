"""A call centre books for the patients of the organisations it serves: the visit is the
patient's organisation's (its requesting organisation), recorded as booked by the call
centre's registrar, who then sees and manages it; the patients of organisations it does not
serve stay out of its reach, and it does nothing a practitioner or a room's owner does."""

from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import Actor
from tests.scheduling.conftest import (
    DISTRICT_ZONE,
    SCHEDULING,
    World,
    assert_problem,
    local,
)

TUESDAY, WEDNESDAY = "2025-10-21", "2025-10-22"


@dataclass
class Served:
    world: World
    centre: dict[str, Any]  # a call centre of another region, serving the world's hospital
    registrar: Actor
    operator: Actor  # its coordinator
    outside: dict[str, Any]  # a hospital it does not serve
    outside_patient: Actor
    outside_medic: Actor


@pytest.fixture
async def served(world: World) -> Served:
    stack = world.stack
    centre = await stack.call_centre(world.hospital, region="54", timezone="Asia/Omsk")
    outside = await stack.organization(kind="district_hospital", timezone=DISTRICT_ZONE)
    return Served(
        world=world,
        centre=centre,
        registrar=await stack.actor("registrar", centre),
        operator=await stack.actor("coordinator", centre),
        outside=outside,
        outside_patient=await stack.actor("patient", outside),
        outside_medic=await stack.actor("district_medic", outside),
    )


async def test_a_registrar_books_for_a_served_organisations_patient(served: Served) -> None:
    world = served.world
    visit = await world.booked(local(TUESDAY, "10:00"), served.registrar)
    # The patient's organisation asks for the visit; the call centre's registrar booked it.
    assert visit["requesting_organization_id"] == world.hospital["id"]
    assert visit["booked_by"] == str(served.registrar.id)
    episode = (await world.get(served.registrar, f"/episodes/{visit['episode_id']}")).json()
    assert episode["requesting_organization_id"] == world.hospital["id"]
    assert episode["patient_timezone"] == DISTRICT_ZONE  # the hospital's, not the centre's
    # The hospital's own medic and the patient see it as theirs; the call centre lists it.
    for actor in (world.medic, world.patient, served.registrar, served.operator):
        seen = await world.get(actor, f"/appointments/{visit['id']}")
        assert seen.status_code == 200, actor.role
    listed = await world.get(served.registrar, "/appointments")
    assert [item["id"] for item in listed.json()["items"]] == [visit["id"]]


async def test_the_call_centre_manages_the_visits_it_may_see(served: Served) -> None:
    world = served.world
    held = await world.booked(local(TUESDAY, "10:00"), served.operator, hold=True)
    confirmed = await world.act(served.registrar, held["id"], "confirm")
    assert confirmed.json()["status"] == "booked", confirmed.text
    # A visit the hospital's medic booked is the call centre's to move and call off too.
    own = await world.booked(local(TUESDAY, "11:00"), world.medic)
    moved = await world.client.post(
        f"{SCHEDULING}/appointments/{own['id']}/reschedule",
        json={"start": local(WEDNESDAY, "11:00"), "reason": "The caller asked"},
        headers=served.registrar.headers,
    )
    assert moved.status_code == 201, moved.text
    assert moved.json()["booked_by"] == str(served.registrar.id)
    assert moved.json()["requesting_organization_id"] == world.hospital["id"]
    cancelled = await world.act(served.registrar, moved.json()["id"], "cancel", {})
    assert cancelled.json()["status"] == "cancelled"
    # What the practitioner does is not the call centre's.
    assert_problem(await world.act(served.registrar, held["id"], "arrive"), 403)
    assert_problem(await world.act(served.operator, held["id"], "fulfil"), 403)


async def test_follow_ups_in_the_episode_are_the_call_centres_to_book(served: Served) -> None:
    world = served.world
    first = await world.booked(local(TUESDAY, "10:00"), served.registrar)
    await world.fulfil_first_visit_of(first)
    remote = await world.book(
        local(WEDNESDAY, "10:00"),
        served.registrar,
        visit_type="remote",
        episode_id=first["episode_id"],
        patient_id=None,
    )
    assert remote.status_code == 201, remote.text
    opened = await world.client.post(
        f"{SCHEDULING}/episodes",
        json={"patient_id": str(world.other_patient.id), "specialty": "cardiology"},
        headers=served.operator.headers,
    )
    assert opened.status_code == 201, opened.text
    assert opened.json()["requesting_organization_id"] == world.hospital["id"]


async def test_patients_of_organisations_not_served_are_out_of_reach(served: Served) -> None:
    world = served.world
    outsider = str(served.outside_patient.id)
    refused = await world.book(local(TUESDAY, "10:00"), served.registrar, patient_id=outsider)
    problem = assert_problem(refused, 422)
    assert problem["errors"][0]["loc"] == ["body", "patient_id"]
    episode = await world.client.post(
        f"{SCHEDULING}/episodes",
        json={"patient_id": outsider, "specialty": "cardiology"},
        headers=served.registrar.headers,
    )
    assert_problem(episode, 422)
    # Their visits, booked by their own hospital, are neither seen nor touched.
    theirs = await world.booked(local(TUESDAY, "11:00"), served.outside_medic, patient_id=outsider)
    for actor in (served.registrar, served.operator):
        assert_problem(await world.get(actor, f"/appointments/{theirs['id']}"), 404)
        assert_problem(await world.act(actor, theirs["id"], "cancel", {}), 404)
        assert_problem(await world.get(actor, f"/episodes/{theirs['episode_id']}"), 404)
        listed = await world.get(actor, "/appointments")
        assert listed.json()["items"] == []
