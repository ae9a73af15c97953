"""The typed client other services use, through the real gateway, as the caller."""

import uuid
from datetime import datetime

import httpx
import pytest

from services.common.errors import BadGateway, NotFound
from services.scheduling.client import SchedulingClient
from services.scheduling.enums import VisitType
from tests.scheduling.conftest import World, local


def client_for(world: World) -> SchedulingClient:
    http = httpx.AsyncClient(transport=world.stack.transport, base_url="http://gateway")
    return SchedulingClient(http)


async def test_reads_as_the_caller_and_maps_refusals(world: World) -> None:
    visit = await world.booked(local("2025-10-21", "10:00"))
    scheduling = client_for(world)
    token = world.patient.access_token
    fetched = await scheduling.get_appointment(uuid.UUID(visit["id"]), token)
    assert fetched.status == "booked"
    assert fetched.local.timezone == "Asia/Novosibirsk"
    assert fetched.episode_id is not None
    episode = await scheduling.get_episode(fetched.episode_id, token)
    assert [item.id for item in episode.appointments] == [fetched.id]
    page = await scheduling.list_appointments(token, episode_id=fetched.episode_id)
    assert [item.id for item in page.items] == [fetched.id]
    free = await scheduling.availability(
        world.medic.access_token,
        visit_type=VisitType.IN_PERSON,
        start=datetime.fromisoformat(local("2025-10-21", "09:00")),
        end=datetime.fromisoformat(local("2025-10-21", "12:00")),
        practitioner_id=world.cardiologist.id,
    )
    assert free.slots[0].local.start.isoformat() == "2025-10-21T09:00:00+07:00"
    assert all(slot.start >= fetched.end or slot.end <= fetched.start for slot in free.slots)
    with pytest.raises(NotFound):
        await scheduling.get_appointment(fetched.id, world.other_patient.access_token)


async def test_an_unreachable_service_is_a_bad_gateway() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(refuse), base_url="http://gateway")
    with pytest.raises(BadGateway):
        await SchedulingClient(http).get_appointment(uuid.uuid4(), "token")
