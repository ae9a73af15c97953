"""A NUL character (U+0000) in a request's text is bad input, the same 422 problem on SQLite and
on PostgreSQL (which cannot store one, and answered 500), whichever route and field it is in."""

from typing import Any

from telemed.samples import sample_case
from tests.conftest import Actor, Stack
from tests.webhooks.receiver import manager

NUL = "\x00"


async def test_a_nul_character_is_bad_input_wherever_it_is_sent(stack: Stack) -> None:
    assert stack.admin is not None
    centre = await stack.organization(kind="regional_centre")
    hospital = await stack.organization()
    medic = await stack.actor("district_medic", hospital)
    hooks = await manager(stack, hospital)
    requests: list[tuple[Actor, str, str, dict[str, Any]]] = [
        (stack.admin, "POST", "/api/directory/organizations",
         {"json": {"name": f"Clinic{NUL}", "kind": "polyclinic", "region": "42",
                   "timezone": "Asia/Novokuznetsk"}}),
        (medic, "POST", "/api/consult/cases",
         {"json": sample_case(centre["id"], question=f"Is transfer{NUL} indicated?")}),
        (hooks, "GET", "/api/webhooks/deliveries", {"params": {"event_type": f"case{NUL}"}}),
        (stack.admin, "GET", "/api/directory/users", {"params": {"specialty": f"card{NUL}"}}),
    ]  # fmt: skip
    answers = []
    for actor, method, path, arguments in requests:
        response = await stack.client.request(method, path, headers=actor.headers, **arguments)
        answers.append((method, path, response.status_code, response.text[:400]))
    assert [answer for answer in answers if answer[2] != 422] == []
    assert all("U+0000" in answer[3] or "null character" in answer[3] for answer in answers)
