"""The console's screens, each with the demo user who sees it and the way to it: the one list
the weak-link benchmark (bench/web_weak_link.py), the pictures (docs/screenshots.py) and the
test that every screen answers (tests/web/test_screens.py) go through.

A screen is reached at `path`, then by following, on each page in turn, the first link whose
address matches each pattern of `follow` (the demo's ids are not known in advance: a case page
is "the first case in the list"). Adding a screen is one line in `SCREENS`; what it shows must
exist in the demo: `telemed seed --demo` (organisations and people), then `stage` (the cases).
"""

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import httpx

from telemed.demo.steps import CONCLUSION
from telemed.samples import sample_case, sample_patient

MEDIC, SPECIALIST, PATIENT = "medic.tashtagol", "cardiologist.kuzbass", "patient.petrov"
COORDINATOR, REGISTRAR, ADMIN = "coordinator.kuzbass", "registrar.callcentre", "admin"
CASE_LINK = r"^/cases/[0-9a-f-]{36}$"
CONCLUSION_LINK = r"^/cases/[0-9a-f-]{36}/conclusion$"
MONITORED_LINK = r"^/monitoring/[0-9a-f-]{36}$"
CONSULT = "/api/consult"


@dataclass(frozen=True)
class Screen:
    name: str  # also the pictures' file names: docs/pictures/<name>-<language>[-phone].png
    user: str | None  # None: nobody signed in
    path: str
    follow: tuple[str, ...] = ()
    phone: bool = False  # pictured at phone width too: a role's main screen


SCREENS = [
    Screen("sign-in", None, "/"),
    Screen("home-medic", MEDIC, "/"),
    Screen("home-specialist", SPECIALIST, "/"),
    Screen("home-patient", PATIENT, "/", phone=True),
    Screen("home-coordinator", COORDINATOR, "/"),
    Screen("home-registrar", REGISTRAR, "/"),
    Screen("home-admin", ADMIN, "/"),
    Screen("account", MEDIC, "/profile"),
    Screen("cases-medic", MEDIC, "/cases", phone=True),
    Screen("new-case", MEDIC, "/cases/new"),
    Screen("case-medic", MEDIC, "/cases?status=concluded", (CASE_LINK,)),
    Screen("case-draft", MEDIC, "/cases?status=draft", (CASE_LINK,)),  # with the uploader
    Screen("conclusion", MEDIC, "/cases?status=concluded", (CASE_LINK, CONCLUSION_LINK)),
    Screen("queue", SPECIALIST, "/cases", phone=True),
    Screen("case-specialist", SPECIALIST, "/cases?status=submitted", (CASE_LINK,)),
    Screen("monitoring", COORDINATOR, "/monitoring", phone=True),
    Screen("monitoring-enrol", COORDINATOR, "/monitoring/enrol"),
    Screen("monitored-patient", COORDINATOR, "/monitoring", (MONITORED_LINK,)),
    Screen("escalations", COORDINATOR, "/monitoring/tasks"),
    Screen("figures", COORDINATOR, "/figures"),
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


async def _token(client: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    answer = await client.post(
        "/api/auth/token",
        data={"grant_type": "password", "username": username, "password": password},
    )
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def _post(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], **body: object
) -> dict[str, object]:
    answer = await client.post(
        CONSULT + path, json=body or None, headers=headers | {"Idempotency-Key": str(uuid.uuid4())}
    )
    answer.raise_for_status()
    created: dict[str, object] = answer.json()
    return created


async def stage(client: httpx.AsyncClient, passwords: Mapping[str, str]) -> None:
    """The cases the screens show, made through the API as the demo's people would: a medic's
    draft, a case waiting in the cardiologist's queue, and one answered with a signed
    conclusion. `client` talks to the gateway; `passwords` are the demo users'."""
    medic = await _token(client, MEDIC, passwords[MEDIC])
    specialist = await _token(client, SPECIALIST, passwords[SPECIALIST])
    me = await client.get("/api/directory/me", headers=specialist)
    me.raise_for_status()
    centre = str(me.json()["organization_id"])

    def case(reference: str, full_name: str, **overrides: object) -> dict[str, object]:
        patient = sample_patient(reference=reference, full_name=full_name)
        return sample_case(centre, patient=patient, **overrides)

    await _post(client, "/cases", medic, **case("MIS-42-000301", "Orlova Anna Petrovna"))
    waiting = case("MIS-42-000302", "Smirnov Pavel Olegovich", submit=True, urgency="emergency")
    await _post(client, "/cases", medic, **waiting)
    answered = case("MIS-42-000303", "Petrov Sergei Nikolaevich", submit=True)
    answered_id = (await _post(client, "/cases", medic, **answered))["id"]
    for action in ("accept", "start"):
        await _post(client, f"/cases/{answered_id}/{action}", specialist)
    await _post(client, f"/cases/{answered_id}/conclusions", specialist, content=CONCLUSION)
    await _stage_monitoring(client, await _token(client, COORDINATOR, passwords[COORDINATOR]))


async def _stage_monitoring(client: httpx.AsyncClient, coordinator: dict[str, str]) -> None:
    """A pregnant woman under monitoring whose check-in crossed the threshold: an ambulance on
    the escalations screen."""
    enrolment = await _post(
        client,
        "/monitoring/enrolments",
        coordinator,
        programme="pregnancy_high_risk",
        patient=sample_patient(
            reference="MIS-42-000304",
            full_name="Ivanova Anna Sergeevna",
            sex="female",
            birth_date="1994-06-01",
        ),
        contact_phone="+7 913 555-01-23",
        indication="Week 32, chronic hypertension, pre-eclampsia in the last pregnancy.",
    )
    await _post(
        client,
        f"/monitoring/enrolments/{enrolment['id']}/check-ins",
        coordinator,
        vital_signs={"systolic_bp": 165, "diastolic_bp": 95, "heart_rate": 88},
        symptoms=["severe_headache"],
        wellbeing="worse",
    )
