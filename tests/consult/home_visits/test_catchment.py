"""The catchment: who edits it, and which polyclinic serves an address, the most specific line
first; the preview says so with the day and window before anything is saved."""

from tests.consult.home_visits.conftest import KHABAROVSK, TASHTAGOL, Calls
from tests.scheduling.conftest import assert_problem


async def test_the_most_specific_line_serves_the_address(calls: Calls) -> None:
    async def serving(**address: str) -> str | None:
        response = await calls.get(calls.operator, "/home-visit-preview", **address)
        assert response.status_code == 200, response.text
        organization_id: str | None = response.json()["organization_id"]
        return organization_id

    tashtagol, sheregesh = calls.tashtagol["id"], calls.sheregesh["id"]
    assert await serving(territory=TASHTAGOL, settlement="Таштагол") == tashtagol
    assert await serving(territory=TASHTAGOL) == tashtagol
    # Typed as operators type it: case, spaces, and yo.
    assert await serving(territory=TASHTAGOL, settlement="  шерегеш ") == sheregesh
    # A street line takes its street of the settlement only.
    response = await calls.line(
        calls.operator,
        territory=TASHTAGOL,
        settlement="Таштагол",
        street="ул. Ёлочная",
        organization_id=sheregesh,
    )
    assert response.status_code == 201, response.text
    assert await serving(territory=TASHTAGOL, settlement="таштагол", street="ул. елочная") == (
        sheregesh
    )
    assert await serving(territory=TASHTAGOL, settlement="Таштагол", street="ул. Ленина") == (
        tashtagol
    )
    # Another region's territory is not on this region's catchment.
    preview = (await calls.get(calls.operator, "/home-visit-preview", territory=KHABAROVSK)).json()
    assert preview == {
        "organization_id": None,
        "organization_name": None,
        "catchment_id": None,
        "window": None,
    }
    lines = (await calls.get(calls.registrar, "/home-visit-catchment")).json()
    assert [(line["settlement"], line["street"]) for line in lines] == [
        ("", ""),
        ("Таштагол", "ул. Ёлочная"),
        ("Шерегеш", ""),
    ]


async def test_who_edits_the_catchment_and_what_it_takes(calls: Calls) -> None:
    line = {"territory": "32620000", "organization_id": calls.tashtagol["id"]}
    # Registrars, doctors and another region's coordinators do not draw it.
    for actor in (calls.registrar, calls.nurse, calls.far_operator):
        assert_problem(await calls.line(actor, **line), 403)
    # An insurer sends no doctors; another region's polyclinic; a street needs its settlement.
    insurer = line | {"organization_id": calls.insurer["id"]}
    assert_problem(await calls.line(calls.operator, **insurer), 422)
    far = line | {"organization_id": calls.khabarovsk["id"]}
    assert_problem(await calls.line(calls.operator, **far), 422)
    assert_problem(await calls.line(calls.operator, **line, street="ул. Мира"), 422)
    # One line per address.
    again = {"territory": TASHTAGOL, "organization_id": calls.sheregesh["id"]}
    assert_problem(await calls.line(calls.coordinator, **again), 409)
    created = await calls.line(calls.coordinator, **line)
    assert created.status_code == 201, created.text
    path = f"/api/consult/home-visit-catchment/{created.json()['id']}"
    refused = await calls.client.delete(path, headers=calls.registrar.headers)
    assert_problem(refused, 403)
    deleted = await calls.client.delete(path, headers=calls.operator.headers)
    assert deleted.status_code == 204
    assert_problem(await calls.client.delete(path, headers=calls.operator.headers), 404)
