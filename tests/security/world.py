"""The world the authorisation matrix probes: four organisations of two regions, one person of
each role in each, and one of every kind of resource, made through the gateway as in use.

Organisations: A, a district hospital of region 42 (it asks, books, monitors, owns files); C,
the region's centre (its cardiologist answers, keeps the schedule, hosts the room); B, another
district hospital of region 42; F, a hospital of region 54; X, a call centre of region 54 that
serves A (its registrar acts for A's patients). Scheduling runs on a hand-moved clock (a Monday
in October 2025), as in the FHIR and scheduling fixtures.
"""

import itertools
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from gateway.scopes import CLIENT_SCOPES
from telemed.samples import sample_case
from tests.conftest import TEST_PASSWORD, Actor, Stack
from tests.consult.conftest import _api_client
from tests.fhir.conftest import (
    CENTRE_ZONE,
    DISTRICT_ZONE,
    NOW,
    PATIENT,
    VIDEO_CLIENT_ID,
    VIDEO_CLIENT_SECRET,
    WEEKDAYS,
    Clock,
    _register_scheduling_client,
    local,
)

CONSULT, SCHEDULING, VIDEO = "/api/consult", "/api/scheduling", "/api/video"
FILES, DIRECTORY, WEBHOOKS = "/api/files", "/api/directory", "/api/webhooks"
# The scheduling service sets up the rooms of remote visits as its own API client; the
# appeals' escalation job is kept out of the way.
STACK_OVERRIDES: dict[str, dict[str, Any]] = {
    "scheduling": {
        "reminder_interval_seconds": 3600.0,
        "video_client_id": VIDEO_CLIENT_ID,
        "video_client_secret": VIDEO_CLIENT_SECRET,
    },
    "consult": {"appeal_escalation_interval_seconds": 3600.0},
}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TERRITORY = "32731000"  # Novokuznetsk, mapped to hospital A
CONCLUSION = {
    "findings": "NSTEMI, high GRACE risk.",
    "diagnosis_text": "Acute subendocardial myocardial infarction",
    "diagnosis_codes": ["I21.4"],
    "recommendations": "Transfer to the PCI centre within 24 hours.",
}
READ_SCOPES = ["consult:read", "files:read"]
# Free in-person hours of C's cardiologist for fresh visits: weekdays after the first visit.
FREE_SLOTS = [
    (f"2025-10-{day}", hour) for day in (22, 23, 24, 27, 29, 30, 31) for hour in (9, 11, 14, 16)
]


async def ok(response: httpx.Response, status: int = 201) -> Any:
    assert response.status_code == status, (response.request.url, response.text)
    return response.json()


@dataclass
class World:
    stack: Stack
    clock: Clock
    orgs: dict[str, dict[str, Any]]
    actors: dict[str, Actor]  # "medic@A", "spec2@C", "client_ro@A", "admin", ...
    ids: dict[str, str] = field(default_factory=dict)  # the shared resources
    _slots: Iterator[int] = field(default_factory=itertools.count)
    _serial: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def client(self) -> httpx.AsyncClient:
        return self.stack.client

    def __getitem__(self, key: str) -> Actor:
        return self.actors[key]

    async def post(self, actor: str, path: str, body: Any = None, status: int = 201) -> Any:
        return await ok(
            await self.client.post(path, json=body, headers=self[actor].headers), status
        )

    # -- makers: each makes one resource as its rightful owner and returns its id --------------

    async def upload(self, actor: str = "medic@A") -> str:
        response = await self.client.post(
            f"{FILES}/files",
            content=PDF,
            params={"name": f"ECG {next(self._serial)}.pdf", "kind": "ecg"},
            headers=self[actor].headers | {"Content-Type": "application/octet-stream"},
        )
        return str((await ok(response))["id"])

    async def case(self, *actions: str, attachment: str | None = None) -> str:
        """A submitted case of A's medic to C's cardiology, taken through `actions` by C's
        cardiologist ("accept", "start", "request-info", "conclude")."""
        attachments = [attachment] if attachment else []
        body = sample_case(self.orgs["C"]["id"], attachment_ids=attachments, submit=True)
        case_id = str((await self.post("medic@A", f"{CONSULT}/cases", body))["id"])
        for action in actions:
            path = f"{CONSULT}/cases/{case_id}/{action}"
            if action == "request-info":
                await self.post("spec@C", path, {"message": "Please attach the ECG."}, 200)
            elif action == "conclude":
                path = f"{CONSULT}/cases/{case_id}/conclusions"
                await self.post("spec@C", path, {"content": CONCLUSION})
            else:
                await self.post("spec@C", path, None, 200)
        return case_id

    async def patient_request(self) -> str:
        body = {
            "patient": PATIENT | {"reference": "MIS-42-000777"},
            "specialty": "cardiology",
            "question": "My ankles swell in the evening; keep the amlodipine?",
        }
        return str((await self.post("patient@A", f"{CONSULT}/patient-requests", body))["id"])

    async def appeal(self) -> str:
        """Filed by A's MIS for A's patient; the territory map routes it to A."""
        body = {
            "channel": "api",
            "category": "paid_service_imposition",
            "territory": TERRITORY,
            "contact": {"name": "Sidorova Maria Petrovna", "phone": "+7 913 123-45-67"},
            "text": "The polyclinic asks 3,500 roubles for a repeat histology.",
            "patient_id": str(self["patient@A"].id),
        }
        return str((await self.post("client@A", f"{CONSULT}/appeals", body))["id"])

    async def callback(self, appeal: str | None = None) -> str:
        """A dropped call A's operator owes on `appeal` (a new one by default)."""
        path = f"{CONSULT}/appeals/{appeal or await self.appeal()}/callbacks"
        return str((await self.post("coord@A", path, {"reason": "dropped_call"}))["id"])

    async def enrolment(self, patient: bool = False) -> str:
        serial = next(self._serial)
        body = {
            "programme": "pregnancy_high_risk",
            "patient": PATIENT | {"reference": f"MIS-42-{serial:06d}", "sex": "female"},
            "contact_phone": "+7 911 555-01-23",
            "indication": "Week 32, chronic hypertension.",
        } | ({"patient_id": str(self["patient@A"].id)} if patient else {})
        path = f"{CONSULT}/monitoring/enrolments"
        return str((await self.post("coord@A", path, body))["id"])

    async def exception(self) -> str:
        day = NOW + timedelta(days=60 + next(self._serial))
        body = {"kind": "unavailable", "start": day.isoformat(),
                "end": (day + timedelta(hours=2)).isoformat(), "reason": "Training"}  # fmt: skip
        path = f"{SCHEDULING}/schedules/{self.ids['schedule']}/exceptions"
        return str((await self.post("spec@C", path, body))["id"])

    async def appointment(self) -> str:
        """An in-person visit A's medic books for A's patient with C's cardiologist, an hour
        apart from every other (the shared visits are on the 21st and the 28th)."""
        day, hour = FREE_SLOTS[next(self._slots)]
        body = {"practitioner_id": str(self["spec@C"].id), "visit_type": "in_person",
                "start": local(day, f"{hour:02d}:00"),
                "patient_id": str(self["patient@A"].id)}  # fmt: skip
        return str((await self.post("medic@A", f"{SCHEDULING}/appointments", body))["id"])

    async def episode(self) -> str:
        body = {"patient_id": str(self["patient@A"].id), "specialty": "cardiology",
                "practitioner_id": str(self["spec@C"].id)}  # fmt: skip
        return str((await self.post("medic@A", f"{SCHEDULING}/episodes", body))["id"])

    async def room(self) -> str:
        starts_at = datetime.now(NOW.tzinfo) + timedelta(days=1)
        body = {"kind": "follow_up", "title": "Follow-up", "starts_at": starts_at.isoformat()}
        return str((await self.post("spec@C", f"{VIDEO}/rooms", body))["id"])

    async def user(self) -> str:
        body = {"username": f"patient.fresh{next(self._serial)}", "password": TEST_PASSWORD,
                "full_name": "Fresh Patient", "role": "patient",
                "organization_id": self.orgs["A"]["id"]}  # fmt: skip
        return str((await self.post("admin", f"{DIRECTORY}/users", body))["id"])

    async def patient_record(self) -> str:
        """A patient A's registrar registers (no password: a record, not an account in use)."""
        body = {"full_name": f"Registered Patient {next(self._serial)}", "birth_date": "1956-03-14",
                "sex": "female", "phone": "+7 913 123-45-67"}  # fmt: skip
        return str((await self.post("reg@A", f"{DIRECTORY}/patients", body))["id"])

    async def api_client(self) -> str:
        body = {"name": f"MIS {next(self._serial)}", "organization_id": self.orgs["A"]["id"],
                "scopes": ["consult:read"]}  # fmt: skip
        return str((await self.post("admin", f"{DIRECTORY}/api-clients", body))["id"])

    async def subscription(self) -> str:
        body = {"url": "http://127.0.0.1:9/hook", "event_types": ["appeal.resolved"]}
        return str((await self.post("client@A", f"{WEBHOOKS}/subscriptions", body))["id"])


PEOPLE: dict[str, tuple[str, str | None]] = {
    # key: (role, specialty); the organisation is the key's suffix
    "medic@A": ("district_medic", None), "medic@B": ("district_medic", None),
    "medic@F": ("district_medic", None),
    "spec@C": ("specialist", "cardiology"), "spec2@C": ("specialist", "cardiology"),
    "spec@A": ("specialist", "cardiology"), "spec@B": ("specialist", "cardiology"),
    "spec@F": ("specialist", "cardiology"),
    "coord@A": ("coordinator", None), "coord@C": ("coordinator", None),
    "coord@B": ("coordinator", None), "coord@F": ("coordinator", None),
    "patient@A": ("patient", None), "patient2@A": ("patient", None),
    "patient@B": ("patient", None), "patient@F": ("patient", None),
    "reg@A": ("registrar", None), "reg@X": ("registrar", None),
    "reg@B": ("registrar", None), "reg@F": ("registrar", None),
}  # fmt: skip
CLIENTS: dict[str, list[str]] = {
    "client@A": sorted(CLIENT_SCOPES), "client@B": sorted(CLIENT_SCOPES),
    "client@F": sorted(CLIENT_SCOPES), "client_ro@A": READ_SCOPES,
}  # fmt: skip


async def _first_visit_and_follow_up(world: World) -> None:
    """A's medic books A's patient in person with C's cardiologist, who sees them; then a
    remote follow-up in the same episode, which gets its video room."""
    booking = {"practitioner_id": str(world["spec@C"].id), "visit_type": "in_person",
               "start": local("2025-10-21", "10:00"),
               "patient_id": str(world["patient@A"].id)}  # fmt: skip
    first = await world.post("medic@A", f"{SCHEDULING}/appointments", booking)
    world.clock.now = datetime.fromisoformat(first["start"]) + timedelta(minutes=5)
    for action in ("arrive", "fulfil"):
        await world.post("spec@C", f"{SCHEDULING}/appointments/{first['id']}/{action}", None, 200)
    world.clock.now = NOW
    follow_up = {"practitioner_id": str(world["spec@C"].id), "visit_type": "remote",
                 "start": local("2025-10-28", "10:00"),
                 "episode_id": first["episode_id"]}  # fmt: skip
    remote = await world.post("medic@A", f"{SCHEDULING}/appointments", follow_up)
    assert remote["room"]["state"] == "ready", remote
    world.ids |= {"appointment": remote["id"], "episode": first["episode_id"],
                  "room": remote["room"]["room_id"]}  # fmt: skip


async def _diagnostic_report(world: World, case_id: str) -> str:
    """The FHIR id of the case's conclusion (the API shows versions, not their ids)."""
    response = await world.client.get("/api/fhir/DiagnosticReport", headers=world["spec@C"].headers)
    bundle = await ok(response, 200)
    (found,) = [
        entry["resource"]["id"]
        for entry in bundle["entry"]
        if entry["resource"]["basedOn"] == [{"reference": f"ServiceRequest/{case_id}"}]
    ]
    return str(found)


async def build_world(stack: Stack) -> World:
    assert stack.admin is not None
    clock = Clock(NOW)
    stack.apps["scheduling"].state.clock = clock
    orgs = {
        "A": await stack.organization(kind="district_hospital", timezone=DISTRICT_ZONE),
        "B": await stack.organization(kind="district_hospital", timezone=DISTRICT_ZONE),
        "C": await stack.organization(kind="regional_centre", timezone=CENTRE_ZONE),
        "F": await stack.organization(region="54", timezone=CENTRE_ZONE),
        "X": await stack.organization(kind="call_centre", region="54", timezone=CENTRE_ZONE),
    }
    served = {"organization_ids": [orgs["A"]["id"]]}
    path = f"{DIRECTORY}/organizations/{orgs['X']['id']}/served"
    await ok(await stack.client.put(path, json=served, headers=stack.admin.headers), 200)
    await _register_scheduling_client(stack, orgs["C"])
    actors = {"admin": stack.admin}
    for key, (role, specialty) in PEOPLE.items():
        actors[key] = await stack.actor(role, orgs[key[-1]], specialty)
    for key, scopes in CLIENTS.items():
        actors[key] = await _api_client(stack, orgs[key[-1]], scopes)
    world = World(stack, clock, orgs, actors)
    schedule = {"weekly_hours": WEEKDAYS, "slot_step_minutes": 15}
    world.ids["schedule"] = (await world.post("spec@C", f"{SCHEDULING}/schedules", schedule))["id"]
    world.ids["exception"] = await world.exception()
    await _first_visit_and_follow_up(world)
    world.ids["attachment"] = await world.upload()
    world.ids["case"] = await world.case(
        "accept", "request-info", attachment=world.ids["attachment"]
    )
    world.ids["concluded"] = await world.case("accept", "start", "conclude")
    world.ids["conclusion"] = await _diagnostic_report(world, world.ids["concluded"])
    world.ids["consilium"] = await world.case("accept")
    convene = {"agenda": "PCI or CABG?", "invitations": [{"specialty": "neurology"}]}
    await world.post("spec@C", f"{CONSULT}/cases/{world.ids['consilium']}/consilium", convene)
    world.ids["patient_request"] = await world.patient_request()
    territory = {"name": "Novokuznetsk city district", "organization_id": orgs["A"]["id"]}
    put = await world.client.put(
        f"{CONSULT}/appeal-territories/42/{TERRITORY}",
        json=territory,
        headers=world["coord@A"].headers,
    )
    await ok(put, 200)
    world.ids["appeal"] = await world.appeal()
    world.ids["callback"] = await world.callback(world.ids["appeal"])
    world.ids["enrolment"] = await world.enrolment(patient=True)
    check_in = {"vital_signs": {"systolic_bp": 120, "diastolic_bp": 80}, "symptoms": [],
                "wellbeing": "same"}  # fmt: skip
    path = f"{CONSULT}/monitoring/enrolments/{world.ids['enrolment']}/check-ins"
    world.ids["check_in"] = (await world.post("coord@A", path, check_in))["id"]
    world.ids["file"] = await world.upload()
    world.ids["user"] = await world.user()
    world.ids["patient_record"] = await world.patient_record()
    world.ids["api_client"] = await world.api_client()
    world.ids["subscription"] = await world.subscription()
    return world


# What a rightful owner makes afresh for each cell where an action is expected to succeed and
# would use the resource up (cancel, close, delete, a transition that happens once).
Maker = Callable[[World], Awaitable[str]]
FRESH: dict[tuple[str, str], Maker] = {
    ("case", "delete"): lambda w: w.case(),
    ("patient request", "delete"): World.patient_request,
    ("appeal", "modify"): World.appeal,
    ("appeal", "delete"): World.appeal,
    ("callback", "modify"): lambda w: w.callback(),
    ("enrolment", "delete"): World.enrolment,
    ("file", "delete"): World.upload,
    ("schedule", "delete"): World.exception,
    ("appointment", "modify"): World.appointment,
    ("appointment", "delete"): World.appointment,
    ("episode", "delete"): World.episode,
    ("room", "delete"): World.room,
    ("user", "delete"): World.user,
    ("API client", "delete"): World.api_client,
    ("webhook", "delete"): World.subscription,
}
