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
from telemed.samples import sample_case, sample_patient, sample_resolution
from tests.consult.appeals.test_calls import wav_bytes

MEDIC, SPECIALIST, PATIENT = "medic.tashtagol", "cardiologist.kuzbass", "patient.petrov"
COORDINATOR, REGISTRAR, ADMIN = "coordinator.kuzbass", "registrar.callcentre", "admin"
NEUROLOGIST = "neurologist.kuzbass"  # invited to the cardiologist's consilia
WARD_COORDINATOR = "coordinator.tashtagol"  # manages the demo's ICU ward
STAGED = (MEDIC, SPECIALIST, NEUROLOGIST, PATIENT, COORDINATOR, REGISTRAR, WARD_COORDINATOR)
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
    Screen("appeal-resolved", COORDINATOR, "/appeals/{resolved_appeal}"),
    Screen("callbacks", COORDINATOR, "/callbacks"),
    Screen("new-home-visit", COORDINATOR, "/home-visits/new", phone=True),
    Screen("home-visits", WARD_COORDINATOR, "/home-visits"),
    Screen("home-visit", WARD_COORDINATOR, "/home-visits/{home_visit}"),
    Screen("home-visit-figures", WARD_COORDINATOR, "/home-visits/figures"),
    # The administrator's choice, then the first organisation's: Khabarovsk's chat (region 27).
    Screen("answers", ADMIN, "/appeals/answers", (rf"^/appeals/answers/{ID}$",)),
    Screen("knowledge", COORDINATOR, "/knowledge?q=полис", phone=True),
    Screen("knowledge-article", COORDINATOR, "/knowledge/articles/{knowledge_article}"),
    Screen("knowledge-version", COORDINATOR, "/knowledge/articles/{knowledge_article}/versions/1"),
    Screen("knowledge-edit", COORDINATOR, "/knowledge/articles/{knowledge_article}/edit"),
    Screen("knowledge-new", COORDINATOR, "/knowledge/new"),
    Screen("knowledge-figures", COORDINATOR, "/knowledge/figures"),
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
    Screen("ward-manage", WARD_COORDINATOR, "/wards/{ward}/manage"),
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
    admin = await api.login(ADMIN, passwords[ADMIN])
    ids |= await _stage_hotline(staged, admin) | await _stage_wards(staged)
    ids |= await _stage_knowledge(staged) | await _stage_resolution(staged)
    ids |= await _stage_home_visit(staged)
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


async def _stage_hotline(staged: Stage, admin: Actor) -> dict[str, str]:
    """An appeal for each of two districts of the demo's territory map (`seed --demo` draws
    it), the first made on a call the centre's PBX reported (answered, ended, recorded), a
    dropped call's callback due now, and a call the PBX reports dropped, nobody's appeal yet."""
    pbx = await _pbx(staged, admin)
    events = f"{CONSULT}/calls/events"

    async def report(call_id: str, event: str, **fields: Any) -> Any:
        body = {"call_id": call_id, "event": event, "at": datetime.now(UTC).isoformat(),
                "line": "8800", "caller": "+7 913 555-02-17"} | fields  # fmt: skip
        return await staged.api.json("POST", events, pbx, json=body)

    await report("demo-1", "started")
    call = await report("demo-1", "answered", extension="204")
    appeals = [
        ("32628000", "Nina Pavlovna Gromova", "The polyclinic asks 3,500 roubles for a repeat "
         "histology the oncologist ordered.", {"call_id": call["id"]}),
        ("32701000", "Aleksei Ivanovich Belov", "No cardiologist appointment for five weeks; "
         "the registry says there are no slots.", {}),
    ]  # fmt: skip
    filed = []
    for territory, name, text, extra in appeals:
        body = {"channel": "phone", "category": "question", "territory": territory, "text": text,
                "contact": {"name": name, "phone": "+7 913 555-02-17"}} | extra  # fmt: skip
        filed.append(await staged.post(COORDINATOR, f"{CONSULT}/appeals", body))
    await report("demo-1", "ended")
    uploaded = await staged.api.json(
        "POST", "/api/files/files", pbx, params={"kind": "recording", "name": "demo-1.wav"},
        content=wav_bytes(), headers={"Content-Type": "application/octet-stream"}, expect=201,
    )  # fmt: skip
    await report("demo-1", "recording_available", recording_file_id=uploaded["id"])
    await report("demo-2", "dropped", caller="+7 913 555-04-88")
    callback = {"reason": "dropped_call", "due_at": datetime.now(UTC).isoformat()}
    await staged.post(COORDINATOR, f"{CONSULT}/appeals/{filed[-1]['id']}/callbacks", callback)
    return {"appeal": str(filed[0]["id"])}


async def _stage_home_visit(staged: Stage) -> dict[str, str]:
    """The operator's call for a blood draw at home in Tashtagol, on its polyclinic's list."""
    body = {"territory": "32628000", "settlement": "Таштагол", "street": "ул. Ленина",
            "address": "д. 12, кв. 4", "caller_name": "Irina Sergeevna Lebedeva",
            "patient_name": "Valentina Petrovna Lebedeva", "phone": "+7 913 555-04-21",
            "reason": "Blood draw at home: disabled (group I), cannot leave the flat."}  # fmt: skip
    visit = await staged.post(COORDINATOR, f"{CONSULT}/home-visits", body)
    return {"home_visit": str(visit["id"])}


async def _stage_resolution(staged: Stage) -> dict[str, str]:
    """The articles' examples, resolved with what was done: the refused free histology (the
    head physician called, the test given free under OMS and booked; its page is the screen),
    the 65-year-old's urgent appointment moved forward, and the home blood draw for a disabled
    woman."""
    examples = [
        ("refusal_of_free_care", "32701000", "Olga Ivanovna Stepanova",
         "The polyclinic refuses to do the repeat histology free and asks 3,500 roubles for it, "
         "though the oncologist ordered it.",
         sample_resolution(
             actions=["called_head", "arranged_free_care", "booked_appointment"],
             done_by={"name": "Sokolova Elena Viktorovna", "position": "Head physician"})),
        ("waiting_time", "32628000", "Pyotr Semyonovich Lukin",
         "I am 65; the cardiologist said the visit is urgent, but the registry books me in six "
         "weeks.",
         sample_resolution(
             actions=["called_head", "moved_appointment_forward"],
             done_by={"name": "Orlov Dmitry Pavlovich", "position": "Deputy head physician"},
             answer="The deputy head physician moved your cardiologist visit forward: Tuesday "
             "at 09:20, room 12, Tashtagol District Hospital; bring your referral.")),
        ("appointment_help", "32701000", "Irina Viktorovna Zaitseva",
         "My mother has a first-group disability and cannot walk; she needs a blood test the "
         "doctor ordered.",
         sample_resolution(
             actions=["arranged_home_visit"],
             done_by={"name": "Kovaleva Natalia Igorevna", "position": "Head nurse"},
             answer="A nurse of Polyclinic No. 5 will draw the blood at home on Thursday between "
             "08:00 and 10:00 and call an hour before; the results come by text message.")),
    ]  # fmt: skip
    resolved = []
    for category, territory, name, text, resolution in examples:
        body = {"channel": "phone", "category": category, "territory": territory, "text": text,
                "contact": {"name": name, "phone": "+7 913 555-06-32"}}  # fmt: skip
        appeal = await staged.post(COORDINATOR, f"{CONSULT}/appeals", body)
        path = f"{CONSULT}/appeals/{appeal['id']}/resolve"
        cited = {"article_id": await _cited(staged, CITED[category])}
        await staged.post(COORDINATOR, path, resolution | {"answer_by_phone": False} | cited)
        resolved.append(str(appeal["id"]))
    return {"resolved_appeal": resolved[0]}


# The seed's articles each example's answer rests on, found as an operator would search.
CITED = {
    "refusal_of_free_care": "гистология бесплатно",
    "waiting_time": "сроки ожидания специалиста",
    "appointment_help": "анализы на дому",
}


async def _cited(staged: Stage, words: str) -> str:
    found = await staged.api.json(
        "GET", f"{CONSULT}/knowledge/articles", staged.people[COORDINATOR],
        params={"q": words, "language": "ru"},
    )  # fmt: skip
    return str(found["items"][0]["id"])


async def _stage_knowledge(staged: Stage) -> dict[str, str]:
    """Besides the seed's articles for every region, one the coordinator wrote for Kuzbass:
    published, then edited (a second version, the first still readable)."""
    path = f"{CONSULT}/knowledge/articles"
    body = {
        "title": "Кузбасс: забор крови на дому для маломобильных пациентов",
        "language": "ru",
        "categories": ["home_visits"],
        "body": "Поликлиники Кузбасса берут кровь на дому для пациентов, имеющих инвалидность, "
        "по назначению врача.\n\n- Заявку принимает регистратура поликлиники.\n"
        "- Процедурная сестра приходит в течение трёх рабочих дней.",
    }
    article = await staged.post(COORDINATOR, path, body)
    await staged.post(COORDINATOR, f"{path}/{article['id']}/publish")
    edited = f"{body['body']}\n- Результаты анализов врач сообщает по телефону."
    await staged.api.json(
        "PATCH", f"{path}/{article['id']}", staged.people[COORDINATOR],
        json={"version": 2, "body": edited, "note": "Как пациент узнаёт результаты"},
    )  # fmt: skip
    return {"knowledge_article": str(article["id"])}


async def _pbx(staged: Stage, admin: Actor) -> Actor:
    """The coordinator's centre's PBX, an API client an administrator registers."""
    me = await staged.api.json("GET", "/api/directory/me", staged.people[COORDINATOR])
    scopes = ["telephony:events", "files:write", "files:read"]
    body = {"name": "Contact centre PBX", "organization_id": me["organization_id"],
            "scopes": scopes}  # fmt: skip
    client = await staged.api.json(
        "POST", "/api/directory/api-clients", admin, json=body, expect=201
    )
    return await staged.api.client_login("pbx", client["client_id"], client["client_secret"])


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
    """The demo's ICU ward at Tashtagol, which the regional centre watches (the seed makes it:
    telemed/demo/wards.py), with Bed 1's tablet link issued but never used: its alarm rises on
    the overview; Beds 2 and 3 have no source yet and Bed 4 is empty."""
    coordinator = staged.people[WARD_COORDINATOR]
    (ward,) = await staged.api.json("GET", "/api/video/wards", coordinator)
    bed = next(bed["id"] for bed in ward["beds"] if bed["label"] == "Bed 1")
    await staged.post(WARD_COORDINATOR, f"/api/video/wards/{ward['id']}/beds/{bed}/device")
    return {"ward": str(ward["id"])}
