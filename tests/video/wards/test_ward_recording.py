"""Ward video is recorded only where the ward allows it and the bed's patient consented, and
stops by itself when either ends; the file is stored as the doctor's who started it."""

import uuid

from tests.video.peers import until
from tests.video.wards.conftest import WARDS, WardWorld
from tests.video.wards.test_ward_media import audit_actions

CONSENTING = {"label": "Bed 1", "patient_ref": "IB 1", "recording_consent": True}


async def test_only_an_allowed_consented_bed_is_recorded_and_stored(ward: WardWorld) -> None:
    forbidding = await ward.ward(CONSENTING)
    await ward.bedside(forbidding, forbidding["beds"][0])
    path = f"{WARDS}/{forbidding['id']}/beds/{forbidding['beds'][0]['id']}/recording"
    refused = await ward.client.post(path, headers=ward.intensivist.headers)
    assert refused.status_code == 409
    assert refused.json()["detail"] == "The ward does not allow recording."

    icu = await ward.ward(CONSENTING | {"recording_consent": False}, recording_allowed=True)
    (bed,) = icu["beds"]
    await ward.bedside(icu, bed)
    path = f"{WARDS}/{icu['id']}/beds/{bed['id']}/recording"
    refused = await ward.client.post(path, headers=ward.intensivist.headers)
    assert refused.json()["detail"] == "The bed's patient has not consented to recording."
    consent = await ward.client.patch(
        f"{WARDS}/{icu['id']}/beds/{bed['id']}",
        json={"recording_consent": True},
        headers=ward.coordinator.headers,
    )
    assert consent.status_code == 200, consent.text
    await until(lambda: ward.wards.rosters[uuid.UUID(icu["id"])].beds[0].recording_consent)
    await until(lambda: ward.wards.last_frame_at(uuid.UUID(bed["id"])) is not None)

    started = await ward.client.post(path, headers=ward.intensivist.headers)
    assert started.status_code == 201, started.text
    monitor = ward.video.stack.apps["video"].state.ward_monitor
    await until(lambda: monitor.recordings.active[uuid.UUID(bed["id"])].fed > 10)
    assert (await ward.read(icu["id"], ward.intensivist))["beds"][0]["live"]["recording"]
    stopped = await ward.client.delete(path, headers=ward.intensivist.headers)
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["frames"] > 10
    file = await ward.client.get(
        f"/api/files/files/{stopped.json()['file_id']}", headers=ward.intensivist.headers
    )
    assert file.status_code == 200, file.text
    actions = [action for action, _ in await audit_actions(ward)]
    assert actions.count("bed.recording.start") == 3  # the two refusals are on record too
    assert "bed.recording.stop" in actions


async def test_withdrawn_consent_stops_the_recording(ward: WardWorld) -> None:
    icu = await ward.ward(CONSENTING, recording_allowed=True)
    (bed,) = icu["beds"]
    await ward.bedside(icu, bed)
    path = f"{WARDS}/{icu['id']}/beds/{bed['id']}/recording"
    monitor = ward.video.stack.apps["video"].state.ward_monitor
    await until(lambda: ward.wards.last_frame_at(uuid.UUID(bed["id"])) is not None)
    started = await ward.client.post(path, headers=ward.intensivist.headers)
    assert started.status_code == 201, started.text
    await until(lambda: monitor.recordings.active[uuid.UUID(bed["id"])].fed > 5)
    withdrawn = await ward.client.patch(
        f"{WARDS}/{icu['id']}/beds/{bed['id']}",
        json={"recording_consent": False},
        headers=ward.coordinator.headers,
    )
    assert withdrawn.status_code == 200
    await until(lambda: not monitor.recordings.active)
    details = [
        detail for action, detail in await audit_actions(ward) if action == "bed.recording.stop"
    ]
    assert details == ["reason=no longer allowed (ward or patient's consent)"]
