"""Who sees and manages a ward: the hospital's coordinators manage it, the organisations its
agreement names watch it, anyone else gets the same 404 as for no ward, on the audit trail."""

from typing import Any

import httpx
from sqlalchemy import func, select

from services.common.db import Database
from services.video.models import KERNEL_TABLES
from tests.video.wards.conftest import WARDS, WardWorld

TABLET = {"label": "Bed 1", "patient_ref": "IB 2026/1142"}


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


async def denials(world: WardWorld, action: str) -> int:
    database: Database = world.video.stack.apps["video"].state.database
    records = KERNEL_TABLES.audit.records
    query = select(func.count()).where(records.c.action == action, records.c.outcome == "denied")
    async with database.sessionmaker() as session:
        return await session.scalar(query) or 0


async def test_the_watching_centre_sees_the_ward_and_strangers_do_not(ward: WardWorld) -> None:
    icu = await ward.ward(TABLET)
    seen = await ward.read(icu["id"], ward.intensivist)
    assert [bed["label"] for bed in seen["beds"]] == ["Bed 1"]
    assert seen["may_manage"] is False
    assert (await ward.read(icu["id"]))["may_manage"] is True
    listed = await ward.client.get(WARDS, headers=ward.intensivist.headers)
    assert [w["id"] for w in listed.json()] == [icu["id"]]

    stack = ward.video.stack
    patient = await stack.actor("patient", ward.hospital)
    for stranger in (ward.stranger, patient):
        problem(await ward.client.get(f"{WARDS}/{icu['id']}", headers=stranger.headers), 404)
        token = await ward.client.post(f"{WARDS}/{icu['id']}/watch-token", headers=stranger.headers)
        problem(token, 404)
        assert (await ward.client.get(WARDS, headers=stranger.headers)).json() == []
    assert await denials(ward, "ward.read") == 2
    assert await denials(ward, "ward.watch_token") == 2
    # Watching is not managing: the centre's doctor changes nothing.
    change = await ward.client.patch(
        f"{WARDS}/{icu['id']}", json={"name": "Mine"}, headers=ward.intensivist.headers
    )
    problem(change, 403)
    # Ending the agreement ends the watching.
    ended = await ward.client.patch(
        f"{WARDS}/{icu['id']}", json={"watcher_ids": []}, headers=ward.coordinator.headers
    )
    assert ended.status_code == 200, ended.text
    problem(await ward.client.get(f"{WARDS}/{icu['id']}", headers=ward.intensivist.headers), 404)


async def test_bad_ward_and_bed_input_is_refused_and_changes_nothing(ward: WardWorld) -> None:
    unknown = {"name": "ICU", "watcher_ids": ["3b1f0c4e-8a39-4c57-9d0c-6b1f8e1d2a11"]}
    refused = await ward.client.post(WARDS, json=unknown, headers=ward.coordinator.headers)
    assert problem(refused, 422)["field"] == "watcher_ids"
    problem(
        await ward.client.post(WARDS, json={"name": "ICU"}, headers=ward.intensivist.headers), 403
    )
    assert (await ward.client.get(WARDS, headers=ward.coordinator.headers)).json() == []

    icu = await ward.ward(TABLET)
    beds = f"{WARDS}/{icu['id']}/beds"
    problem(await ward.client.post(beds, json=TABLET, headers=ward.coordinator.headers), 409)
    camera = {"label": "Bed 2", "source": "rtsp"}
    problem(await ward.client.post(beds, json=camera, headers=ward.coordinator.headers), 422)
    bad_url = camera | {"rtsp_url": "http://camera/stream"}
    problem(await ward.client.post(beds, json=bad_url, headers=ward.coordinator.headers), 422)
    assert len((await ward.read(icu["id"]))["beds"]) == 1


async def test_a_new_patient_starts_without_consent_and_the_camera_url_is_never_shown(
    ward: WardWorld,
) -> None:
    camera = {
        "label": "Bed 2",
        "source": "rtsp",
        "rtsp_url": "rtsp://icu:secret@10.0.0.31/stream",
        "patient_ref": "IB 1",
        "recording_consent": True,
    }
    icu = await ward.ward(camera)
    (bed,) = icu["beds"]
    assert bed["recording_consent"] is True
    assert bed["rtsp_configured"] is True
    assert "secret" not in str(icu)
    path = f"{WARDS}/{icu['id']}/beds/{bed['id']}"
    moved = await ward.client.patch(
        path, json={"patient_ref": "IB 2"}, headers=ward.coordinator.headers
    )
    assert moved.json()["recording_consent"] is False
    emptied = await ward.client.patch(
        path, json={"patient_ref": None}, headers=ward.coordinator.headers
    )
    assert emptied.json()["occupied"] is False
    consent = await ward.client.patch(
        path, json={"recording_consent": True}, headers=ward.coordinator.headers
    )
    problem(consent, 409)


async def test_a_device_credential_works_once_issued_and_not_after_revoking(
    ward: WardWorld,
) -> None:
    icu = await ward.ward(TABLET)
    (bed,) = icu["beds"]
    issued = await ward.client.post(
        f"{WARDS}/{icu['id']}/beds/{bed['id']}/device", headers=ward.coordinator.headers
    )
    body = issued.json()
    assert body["bedside_url"].endswith(
        f"/bedside#ward={icu['id']}&bed={bed['id']}&key={body['credential']}"
    )
    events = f"{WARDS}/{icu['id']}/beds/{bed['id']}/events"
    wrong = {"Authorization": "Bearer tmbed_not-the-key"}
    problem(await ward.client.get(events, headers=wrong), 401)
    revoked = await ward.client.delete(
        f"{WARDS}/{icu['id']}/beds/{bed['id']}/device", headers=ward.coordinator.headers
    )
    assert revoked.status_code == 204
    old = {"Authorization": f"Bearer {body['credential']}"}
    problem(await ward.client.get(events, headers=old), 401)
