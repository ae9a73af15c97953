"""The demo's story, step by step: each step calls the API as its user would and says what
happened, with the ids and figures that show it worked."""

import hashlib
import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from services.common.grants import GRANT_HEADER
from telemed.demo.api import Actor, StepFailed
from telemed.demo.files import (
    MIB,
    chest_xray_dicom,
    lab_report_pdf,
    speed,
    upload_resumably,
    upload_whole,
)
from telemed.demo.mail import wait_for_invitation
from telemed.demo.runner import Step, Story
from telemed.demo.video import hold_visit, join_token_of, room_id_of
from telemed.demo.visits import IN_PERSON_MINUTES, Visits, local, parse
from telemed.demo.webhooks import EVENT_TYPES, Webhooks

CONSULT = "/api/consult"
MEDIC, CARDIOLOGIST, PATIENT, ADMIN = (
    "medic.tashtagol", "cardiologist.kuzbass", "patient.petrov", "admin",
)  # fmt: skip
# Events the story causes that the regional centre's subscription receives, at the least.
EXPECTED_EVENTS = ["case.submitted", "case.accepted", "case.concluded", "appointment.booked"]
WEBHOOKS_WITHIN_SECONDS = 30.0
MAIL_WITHIN_SECONDS = 30.0


async def system_up(story: Story) -> None:
    """The gateway answers, and so does every service behind it (`/ready/upstreams`; a gateway
    without that endpoint is taken at its own `/ready`)."""
    try:
        await story.api.client.get("/health")
    except httpx.HTTPError as exc:
        raise StepFailed(
            f"cannot reach the gateway at {story.api.client.base_url} ({type(exc).__name__}"
            f"{': ' + str(exc) if str(exc) else ''}); is the system running (`make run`)?"
        ) from exc
    await story.api.call("GET", "/ready")
    upstreams = await story.api.call("GET", "/ready/upstreams", expect=(200, 404))
    services = sorted(upstreams.json().get("services", {})) if upstreams.status_code == 200 else []
    await story.clock.set_from(story.api)
    story.say(f"gateway ready; services ready behind it: {', '.join(services) or 'not listed'}",
              services=services)  # fmt: skip


async def directory(story: Story) -> None:
    credentials, where = await story.credential_source()
    story.context.credentials = credentials
    story.say(where)
    for username in (ADMIN, MEDIC, CARDIOLOGIST, PATIENT):
        password = story.context.user(username)["password"]
        story.context.actors[username] = await story.api.login(username, password)
    actors = story.context.actors
    story.say(f"signed in: {', '.join(actors)}",
              users={name: str(actor.id) for name, actor in actors.items()})  # fmt: skip


def _centre(story: Story) -> str:
    return str(story.context.user(CARDIOLOGIST)["organization_id"])


async def webhook_receiver(story: Story) -> None:
    webhooks = Webhooks(story.api, story.context.actor(ADMIN))
    story.context.webhooks = webhooks
    subscription = await webhooks.subscribe(_centre(story))
    story.say("the admin registered an API client of the regional centre with webhooks:manage")
    story.say(
        f"it subscribed a receiver on {webhooks.receiver.url} to all {len(EVENT_TYPES)} event "
        f"types: subscription {subscription['id']}",
        subscription_id=subscription["id"], receiver=webhooks.receiver.url,
    )  # fmt: skip


def _case_body(centre_id: str) -> dict[str, Any]:
    return {
        "target_organization_id": centre_id,
        "specialty": "cardiology",
        "urgency": "urgent",
        "question": "Chest pain for 6 hours with a troponin rise: is transfer for PCI indicated?",
        "patient": {"reference": "MIS-42-000123", "full_name": "Petrov Sergei Nikolaevich",
                    "birth_date": "1961-04-12", "sex": "male",
                    "insurance_policy": "4250000000000123"},
        "summary": {"present_illness": "Chest pain for 6 hours, ST depression V4-V6.",
                    "main_diagnosis": {"code": "I21.4", "text": "Acute subendocardial MI"},
                    "vital_signs": {"systolic_bp": 150, "diastolic_bp": 95, "heart_rate": 98}},
    }  # fmt: skip


async def open_case(story: Story) -> None:
    case = await story.api.json(
        "POST", f"{CONSULT}/cases", story.context.actor(MEDIC), json=_case_body(_centre(story)),
        expect=201, headers={"Idempotency-Key": str(uuid.uuid4())},
    )  # fmt: skip
    story.context.case = case
    story.say(f"{MEDIC} opened case {case['id']}: urgent, cardiology, a {case['status']} for now",
              case_id=case["id"])  # fmt: skip


async def lab_pdf(story: Story) -> None:
    data = lab_report_pdf()
    stored, seconds = await upload_whole(
        story.api, story.context.actor(MEDIC), data, name="Troponin and CK-MB.pdf",
        kind="lab_result",
    )  # fmt: skip
    story.context.files.append(stored)
    story.say(
        f"{stored['display_name']!r}: {stored['size']} bytes in one request, "
        f"{seconds * 1000:.0f} ms; stored as {stored['media_type']}, file {stored['id']}",
        file_id=stored["id"], bytes=stored["size"], seconds=round(seconds, 3),
    )  # fmt: skip


async def dicom_by_tus(story: Story) -> None:
    data = chest_xray_dicom()
    sent = await upload_resumably(
        story.api, story.context.actor(MEDIC), data, name="Chest X-ray PA.dcm", kind="imaging",
    )  # fmt: skip
    stored, dicom, rest = sent.file, sent.file.get("dicom") or {}, len(data) - sent.kept
    story.context.files.append(stored)
    story.say(f"{len(data) / MIB:.1f} MiB over tus: {sent.first_patch / MIB:.1f} MiB in a first "
              f"PATCH, then the link dropped {sent.sent_before_drop / MIB:.1f} MiB in")  # fmt: skip
    story.say(
        f"resumed at byte {sent.kept} (what the server had kept): {rest / MIB:.1f} MiB more in "
        f"{sent.resume_seconds:.2f} s, {speed(rest, sent.resume_seconds)}, checksum verified",
        resumed_at=sent.kept, bytes=len(data), resume_seconds=round(sent.resume_seconds, 3),
    )  # fmt: skip
    story.say(
        f"stored as {stored['media_type']}: {dicom.get('modality')} "
        f"{dicom.get('body_part_examined')} {dicom.get('rows')}x{dicom.get('columns')}, "
        f"sha256 {stored['sha256'][:12]}…, file {stored['id']}",
        file_id=stored["id"], modality=dicom.get("modality"),
    )  # fmt: skip


async def submit_case(story: Story) -> None:
    medic = story.context.actor(MEDIC)
    path = f"{CONSULT}/cases/{story.context.case['id']}"
    attachments = [file["id"] for file in story.context.files]
    await story.api.call("PATCH", path, medic, json={"attachment_ids": attachments})
    case = await story.api.json("POST", f"{path}/submit", medic)
    story.context.case = case
    story.say(f"submitted with {len(case['attachments'])} attachments; due {case['due_at']}",
              due_at=case["due_at"], attachments=len(case["attachments"]))  # fmt: skip


async def take_case(story: Story) -> None:
    cardiologist, case_id = story.context.actor(CARDIOLOGIST), story.context.case["id"]
    queue = await story.api.json(
        "GET", f"{CONSULT}/cases", cardiologist,
        params={"status": "submitted", "specialty": "cardiology", "limit": 200},
    )  # fmt: skip
    ids = [item["id"] for item in queue["items"]]
    if case_id not in ids:
        raise StepFailed(f"case {case_id} is not in {CARDIOLOGIST}'s queue")
    for action in ("accept", "start"):
        case = await story.api.json("POST", f"{CONSULT}/cases/{case_id}/{action}", cardiologist)
    story.say(f"{CARDIOLOGIST} found it at {ids.index(case_id) + 1} of {len(ids)} in the "
              f"cardiology queue (by deadline), accepted it: {case['status']}",
              queue_position=ids.index(case_id) + 1)  # fmt: skip
    await read_attachments(story, cardiologist, case)


async def read_attachments(story: Story, reader: Actor, case: dict[str, Any]) -> None:
    """The files are the medic's: the specialist reads them with consult's grant for the case,
    which the files service checks without asking consult."""
    grant = await story.api.json("POST", f"{CONSULT}/cases/{case['id']}/attachments/grant", reader)
    for attachment in case["attachments"]:
        response = await story.api.call(
            "GET", f"/api/files/files/{attachment['id']}/content", reader,
            headers={GRANT_HEADER: grant["grant"]},
        )  # fmt: skip
        if hashlib.sha256(response.content).hexdigest() != attachment["sha256"]:
            raise StepFailed(f"{attachment['display_name']!r} does not match its sha256")
    story.say(f"{CARDIOLOGIST} read its {len(case['attachments'])} attachments with consult's "
              f"grant (valid until {grant['expires_at']}): each matches its sha256",
              attachments=len(case["attachments"]))  # fmt: skip


CONCLUSION = {
    "findings": "NSTEMI: troponin I 412 ng/L, ST depression V4-V6; high GRACE risk.",
    "diagnosis_text": "Acute subendocardial myocardial infarction",
    "diagnosis_codes": ["I21.4"],
    "recommendations": "Transfer to the PCI centre within 24 hours; see the patient in person "
    "at the regional centre, then remote follow-ups.",
    "in_person_visit_needed": True,
    "hospitalisation_needed": True,
}


async def conclude(story: Story) -> None:
    path = f"{CONSULT}/cases/{story.context.case['id']}"
    await story.api.call("POST", f"{path}/conclusions", story.context.actor(CARDIOLOGIST),
                         json={"content": CONCLUSION}, expect=201)  # fmt: skip
    medic = story.context.actor(MEDIC)
    read = await story.api.json("GET", f"{path}/conclusions/1", medic)
    if read["signature_valid"] is not True:
        raise StepFailed("the conclusion's signature does not verify")
    case = await story.api.json("GET", path, medic)
    story.say(
        f"conclusion v{read['version']} signed (Ed25519, key {read['key_id'][:12]}…); "
        f"{MEDIC} reads it: signature valid, case {case['status']}",
        signature_valid=True, key_id=read["key_id"], status=case["status"],
    )  # fmt: skip


async def in_person_visit(story: Story) -> None:
    actors = story.context.actors
    visits = Visits(story.api, story.clock, actors[MEDIC], actors[CARDIOLOGIST], actors[PATIENT])
    story.context.visits = visits
    await visits.prepare_schedule()
    episode = await visits.open_episode(story.context.case["id"])
    first = await visits.book_first_visit(episode["id"])
    start, zone = parse(first["start"]), visits.zone
    if visits.cancelled_leftovers:
        story.say(f"cancelled {visits.cancelled_leftovers} visit(s) an earlier demo run left")
    story.say(f"{CARDIOLOGIST}'s schedule: {IN_PERSON_MINUTES}-minute first visits, no notice; "
              f"extra hours from {local(start, zone)} ({zone})")  # fmt: skip
    story.say(f"{MEDIC} opened care episode {episode['id']}; {CARDIOLOGIST} booked the "
              f"in-person first visit {first['id']} at {local(start, zone)}",
              episode_id=episode["id"], appointment_id=first["id"])  # fmt: skip
    if (wait := (start - story.clock.now()).total_seconds()) > 1:
        why = " (her earlier visit ends then)" if visits.busy_before else ""
        story.say(f"waiting {wait:.0f} s for the visit to begin{why}")
    fulfilled = await visits.fulfil(first)
    check = await story.api.json("GET", f"/api/scheduling/episodes/{episode['id']}",
                                 actors[CARDIOLOGIST])  # fmt: skip
    story.say(f"the patient arrived; the visit is {fulfilled['status']}; remote follow-ups may "
              f"be booked: {check['first_visit_fulfilled']}")  # fmt: skip
    story.context.episode_id, story.context.first_visit = episode["id"], fulfilled


def _tomorrow(moment: datetime, zone: str) -> datetime:
    day = moment.astimezone(ZoneInfo(zone)).date() + timedelta(days=1)
    return datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(zone))


async def follow_ups(story: Story) -> None:
    visits = story.context.visits
    assert visits is not None
    episode, zone = story.context.episode_id, visits.zone
    first = await visits.book(episode, "remote", parse(story.context.first_visit["end"]))
    # From tomorrow in her weekly hours; on a schedule without any, later in the demo's hours.
    second_start = await visits.next_free(
        "remote", _tomorrow(parse(first["start"]), zone)
    ) or await visits.next_free("remote", parse(first["end"]))
    if second_start is None:
        raise StepFailed(f"{CARDIOLOGIST} has no free remote slot in the next 14 days")
    second = await visits.book(episode, "remote", second_start)
    first = await visits.room_ready(first)
    story.context.follow_ups = [first, second]
    for label, item in (("first", first), ("second", second)):
        room = item.get("room") or {}
        story.say(f"{label} remote follow-up {item['id']} at {local(parse(item['start']), zone)}:"
                  f" {item['status']}, video room {room.get('state')}")  # fmt: skip
    story.say("the first-visit rule held: both were booked in the episode of the fulfilled "
              "in-person visit", appointment_ids=[first["id"], second["id"]])  # fmt: skip


async def invitation_email(story: Story) -> None:
    """The first follow-up's invitation as the patient gets it: the email the local mail
    catcher keeps, its personal visit link, and how long it took from the booking."""
    first, folder = story.context.follow_ups[0], story.context.mail_folder
    if folder is None:
        story.say("the system runs elsewhere: the patient's invitation went out from there",
                  catcher=False)  # fmt: skip
        return
    if not folder.is_dir():
        story.say(f"no mail catcher is running ({folder} does not exist): start the system "
                  "with `telemed run --mail-catcher` to see the invitation arrive",
                  catcher=False)  # fmt: skip
        return
    address = story.context.user(PATIENT).get("email")
    if not address:
        raise StepFailed(f"{PATIENT} has no email address in the credentials; seed again")
    booked_at = parse(first["created_at"])
    mailed = await wait_for_invitation(
        folder, address, uuid.UUID(first["id"]), booked_at, MAIL_WITHIN_SECONDS
    )
    if mailed is None:
        story.say(f"no invitation reached {folder} within {MAIL_WITHIN_SECONDS:.0f} s: no mail "
                  "catcher is running (`telemed run --mail-catcher`)", catcher=False)  # fmt: skip
        return
    seconds = (mailed.arrived_at - booked_at).total_seconds()
    story.say(f"{address} was sent {mailed.subject!r} ({mailed.path.name} in the catcher)",
              subject=mailed.subject, catcher=True)  # fmt: skip
    story.say(f"the personal link in it: {mailed.link}", link=mailed.link)
    story.say(f"{seconds:.2f} s from booking the visit to the email in the catcher",
              seconds=round(seconds, 3))  # fmt: skip


async def video_visit(story: Story) -> None:
    first = story.context.follow_ups[0]
    actors = story.context.actors
    link = await story.api.json(
        "POST", f"/api/scheduling/appointments/{first['id']}/join-link", actors[PATIENT]
    )
    room_id, token = str(room_id_of(first)), join_token_of(link["join_url"])
    page = link["join_url"].removesuffix(token)
    story.say(f"{PATIENT} took the join link {page}{token[:10]}… (its page works in a browser; "
              f"the token expires {link['expires_at']})")  # fmt: skip
    host = await story.api.json(
        "POST", f"/api/video/rooms/{room_id}/tokens", actors[CARDIOLOGIST], json={}, expect=201
    )
    visit = await hold_visit(story.api, room_id, host["token"], token)
    story.say(f"the doctor opened room {room_id} in {visit.doctor_join_seconds:.2f} s; the bot "
              f"patient joined ({visit.patient_state}) and the doctor admitted them")  # fmt: skip
    story.say(
        f"video both ways {visit.media_seconds:.2f} s after admission: the doctor received "
        f"{visit.doctor_got} frames of the patient's camera, the patient {visit.patient_got} of "
        "the doctor's; both left",
        join_seconds=round(visit.doctor_join_seconds, 3),
        media_seconds=round(visit.media_seconds, 3),
        frames_to_doctor=visit.doctor_got, frames_to_patient=visit.patient_got,
    )  # fmt: skip


async def webhook_log(story: Story) -> None:
    webhooks = story.context.webhooks
    assert webhooks is not None
    await webhooks.wait_for(EXPECTED_EVENTS, WEBHOOKS_WITHIN_SECONDS)
    log = await webhooks.deliveries()
    for item in reversed(log):
        resource = item.get("resource") or {}
        story.say(f"{item['status']:<9} {item['event_type']:<25} {resource.get('type')} "
                  f"{resource.get('id')}  attempts {item['attempts']}")  # fmt: skip
    statuses = Counter(item["status"] for item in log)
    verified = sum(webhooks.receiver.verified.values())
    story.say(
        f"{len(log)} deliveries ({', '.join(f'{n} {s}' for s, n in statuses.items())}); the "
        f"receiver verified {verified} signed events, refused {webhooks.receiver.rejected}",
        deliveries=len(log), statuses=dict(statuses), verified=verified,
        refused=webhooks.receiver.rejected, events=dict(webhooks.receiver.verified),
    )  # fmt: skip


STEPS: list[tuple[str, Step]] = [
    ("The system is up", system_up),
    ("Demo directory and sign-in", directory),
    ("Webhook receiver subscribed", webhook_receiver),
    ("District medic opens an urgent case", open_case),
    ("Lab results PDF, uploaded whole", lab_pdf),
    ("DICOM image by tus, resumed after a dropped link", dicom_by_tus),
    ("Case submitted with its attachments", submit_case),
    ("Cardiologist takes the case", take_case),
    ("Signed conclusion", conclude),
    ("In-person first visit, fulfilled", in_person_visit),
    ("Two remote follow-ups", follow_ups),
    ("The patient's invitation email", invitation_email),
    ("Video visit: the doctor and a bot patient", video_visit),
    ("Webhook deliveries", webhook_log),
]
