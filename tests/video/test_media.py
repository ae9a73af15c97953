"""Peers join rooms through the real HTTP API and receive each other's decoded video."""

import uuid

from tests.video.conftest import VideoWorld
from tests.video.peers import EventLog, Peer, until

DOCTOR, PATIENT, INTERPRETER = (320, 240), (256, 192), (192, 144)


async def move(video: VideoWorld, host: Peer, who: Peer, action: str) -> None:
    response = await video.http.post(
        f"/api/video/rooms/{host.room_id}/participants/{who.participant_id}/{action}",
        headers=host.headers,
    )
    assert response.status_code == 200, response.text


async def test_two_peers_exchange_video_after_admit(video: VideoWorld) -> None:
    room = await video.room()
    doctor = video.peer(room, await video.token(room), DOCTOR)
    patient = video.peer(room, await video.patient_token(room), PATIENT)
    try:
        assert (await doctor.join()).status_code == 201
        assert doctor.state == "admitted"
        assert (await patient.join()).status_code == 201
        assert patient.state == "waiting"
        assert video.live.hub.peer_connections == 2
        await move(video, doctor, patient, "admit")
        await until(lambda: doctor.got(PATIENT) and patient.got(DOCTOR))
        # Back to the waiting room: the patient's media stops reaching the doctor.
        await move(video, doctor, patient, "return-to-waiting")
        await until(
            lambda: (
                not any(
                    s.publisher
                    for s in video.live.hub.sessions[uuid.UUID(doctor.participant_id)].slots
                )
            )
        )
    finally:
        await doctor.close()
        await patient.close()


async def test_three_peers_then_leave_and_remove(video: VideoWorld) -> None:
    room = await video.room()
    doctor = video.peer(room, await video.token(room), DOCTOR)
    patient = video.peer(room, await video.patient_token(room), PATIENT)
    guest = video.peer(room, await video.token(room, identity="interpreter-1", role="guest"),
                       INTERPRETER)  # fmt: skip
    log = EventLog()
    try:
        await doctor.join()
        log.start(video.http, room["id"], doctor.token)
        for peer in (patient, guest):
            assert (await peer.join()).status_code == 201
            await move(video, doctor, peer, "admit")
        await until(lambda: doctor.got(PATIENT) and doctor.got(INTERPRETER)
                    and patient.got(DOCTOR) and patient.got(INTERPRETER)
                    and guest.got(DOCTOR) and guest.got(PATIENT), within=25)  # fmt: skip
        assert video.live.hub.peer_connections == 3

        assert (await guest.leave()).status_code == 204
        await until(lambda: log.seen("participant.left", participant_id=guest.participant_id))
        assert video.live.hub.peer_connections == 2

        await move(video, doctor, patient, "remove")
        await until(lambda: log.seen("participant.removed", participant_id=patient.participant_id))
        assert video.live.hub.peer_connections == 1
        before = patient.received[DOCTOR]
        await until(lambda: patient.pc.connectionState in ("closed", "failed")
                    or patient.received[DOCTOR] == before, within=5)  # fmt: skip
        # A removed participant cannot come back with the same, still valid token.
        again = Peer(video.http, room["id"], patient.token, PATIENT)
        response = await again.join()
        await again.close()
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
    finally:
        await log.stop()
        for peer in (doctor, patient, guest):
            await peer.close()


async def test_a_vanished_peer_is_dropped_within_the_heartbeat_timeout(video: VideoWorld) -> None:
    room = await video.room()
    doctor = video.peer(room, await video.token(room), DOCTOR)
    patient = video.peer(room, await video.patient_token(room), PATIENT)
    log = EventLog()
    try:
        await doctor.join()
        log.start(video.http, room["id"], doctor.token)
        await patient.join()
        await until(
            lambda: video.live.hub.sessions[uuid.UUID(patient.participant_id)].last_seen is not None
        )
        patient.beating = False  # the phone lost its network: nothing more arrives
        await until(lambda: log.seen("participant.left", participant_id=patient.participant_id),
                    within=video.live.settings.heartbeat_timeout + 3)  # fmt: skip
        assert video.live.hub.peer_connections == 1
    finally:
        await log.stop()
        await doctor.close()
        await patient.close()
