"""Monitoring of at-risk patients through the gateway: enrolment by the responsible
organisation, check-ins by its operator or the patient, thresholds that create an urgent home
visit or ambulance task for that organisation, the day's due check-ins in its time zone,
overdue check-ins, discharge; and everyone else refused."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.common.db import Database
from services.consult.db import KERNEL_TABLES
from tests.conftest import Actor, Stack
from tests.scheduling.conftest import Clock, assert_problem

MONITORING = "/api/consult/monitoring"
# A Monday, 13:00 UTC: 15:00 in Kaliningrad (UTC+2), already 01:00 on Tuesday in Kamchatka
# (UTC+12).
NOW = datetime(2025, 10, 20, 13, 0, tzinfo=UTC)
NORMAL = {"systolic_bp": 120, "diastolic_bp": 80, "heart_rate": 80, "temperature_c": 36.7}


@dataclass
class Ward:
    stack: Stack
    clock: Clock
    hospital: dict[str, Any]  # Kaliningrad, region 39: responsible for the patients
    far_hospital: dict[str, Any]  # Kamchatka, region 41
    operator: Actor
    second_operator: Actor
    doctor: Actor
    neighbour_operator: Actor  # another organisation of the same region
    far_operator: Actor
    patient: Actor
    other_patient: Actor

    @property
    def client(self) -> httpx.AsyncClient:
        return self.stack.client

    def body(self, **overrides: Any) -> dict[str, Any]:
        body = {
            "programme": "pregnancy_high_risk",
            "patient": {
                "reference": "MIS-39-000042",
                "full_name": "Ivanova Anna Sergeevna",
                "birth_date": "1994-06-01",
                "sex": "female",
                "insurance_policy": "3950000000000042",
            },
            "patient_id": str(self.patient.id),
            "contact_phone": "+7 911 555-01-23",
            "indication": "Week 32, chronic hypertension, pre-eclampsia in the last pregnancy.",
        }
        return body | overrides

    async def enrol(self, actor: Actor | None = None, **overrides: Any) -> httpx.Response:
        return await self.client.post(
            f"{MONITORING}/enrolments",
            json=self.body(**overrides),
            headers=(actor or self.operator).headers,
        )

    async def enrolled(self, actor: Actor | None = None, **overrides: Any) -> dict[str, Any]:
        response = await self.enrol(actor, **overrides)
        assert response.status_code == 201, response.text
        enrolment: dict[str, Any] = response.json()
        return enrolment

    async def check_in(
        self, actor: Actor, enrolment_id: str, vitals: dict[str, Any], **body: Any
    ) -> httpx.Response:
        return await self.client.post(
            f"{MONITORING}/enrolments/{enrolment_id}/check-ins",
            json={"vital_signs": vitals, "wellbeing": "same"} | body,
            headers=actor.headers,
        )

    async def get(self, actor: Actor, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(f"{MONITORING}{path}", params=params, headers=actor.headers)

    async def post(self, actor: Actor, path: str, body: Any) -> httpx.Response:
        return await self.client.post(f"{MONITORING}{path}", json=body, headers=actor.headers)

    async def denials(self) -> list[tuple[str, str | None]]:
        database: Database = self.stack.apps["consult"].state.database
        records = KERNEL_TABLES.audit.records
        query = select(records).where(
            records.c.resource_type == "monitoring_enrolment", records.c.outcome == "denied"
        )
        async with database.sessionmaker() as session:
            rows = (await session.execute(query)).mappings()
            return [(row["action"], row["actor_id"]) for row in rows]


@pytest.fixture
async def ward(stack: Stack) -> Ward:
    clock = Clock(NOW)
    stack.apps["consult"].state.clock = clock
    hospital = await stack.organization(region="39", timezone="Europe/Kaliningrad")
    neighbour = await stack.organization(region="39", timezone="Europe/Kaliningrad")
    far_hospital = await stack.organization(region="41", timezone="Asia/Kamchatka")
    return Ward(
        stack=stack,
        clock=clock,
        hospital=hospital,
        far_hospital=far_hospital,
        operator=await stack.actor("coordinator", hospital),
        second_operator=await stack.actor("coordinator", hospital),
        doctor=await stack.actor("district_medic", hospital),
        neighbour_operator=await stack.actor("coordinator", neighbour),
        far_operator=await stack.actor("coordinator", far_hospital),
        patient=await stack.actor("patient", hospital),
        other_patient=await stack.actor("patient", hospital),
    )


async def test_the_responsible_organisation_enrols_a_patient(ward: Ward) -> None:
    programmes = (await ward.get(ward.patient, "/programmes")).json()
    assert {programme["key"] for programme in programmes} == {
        "home_treatment",
        "pregnancy_high_risk",
    }
    response = await ward.enrol()
    assert response.status_code == 201, response.text
    enrolment = response.json()
    assert response.headers["location"] == f"{MONITORING}/enrolments/{enrolment['id']}"
    assert enrolment["organization_id"] == ward.hospital["id"]
    assert enrolment["operator_id"] == str(ward.operator.id)  # the enrolling operator calls
    assert enrolment["interval_hours"] == 24
    assert datetime.fromisoformat(enrolment["next_due_at"]) == NOW + timedelta(hours=24)
    assert (enrolment["status"], enrolment["overdue"]) == ("active", False)
    # One active enrolment per patient and programme; another programme is another matter.
    assert_problem(await ward.enrol(ward.doctor), 409)
    by_doctor = await ward.enrolled(ward.doctor, programme="home_treatment", interval_hours=12)
    assert (by_doctor["operator_id"], by_doctor["interval_hours"]) == (None, 12)
    assert_problem(await ward.enrol(programme="dialysis"), 422)
    past = (NOW - timedelta(hours=1)).isoformat()
    assert_problem(await ward.enrol(first_check_in_due_at=past, programme="home_treatment"), 422)
    assert_problem(await ward.enrol(ward.patient), 403)
    assert_problem(await ward.enrol(contact_phone="call me"), 422)


async def test_a_worsening_check_in_creates_an_urgent_task_for_the_responsible_organisation(
    ward: Ward,
) -> None:
    enrolment = await ward.enrolled()
    calm = await ward.check_in(ward.patient, enrolment["id"], NORMAL | {"systolic_bp": 139})
    assert calm.status_code == 201, calm.text
    assert (calm.json()["escalation"], calm.json()["task_id"]) == (None, None)

    ward.clock.advance(hours=24)
    high = NORMAL | {"systolic_bp": 146, "diastolic_bp": 94}
    response = await ward.check_in(ward.operator, enrolment["id"], high)
    assert response.status_code == 201, response.text
    worse = response.json()
    assert worse["escalation"] == "home_visit"
    assert sorted(worse["fired_rules"]) == ["diastolic_hypertension", "systolic_hypertension"]
    tasks = (await ward.get(ward.operator, "/tasks", status="open")).json()
    assert [task["id"] for task in tasks] == [worse["task_id"]]
    task = tasks[0]
    assert (task["kind"], task["urgency"], task["status"]) == ("home_visit", "urgent", "open")
    assert task["organization_id"] == ward.hospital["id"]
    assert (task["patient_full_name"], task["contact_phone"]) == (
        "Ivanova Anna Sergeevna",
        "+7 911 555-01-23",
    )
    assert (await ward.get(ward.far_operator, "/tasks")).json() == []
    assert (await ward.get(ward.neighbour_operator, "/tasks")).json() == []

    # As bad again before the visit: the open visit covers it, no second task.
    ward.clock.advance(hours=1)
    again = await ward.check_in(ward.patient, enrolment["id"], high)
    assert again.json()["task_id"] == worse["task_id"]
    # Worse: severe features of pre-eclampsia call an ambulance, an emergency.
    signs = ["severe_headache", "visual_disturbance"]
    ward.clock.advance(hours=1)
    severe = await ward.check_in(ward.patient, enrolment["id"], high, symptoms=signs)
    assert severe.json()["escalation"] == "ambulance"
    assert "headache_with_visual_disturbance" in severe.json()["fired_rules"]
    ambulance = severe.json()["task_id"]
    assert ambulance != worse["task_id"]
    tasks = {task["id"]: task for task in (await ward.get(ward.doctor, "/tasks")).json()}
    assert (tasks[ambulance]["kind"], tasks[ambulance]["urgency"]) == ("ambulance", "emergency")

    done = await ward.post(ward.operator, f"/tasks/{ambulance}/complete", {"outcome": "Taken in."})
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["completed_by"]) == ("done", str(ward.operator.id))
    again_done = await ward.post(ward.operator, f"/tasks/{ambulance}/complete", {"outcome": "x"})
    assert_problem(again_done, 409)
    history = (await ward.get(ward.patient, f"/enrolments/{enrolment['id']}/check-ins")).json()
    assert [entry["escalation"] for entry in history] == [
        "ambulance",
        "home_visit",
        "home_visit",
        None,
    ]


async def test_fever_escalates_on_the_third_day_and_low_oxygen_at_once(ward: Ward) -> None:
    enrolment = await ward.enrolled(programme="home_treatment")
    fever = {"temperature_c": 38.7, "spo2": 97}
    for day in range(2):
        response = await ward.check_in(ward.operator, enrolment["id"], fever)
        assert response.json()["escalation"] is None, f"day {day + 1}"
        ward.clock.advance(hours=24)
    third = await ward.check_in(ward.operator, enrolment["id"], fever)
    assert third.json()["escalation"] == "home_visit"
    assert third.json()["fired_rules"] == ["persistent_fever"]

    other = await ward.enrolled(
        programme="home_treatment", patient=ward.body()["patient"] | {"reference": "MIS-39-7"}
    )
    breathless = await ward.check_in(
        ward.operator, other["id"], {"spo2": 92}, symptoms=["breathing_difficulty"]
    )
    assert breathless.json()["escalation"] == "ambulance"
    assert sorted(breathless.json()["fired_rules"]) == ["breathing_difficulty", "hypoxaemia"]


@pytest.mark.parametrize(
    ("vitals", "extra"),
    [
        ({"temperature_c": 98.6}, {}),  # Fahrenheit where Celsius is asked
        ({"spo2": 101}, {}),
        ({"systolic_bp": 400}, {}),
        ({"systolic_bp": 90, "diastolic_bp": 120}, {}),
        ({"heart_rate": "fast"}, {}),
        ({"weight_kg": 70}, {}),
        ({}, {"symptoms": ["high_fever"]}),  # not a question of this programme
        ({}, {"symptoms": ["Bleeding!"]}),
        ({}, {"wellbeing": "fine"}),
    ],
)
async def test_check_ins_are_validated(
    ward: Ward, vitals: dict[str, Any], extra: dict[str, Any]
) -> None:
    enrolment = await ward.enrolled()
    response = await ward.check_in(ward.operator, enrolment["id"], vitals, **extra)
    assert_problem(response, 422)
    history = (await ward.get(ward.operator, f"/enrolments/{enrolment['id']}/check-ins")).json()
    assert history == []


async def test_the_days_due_check_ins_are_counted_in_each_organisations_time_zone(
    ward: Ward,
) -> None:
    # Tuesday 06:00 UTC is Tuesday in Kamchatka, today there; Kaliningrad is still on Monday.
    tuesday_morning = "2025-10-21T06:00:00+00:00"
    monday_evening = "2025-10-20T21:00:00+00:00"  # 23:00 in Kaliningrad
    here = await ward.enrolled(first_check_in_due_at=tuesday_morning)
    tonight = await ward.enrolled(
        first_check_in_due_at=monday_evening,
        operator_id=str(ward.second_operator.id),
        patient=ward.body()["patient"] | {"reference": "MIS-39-000043"},
    )
    there = await ward.enrolled(
        ward.far_operator, first_check_in_due_at=tuesday_morning, patient_id=None
    )

    due_here = (await ward.get(ward.operator, "/due")).json()
    assert (due_here["timezone"], due_here["day"]) == ("Europe/Kaliningrad", "2025-10-20")
    assert [item["enrolment_id"] for item in due_here["items"]] == [tonight["id"]]
    assert due_here["items"][0]["operator_id"] == str(ward.second_operator.id)
    mine = (await ward.get(ward.operator, "/due", operator_id=str(ward.operator.id))).json()
    assert mine["items"] == []
    due_there = (await ward.get(ward.far_operator, "/due")).json()
    assert (due_there["timezone"], due_there["day"]) == ("Asia/Kamchatka", "2025-10-21")
    assert [item["enrolment_id"] for item in due_there["items"]] == [there["id"]]

    ward.clock.advance(hours=12)  # Tuesday 01:00 UTC: Tuesday in Kaliningrad too
    due_here = (await ward.get(ward.operator, "/due")).json()
    assert due_here["day"] == "2025-10-21"
    assert [item["enrolment_id"] for item in due_here["items"]] == [tonight["id"], here["id"]]


async def test_a_patient_in_another_zone_is_due_by_the_end_of_their_own_day(
    ward: Ward,
) -> None:
    # Tuesday 06:00 UTC: already today for a patient in Kamchatka (Tuesday 01:00 there), not
    # yet for the Kaliningrad hospital watching her (Monday 15:00).
    tuesday_morning = "2025-10-21T06:00:00+00:00"
    far_patient = await ward.enrolled(
        first_check_in_due_at=tuesday_morning, patient_timezone="Asia/Kamchatka"
    )
    assert far_patient["patient_timezone"] == "Asia/Kamchatka"
    near_patient = await ward.enrolled(
        first_check_in_due_at=tuesday_morning,
        patient=ward.body()["patient"] | {"reference": "MIS-39-000043"},
        patient_id=None,
    )
    assert near_patient["patient_timezone"] is None

    due = (await ward.get(ward.operator, "/due")).json()
    assert (due["timezone"], due["day"]) == ("Europe/Kaliningrad", "2025-10-20")
    assert [(item["enrolment_id"], item["timezone"], item["day"]) for item in due["items"]] == [
        (far_patient["id"], "Asia/Kamchatka", "2025-10-21")
    ]
    assert_problem(
        await ward.enrol(patient_timezone="Mars/Olympus", programme="home_treatment"), 422
    )


async def test_a_missed_check_in_is_overdue_until_it_is_made(ward: Ward) -> None:
    soon = (NOW + timedelta(hours=1)).isoformat()
    enrolment = await ward.enrolled(first_check_in_due_at=soon)
    ward.clock.advance(hours=3)
    read = (await ward.get(ward.operator, f"/enrolments/{enrolment['id']}")).json()
    assert read["overdue"] is True
    due = (await ward.get(ward.operator, "/due")).json()["items"]
    assert [(item["enrolment_id"], item["overdue"]) for item in due] == [(enrolment["id"], True)]
    made = await ward.check_in(ward.operator, enrolment["id"], NORMAL)
    assert made.status_code == 201, made.text
    read = (await ward.get(ward.patient, f"/enrolments/{enrolment['id']}")).json()
    assert read["overdue"] is False
    assert datetime.fromisoformat(read["next_due_at"]) == ward.clock.now + timedelta(hours=24)
    assert (await ward.get(ward.operator, "/due")).json()["items"] == []


async def test_discharge_gives_a_reason_and_ends_the_check_ins(ward: Ward) -> None:
    enrolment = await ward.enrolled()
    path = f"/enrolments/{enrolment['id']}/discharge"
    assert_problem(await ward.post(ward.patient, path, {"reason": "recovered"}), 403)
    assert_problem(await ward.post(ward.doctor, path, {"reason": "bored"}), 422)
    body = {"reason": "delivered", "note": "Delivered at 38 weeks, both well."}
    response = await ward.post(ward.doctor, path, body)
    assert response.status_code == 200, response.text
    discharged = response.json()
    assert (discharged["status"], discharged["discharge_reason"]) == ("discharged", "delivered")
    assert discharged["discharged_by"] == str(ward.doctor.id)
    assert discharged["overdue"] is False
    assert_problem(await ward.post(ward.doctor, path, body), 409)
    assert_problem(await ward.check_in(ward.patient, enrolment["id"], NORMAL), 409)
    ward.clock.advance(days=2)
    assert (await ward.get(ward.operator, "/due")).json()["items"] == []
    await ward.enrolled()  # under monitoring again, in a new enrolment


async def test_only_the_responsible_organisation_and_the_patient_see_the_monitoring(
    ward: Ward,
) -> None:
    enrolment = await ward.enrolled()
    path = f"/enrolments/{enrolment['id']}"
    for stranger in (ward.neighbour_operator, ward.far_operator, ward.other_patient):
        assert_problem(await ward.get(stranger, path), 404)
        assert_problem(await ward.get(stranger, f"{path}/check-ins"), 404)
        assert_problem(await ward.check_in(stranger, enrolment["id"], NORMAL), 404)
        assert_problem(await ward.post(stranger, f"{path}/discharge", {"reason": "died"}), 404)
    assert (await ward.get(ward.patient, path)).status_code == 200
    own = (await ward.get(ward.patient, "/enrolments")).json()
    assert [item["id"] for item in own] == [enrolment["id"]]
    assert (await ward.get(ward.other_patient, "/enrolments")).json() == []
    assert (await ward.get(ward.neighbour_operator, "/enrolments")).json() == []
    assert [item["id"] for item in (await ward.get(ward.doctor, "/enrolments")).json()] == [
        enrolment["id"]
    ]
    for listing in ("/due", "/tasks"):
        assert_problem(await ward.get(ward.patient, listing), 403)

    worse = await ward.check_in(ward.patient, enrolment["id"], NORMAL | {"systolic_bp": 165})
    task_id = worse.json()["task_id"]
    outsider = await ward.post(ward.far_operator, f"/tasks/{task_id}/complete", {"outcome": "x"})
    assert_problem(outsider, 404)
    denials = await ward.denials()
    assert ("monitoring.read", str(ward.other_patient.id)) in denials
    assert ("monitoring.check_in", str(ward.neighbour_operator.id)) in denials
    assert ("monitoring.complete_task", str(ward.far_operator.id)) in denials


async def test_the_patient_and_operator_named_are_the_organisations_own(ward: Ward) -> None:
    neighbours = await ward.stack.organization(region="39", timezone="Europe/Kaliningrad")
    strangers = {
        "a random id": str(uuid.uuid4()),
        "a coordinator": str(ward.second_operator.id),
        "another organisation's patient": str((await ward.stack.actor("patient", neighbours)).id),
    }
    for who, patient_id in strangers.items():
        problem = assert_problem(await ward.enrol(patient_id=patient_id), 422)
        assert problem["detail"] == f"No patient {patient_id} of your organisation.", who
        assert problem["errors"][0]["loc"] == ["body", "patient_id"], who
    for who, operator_id in {
        "a random id": str(uuid.uuid4()),
        "a doctor": str(ward.doctor.id),
        "another organisation's operator": str(ward.neighbour_operator.id),
    }.items():
        problem = assert_problem(await ward.enrol(operator_id=operator_id), 422)
        assert problem["errors"][0]["loc"] == ["body", "operator_id"], who
    # The neighbour's operator sees region 39 in the directory; our patient is still not theirs.
    foreign = await ward.enrol(ward.neighbour_operator)
    assert assert_problem(foreign, 422)["errors"][0]["loc"] == ["body", "patient_id"]
    assert (await ward.get(ward.operator, "/enrolments")).json() == []  # nothing stored
    assert (await ward.get(ward.neighbour_operator, "/enrolments")).json() == []
    denials = await ward.denials()
    assert denials.count(("monitoring.enrol", str(ward.operator.id))) == 6
    assert ("monitoring.enrol", str(ward.neighbour_operator.id)) in denials

    enrolment = await ward.enrolled(operator_id=str(ward.second_operator.id))
    assert enrolment["patient_id"] == str(ward.patient.id)
    assert enrolment["operator_id"] == str(ward.second_operator.id)
