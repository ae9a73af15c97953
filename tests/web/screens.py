"""The console's screens, each with the demo user who sees it and the way to it: the one list
the test that every screen answers (tests/web/test_screens.py), the weak-link benchmark
(bench/web_weak_link.py) and the pictures (docs/screenshots.py) go through.

A screen is reached at `path`, its `{names}` filled in with the ids `stage` returns, then by
following, on each page in turn, the first link whose address matches each pattern of `follow`
(for what the demo's seed made: an organisation's page is "the first in the list"). Adding a
screen is one line in `SCREENS`; what it shows must exist in the demo: `telemed seed --demo`
(organisations and people), then `stage` (cases, visits, a consilium, appeals).
"""

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from telemed.demo.api import Actor, Api
from telemed.demo.steps import CONCLUSION
from telemed.demo.visits import Clock, Visits, parse
from telemed.samples import sample_case, sample_patient

MEDIC, SPECIALIST, PATIENT = "medic.tashtagol", "cardiologist.kuzbass", "patient.petrov"
COORDINATOR, REGISTRAR, ADMIN = "coordinator.kuzbass", "registrar.callcentre", "admin"
NEUROLOGIST = "neurologist.kuzbass"  # invited to the cardiologist's consilia
STAGED = (MEDIC, SPECIALIST, NEUROLOGIST, PATIENT, COORDINATOR, REGISTRAR)
ID = "[0-9a-f-]{36}"
CASE_LINK, CONCLUSION_LINK = rf"^/cases/{ID}$", rf"^/cases/{ID}/conclusion$"
MONITORED_LINK = rf"^/monitoring/{ID}$"
ORGANIZATION_LINK, USER_LINK = rf"^/admin/organizations/{ID}$", rf"^/admin/users/{ID}$"
CONSULT = "/api/consult"


@dataclass(frozen=True)
class Screen:
    name: str  # also the pictures' file names: docs/pictures/<name>-<language>[-phone].png
    user: str | None  # None: nobody signed in
    path: str  # may name ids `stage` returns: "/cases/{talk_case}"
    follow: tuple[str, ...] = ()
    phone: bool = False  # pictured at phone width too: a role's main screen

    def start(self, staged: Mapping[str, str]) -> str:
        return self.path.format_map(staged)


# In the order of docs/console.md's guide.
SCREENS = [
    Screen("sign-in", None, "/"),
    Screen("home-medic", MEDIC, "/"),
    Screen("cases-medic", MEDIC, "/cases", phone=True),
    Screen("new-case", MEDIC, "/cases/new"),
    Screen("case-medic", MEDIC, "/cases?status=concluded", (CASE_LINK,)),
    Screen("case-draft", MEDIC, "/cases?status=draft", (CASE_LINK,)),  # with the uploader
    Screen("conclusion", MEDIC, "/cases?status=concluded", (CASE_LINK, CONCLUSION_LINK)),
    Screen("account", MEDIC, "/profile"),
    Screen("home-specialist", SPECIALIST, "/"),
    Screen("queue", SPECIALIST, "/cases", phone=True),
    Screen("case-specialist", SPECIALIST, "/cases?status=submitted", (CASE_LINK,)),
    Screen("convene", SPECIALIST, "/cases/{talk_case}/consilium/new"),
    Screen("consilium", SPECIALIST, "/cases/{consilium_case}/consilium"),
    Screen("consilium-protocol", SPECIALIST, "/cases/{consilium_case}/consilium/protocol"),
    Screen("consilia", NEUROLOGIST, "/consilia"),
    Screen("visits", SPECIALIST, "/visits"),
    Screen("video-room", SPECIALIST, "/video/{room}"),
    Screen("case-video", SPECIALIST, "/cases/{talk_case}"),
    Screen("home-admin", ADMIN, "/"),
    Screen("organizations", ADMIN, "/admin/organizations"),
    Screen("organization", ADMIN, "/admin/organizations", (ORGANIZATION_LINK,)),
    Screen("users", ADMIN, "/admin/users"),
    Screen("user", ADMIN, "/admin/users", (USER_LINK,)),
    Screen("api-clients", ADMIN, "/admin/api-clients"),
    Screen("webhooks", ADMIN, "/admin/webhooks"),
    Screen("audit", ADMIN, "/admin/audit"),
    Screen("home-patient", PATIENT, "/", phone=True),
    Screen("questions", PATIENT, "/questions"),
    Screen("question", PATIENT, "/questions/{question}"),
    Screen("new-question", PATIENT, "/questions/new"),
    Screen("home-coordinator", COORDINATOR, "/"),
    Screen("new-appeal", COORDINATOR, "/appeals/new", phone=True),
    Screen("appeals", COORDINATOR, "/appeals"),
    Screen("appeal", COORDINATOR, "/appeals/{appeal}"),
    Screen("callbacks", COORDINATOR, "/callbacks"),
    Screen("home-registrar", REGISTRAR, "/"),
    Screen("patients", REGISTRAR, "/patients?name=Kuznetsova", phone=True),
    Screen("registry-patient", REGISTRAR, "/patients/{patient}"),
    Screen("booking-week", REGISTRAR, "/patients/{patient}/book?specialty=cardiology"),
    Screen("schedule", SPECIALIST, "/schedule"),
    Screen("calendar", SPECIALIST, "/schedule/calendar"),
    Screen("monitoring", COORDINATOR, "/monitoring", phone=True),
    Screen("monitoring-enrol", COORDINATOR, "/monitoring/enrol"),
    Screen("monitored-patient", COORDINATOR, "/monitoring", (MONITORED_LINK,)),
    Screen("escalations", COORDINATOR, "/monitoring/tasks"),
    Screen("figures", COORDINATOR, "/figures"),
    Screen("wards", SPECIALIST, "/wards"),
    Screen("ward-overview", SPECIALIST, "/wards/overview?ward={ward}", phone=True),
    Screen("ward-manage", COORDINATOR, "/wards/{ward}/manage"),
]
BY_NAME = {screen.name: screen for screen in SCREENS}


def chosen(names: str | None) -> list[Screen]:
    """The screens named (comma-separated), in the list's order; all when None."""
    if not names:
        return SCREENS
    wanted = {name.strip() for name in names.split(",")}
    if unknown := wanted - BY_NAME.keys():
        raise ValueError(
            f"no such screen: {', '.join(sorted(unknown))}; known: {', '.join(BY_NAME)}"
        )
    return [screen for screen in SCREENS if screen.name in wanted]


def first_link(hrefs: Iterable[str], pattern: str, on: str) -> str:
    """The first address among a page's links that matches `pattern`."""
    for href in hrefs:
        if re.search(pattern, href):
            return href
    raise LookupError(f"no link matching {pattern!r} on {on}: is the demo staged?")


@dataclass
class Stage:
    """The demo's people signed in at the API, posting as they would."""

    api: Api
    people: dict[str, Actor]
    centre: str  # the cardiologist's regional centre

    async def post(self, who: str, path: str, body: Any = None) -> Any:
        key = {"Idempotency-Key": str(uuid.uuid4())}
        return await self.api.json(
            "POST", path, self.people[who], json=body, headers=key, expect=(200, 201)
        )

    async def case(self, reference: str, full_name: str, *steps: str, **fields: Any) -> str:
        """A medic's case at the centre, taken through the cardiologist's `steps`."""
        patient = sample_patient(reference=reference, full_name=full_name)
        body = sample_case(self.centre, patient=patient, **fields)
        case_id = str((await self.post(MEDIC, f"{CONSULT}/cases", body))["id"])
        for step in steps:
            await self.post(SPECIALIST, f"{CONSULT}/cases/{case_id}/{step}")
        return case_id


async def stage(client: httpx.AsyncClient, passwords: Mapping[str, str]) -> dict[str, str]:
    """What the screens show, made through the API as the demo's people would; returns the ids
    the screens' paths name. `client` talks to the gateway; `passwords` are the demo users'."""
    api = Api(client)
    people = {name: await api.login(name, passwords[name]) for name in STAGED}
    me = await api.json("GET", "/api/directory/me", people[SPECIALIST])
    staged = Stage(api, people, str(me["organization_id"]))
    await staged.case("MIS-42-000301", "Orlova Anna Petrovna")  # a draft
    await staged.case("MIS-42-000302", "Smirnov Pavel Olegovich", submit=True, urgency="emergency")
    answered = await staged.case(
        "MIS-42-000303", "Petrov Sergei Nikolaevich", "accept", "start", submit=True
    )
    await staged.post(
        SPECIALIST, f"{CONSULT}/cases/{answered}/conclusions", {"content": CONCLUSION}
    )
    ids = await _stage_consilia(staged) | await _stage_visits(staged)
    ids |= await _stage_hotline(staged) | await _stage_wards(staged)
    await _stage_monitoring(staged)
    return ids


async def _stage_consilia(staged: Stage) -> dict[str, str]:
    """A case taken, with the cardiologist's video consultation open to the medic; a consilium
    the neurologist has still to answer; one concluded by the chair's protocol, citing his
    signed opinion."""
    talk = await staged.case("MIS-42-000305", "Kovalev Igor Petrovich", "accept", submit=True)
    room = await staged.post(
        SPECIALIST,
        "/api/video/rooms",
        {"kind": "d2d", "title": "Kovalev Igor Petrovich: cardiology", "case_id": talk,
         "starts_at": datetime.now(UTC).isoformat(),
         "invitee_ids": [str(staged.people[MEDIC].id)]},
    )  # fmt: skip
    invite = {"invitations": [{"user_id": str(staged.people[NEUROLOGIST].id)}]}
    waiting = await staged.case(
        "MIS-42-000306", "Zaitsev Oleg Ivanovich", "accept", "start", submit=True
    )
    agenda = "Anticoagulation after a cardioembolic stroke: when to start?"
    await staged.post(
        SPECIALIST, f"{CONSULT}/cases/{waiting}/consilium", {"agenda": agenda} | invite
    )
    held = await staged.case(
        "MIS-42-000307", "Morozov Viktor Alekseevich", "accept", "start", submit=True
    )
    path = f"{CONSULT}/cases/{held}/consilium"
    agenda = "CABG or PCI for three-vessel disease with diabetes?"
    convened = await staged.post(SPECIALIST, path, {"agenda": agenda} | invite)
    invitation = f"{path}/invitations/{convened['invitations'][0]['id']}"
    await staged.post(NEUROLOGIST, f"{invitation}/accept")
    opinion = {
        "assessment": "No focal deficit; the carotids are clear for surgery.",
        "diagnosis_codes": ["I25.1"],
        "recommendations": "CABG after stabilisation.",
    }
    await staged.post(NEUROLOGIST, f"{invitation}/opinion", {"content": opinion})
    await staged.post(SPECIALIST, f"{path}/protocol", {"decision": CONCLUSION})
    return {"talk_case": talk, "room": str(room["id"]), "consilium_case": held}


async def _stage_visits(staged: Stage) -> dict[str, str]:
    """telemed/demo/visits.py's steps: the patient seen in person by the cardiologist just now
    and booked for a remote follow-up right after; then his written question, answered."""
    people, api = staged.people, staged.api
    clock = Clock()
    await clock.set_from(api)
    visits = Visits(api, clock, people[MEDIC], people[SPECIALIST], people[PATIENT])
    await visits.prepare_schedule()
    body = {"patient_id": str(people[PATIENT].id), "specialty": "cardiology",
            "practitioner_id": str(people[SPECIALIST].id)}  # fmt: skip
    episode = await staged.post(MEDIC, "/api/scheduling/episodes", body)
    first = await visits.fulfil(await visits.book_first_visit(episode["id"]))
    await visits.book(episode["id"], "remote", parse(first["end"]))
    patient = {
        "reference": str(people[PATIENT].id),
        "full_name": "Sergei Nikolaevich Petrov",
        "birth_date": "1961-04-12",
        "sex": "male",
        "insurance_policy": "4250000000000123",
    }
    question = await staged.post(
        PATIENT,
        f"{CONSULT}/patient-requests",
        {"patient": patient, "specialty": "cardiology", "mode": "written",
         "question": "My ankles swell in the evening; should I keep taking amlodipine?",
         "worsening_signs": [], "attachment_ids": []},
    )  # fmt: skip
    case = f"{CONSULT}/cases/{question['id']}"
    for step in ("accept", "start"):
        await staged.post(SPECIALIST, f"{case}/{step}")
    answer = {
        "findings": "Ankle oedema on amlodipine, no signs of heart failure.",
        "diagnosis_text": "Drug-induced oedema",
        "diagnosis_codes": ["R60.0"],
        "recommendations": "Halve the amlodipine dose; raise the legs in the evening.",
    }
    await staged.post(SPECIALIST, f"{case}/conclusions", {"content": answer})
    return {"question": str(question["id"])} | await _stage_registry(staged, visits)


async def _stage_registry(staged: Stage, visits: Visits) -> dict[str, str]:
    """A patient the call centre's registrar registers (the demo's own patient has no
    registration in the register) and books a first visit with the cardiologist tomorrow."""
    registrar = staged.people[REGISTRAR]
    assert visits.schedule is not None  # prepared by _stage_visits
    policy = "4250000000000456"
    found = await staged.api.json(
        "GET", "/api/directory/patients", registrar, params={"policy_number": policy}
    )
    patient = found["items"][0] if found["items"] else await staged.post(
        REGISTRAR, "/api/directory/patients",
        {"full_name": "Kuznetsova Maria Ivanovna", "birth_date": "1957-09-30", "sex": "female",
         "policy_number": policy, "phone": "+7 913 555-03-41", "language": "ru"},
    )  # fmt: skip
    start = await visits.next_free("in_person", visits.clock.now() + timedelta(days=1))
    assert start is not None, "the cardiologist has no free in-person time in a fortnight"
    body = {"schedule_id": str(visits.schedule["id"]), "visit_type": "in_person",
            "start": start.isoformat(), "patient_id": str(patient["id"])}  # fmt: skip
    await staged.post(REGISTRAR, "/api/scheduling/appointments", body)
    return {"patient": str(patient["id"])}


async def _stage_hotline(staged: Stage) -> dict[str, str]:
    """An appeal for each of two districts of the demo's territory map (`seed --demo` draws
    it), and a dropped call's callback due now."""
    appeals = [
        ("32628000", "Nina Pavlovna Gromova", "The polyclinic asks 3,500 roubles for a repeat "
         "histology the oncologist ordered."),
        ("32701000", "Aleksei Ivanovich Belov", "No cardiologist appointment for five weeks; "
         "the registry says there are no slots."),
    ]  # fmt: skip
    filed = []
    for territory, name, text in appeals:
        body = {"channel": "phone", "category": "question", "territory": territory, "text": text,
                "contact": {"name": name, "phone": "+7 913 555-02-17"}}  # fmt: skip
        filed.append(await staged.post(COORDINATOR, f"{CONSULT}/appeals", body))
    callback = {"reason": "dropped_call", "due_at": datetime.now(UTC).isoformat()}
    await staged.post(COORDINATOR, f"{CONSULT}/appeals/{filed[-1]['id']}/callbacks", callback)
    return {"appeal": str(filed[0]["id"])}


async def _stage_monitoring(staged: Stage) -> None:
    """A pregnant woman under monitoring whose check-in crossed the threshold: an ambulance on
    the escalations screen."""
    patient = sample_patient(reference="MIS-42-000304", full_name="Ivanova Anna Sergeevna",
                             sex="female", birth_date="1994-06-01")  # fmt: skip
    enrolment = await staged.post(
        COORDINATOR,
        f"{CONSULT}/monitoring/enrolments",
        {"programme": "pregnancy_high_risk", "patient": patient,
         "contact_phone": "+7 913 555-01-23",
         "indication": "Week 32, chronic hypertension, pre-eclampsia in the last pregnancy."},
    )  # fmt: skip
    await staged.post(
        COORDINATOR,
        f"{CONSULT}/monitoring/enrolments/{enrolment['id']}/check-ins",
        {"vital_signs": {"systolic_bp": 165, "diastolic_bp": 95, "heart_rate": 88},
         "symptoms": ["severe_headache"], "wellbeing": "worse"},
    )  # fmt: skip


async def _stage_wards(staged: Stage) -> dict[str, str]:
    """The regional hospital's cardiac ICU, watched by its own doctors: a bed whose tablet has
    its link but never connected (its alarm rises on the overview), a bed with no source yet,
    and an empty bed."""
    wards = "/api/video/wards"
    ward = await staged.post(COORDINATOR, wards, {"name": "Cardiac ICU"})
    beds = f"{wards}/{ward['id']}/beds"
    tablet = await staged.post(COORDINATOR, beds, {"label": "Bed 1", "patient_ref": "IB 2026/1142"})
    await staged.post(COORDINATOR, beds, {"label": "Bed 2", "patient_ref": "IB 2026/1187"})
    await staged.post(COORDINATOR, beds, {"label": "Bed 3"})
    await staged.post(COORDINATOR, f"{beds}/{tablet['id']}/device")
    return {"ward": str(ward["id"])}
