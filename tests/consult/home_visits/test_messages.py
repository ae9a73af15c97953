"""A home visit's call is an outbox event with its day and window, and nothing that names the
caller; notify turns it into a message to a registered patient, whose SMS says the window in
the polyclinic's zone, in Russian and in English."""

from typing import Any

from sqlalchemy import select

from gateway.notify.enums import Channel, Template
from gateway.notify.templates import render
from services.consult.db import OUTBOX
from tests.consult.home_visits.conftest import Calls
from tests.notify.producing import (
    messages,
    producers_stack,  # noqa: F401 - the `stack` fixture
    relay_once,
)


async def events(calls: Calls) -> list[dict[str, Any]]:
    table = OUTBOX.table
    async with calls.database.sessionmaker() as session:
        query = select(table.c.resource_type, table.c.resource_id, table.c.data).where(
            table.c.type == "home_visit.requested"
        )
        rows = (await session.execute(query.order_by(table.c.seq))).all()
    return [{"resource": {"type": row[0], "id": str(row[1])}, "data": row[2]} for row in rows]


async def test_the_call_is_an_event_and_the_patient_is_texted_the_window(calls: Calls) -> None:
    told = await calls.call(patient_id=str(calls.patient.id))
    await calls.call()  # a caller with no account heard the window on the phone only
    found = await events(calls)
    assert len(found) == 2
    data = found[0]["data"]
    assert data["organization_id"] == calls.tashtagol["id"]
    assert (data["visit_day"], data["timezone"]) == ("2025-10-20", "Asia/Novokuznetsk")
    assert data["patient_id"] == str(calls.patient.id)
    assert found[0]["resource"] == {"type": "home_visit", "id": told["id"]}
    text = str(found)
    for private in ("Ковалёва", "+7 913", "Ленина", "Blood draw"):
        assert private not in text
    assert await relay_once(calls.stack, "consult") >= 2
    queued = await messages(calls.stack)
    assert [(message.recipient_id, message.template) for message in queued] == [
        (calls.patient.id, Template.VISIT_HOME)
    ]
    params = queued[0].params
    assert params == {
        "start": "2025-10-20T05:00:00Z",
        "end": "2025-10-20T11:00:00Z",
        "timezone": "Asia/Novokuznetsk",
        "organization_name": calls.tashtagol["name"],
    }
    russian = render(Template.VISIT_HOME, Channel.SMS, "ru", params).text
    assert russian == (
        "Вызов врача на дом принят: 20.10 в 12:00\N{EN DASH}18:00 (UTC+7), "
        + calls.tashtagol["name"]
    )
    english = render(Template.VISIT_HOME, Channel.SMS, "en", params).text
    assert english == f"Home visit booked: 20 Oct at 12:00-18:00 (UTC+7), {calls.tashtagol['name']}"
