"""The typed client other services use, against the real consult app."""

import uuid

import httpx
import pytest

from services.common.errors import BadGateway, Forbidden, NotFound
from services.consult.client import ConsultClient
from tests.consult.conftest import CONSULT, World


def client_for(world: World) -> ConsultClient:
    http = httpx.AsyncClient(transport=world.stack.transport, base_url="http://consult")
    return ConsultClient(http)


async def test_reads_cases_and_conclusions_as_the_caller(world: World) -> None:
    case = await world.in_progress()
    await world.stack.client.post(
        f"{CONSULT}/cases/{case['id']}/conclusions",
        json={
            "content": {
                "findings": "NSTEMI.",
                "diagnosis_text": "NSTEMI",
                "diagnosis_codes": ["I21.4"],
                "recommendations": "Transfer.",
            }
        },
        headers=world.cardiologist.headers,
    )
    consult = client_for(world)
    token = world.medic.access_token
    fetched = await consult.get_case(uuid.UUID(case["id"]), token)
    assert fetched.status == "concluded"
    assert fetched.patient.full_name == "Petrov Ivan Sergeevich"
    conclusion = await consult.get_conclusion(fetched.id, 1, token)
    assert conclusion.signature_valid
    assert [c.version for c in await consult.list_conclusions(fetched.id, token)] == [1]


async def test_maps_refusals_to_the_kernel_errors(world: World) -> None:
    case = await world.create(submit=True)
    consult = client_for(world)
    with pytest.raises(NotFound):
        await consult.get_case(uuid.UUID(case["id"]), world.other_medic.access_token)
    with pytest.raises(Forbidden):
        await consult.get_case(uuid.UUID(case["id"]), world.clients["write"].access_token)


async def test_an_unreachable_service_is_a_bad_gateway() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(refuse), base_url="http://consult")
    with pytest.raises(BadGateway):
        await ConsultClient(http).get_case(uuid.uuid4(), "token")
