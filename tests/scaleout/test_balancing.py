"""The gateway spreads requests over both instances of each service, and when one stops it
sends everything, requests with bodies included, to the other."""

from tests.consult.conftest import World
from tests.scaleout.conftest import ScaledStack

ROUNDS = 4


async def test_requests_are_spread_over_both_instances_of_each_service(
    scaled: ScaledStack, consult_world: World
) -> None:
    medic = consult_world.medic.headers
    calls = {
        "consult": ("GET", "/api/consult/cases", "/api/consult/cases", 200),
        "scheduling": ("GET", "/api/scheduling/appointments", "/api/scheduling/appointments",
                       200),
        "files": ("GET", f"/api/files/files/{consult_world.centre['id']}",
                  "/api/files/files/{file_id}", 404),
        "video": ("GET", "/join/not-a-token", "/join/{token}", 404),  # the page: any instance
    }  # fmt: skip
    for service, (method, path, route, status) in calls.items():
        before = await scaled.served(service, method, route)
        for _ in range(ROUNDS):
            response = await scaled.client.request(method, path, headers=medic)
            assert response.status_code == status, response.text
        after = await scaled.served(service, method, route)
        added = [now - then for now, then in zip(after, before, strict=True)]
        assert sum(added) == ROUNDS, service
        assert min(added) >= 1, f"{service}: one instance got nothing ({added})"


async def test_a_stopped_instance_rests_and_the_other_takes_every_request(
    scaled: ScaledStack, consult_world: World
) -> None:
    stopped, running = scaled.instances["consult"]
    await stopped.stop()
    # Two creations in a row: whichever of them is sent to the stopped instance first is
    # refused at connect, before any of its body went out, and goes to the other instance.
    created = [await consult_world.create() for _ in range(2)]
    assert created[0]["id"] != created[1]["id"]
    for _ in range(ROUNDS):
        listed = await scaled.client.get("/api/consult/cases", headers=consult_world.medic.headers)
        assert listed.status_code == 200
        assert {case["id"] for case in created} <= {case["id"] for case in listed.json()["items"]}
    assert await running.served("POST", "/api/consult/cases", 201) == 2
    assert await running.served("GET", "/api/consult/cases", 200) == ROUNDS
    assert scaled.gateway.state.upstreams.balancer.resting() == {stopped.url}

    # The gateway stays ready (its own database); the lost instance shows among its upstreams.
    assert (await scaled.client.get("/ready")).status_code == 200
    upstreams = await scaled.client.get("/ready/upstreams")
    assert upstreams.status_code == 503
    assert upstreams.json()["services"]["consult"] == {stopped.url: "Unreachable",
                                                       running.url: "ready"}  # fmt: skip
    assert upstreams.json()["resting"] == [stopped.url]
