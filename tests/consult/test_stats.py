"""The figures: a fixed data set written straight into the consult database, the figures the
API gives for it checked against values worked out by hand, the same figures once the days are
rolled up and on `/metrics`, and every refusal.

The clock stands at Friday 20 March 2026, 12:00 UTC; the reporting zone is UTC, so the default
period (30 days) is 19 February to 20 March. Region 42 has the district hospital H (appeals,
callbacks, monitoring) and the regional centre C (consultations); region 54 has its own centre.
"""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from services.common.db import Database
from services.consult.appeals.enums import (
    AppealCategory,
    AppealChannel,
    AppealEventKind,
    AppealStatus,
    CallbackReason,
    CallbackStatus,
    ResolutionAction,
    ResolutionResult,
)
from services.consult.appeals.models import Appeal, AppealEvent, Callback, Resolution
from services.consult.cases.enums import CaseKind, CaseStatus, ConsultationMode, MessageKind
from services.consult.cases.models import Case, Message
from services.consult.db import KERNEL_TABLES
from services.consult.monitoring.enums import EnrolmentStatus, EscalationKind, TaskStatus, Wellbeing
from services.consult.monitoring.models import CheckIn, Enrolment, Task
from services.consult.stats.gauges import refresh
from services.consult.stats.models import StatsDay, StatsMonth
from services.consult.values import Sex, Urgency
from tests.conftest import Actor, Stack, running_stack
from tests.consult.conftest import CONSULT, World, _api_client
from tests.scheduling.conftest import assert_problem

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
MINUTE, HOUR = 60, 3600
E = AppealEventKind


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def later(moment: datetime, seconds: float) -> datetime:
    return moment + timedelta(seconds=seconds)


@pytest.fixture
async def stack(clean_databases: dict[str, str], tmp_path: Path) -> AsyncIterator[Stack]:
    """The background jobs pushed an hour away: only the tests roll up, when they choose."""
    overrides = {
        "consult": {"stats_interval_seconds": 3600.0, "appeal_escalation_interval_seconds": 3600.0}
    }
    async with running_stack(clean_databases, tmp_path, overrides) as running:
        running.apps["consult"].state.clock = lambda: NOW
        yield running


class DataSet:
    """Builds the rows; ids of the organisations and people come from the world."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.hospital = uuid.UUID(world.hospital["id"])
        self.centre = uuid.UUID(world.centre["id"])
        assert world.far_coordinator.organization_id is not None
        self.far_centre = world.far_coordinator.organization_id
        # Written in three steps, each referring to rows of the steps before.
        self.rows: list[Any] = []
        self.details: list[Any] = []
        self.tasks: list[Any] = []

    def case(
        self,
        specialty: str,
        submitted: datetime | None,
        status: CaseStatus,
        due: datetime,
        *,
        region: str = "42",
        accepted: datetime | None = None,
        concluded: datetime | None = None,
        closed: datetime | None = None,
    ) -> Case:
        case = Case(
            id=uuid.uuid4(),
            kind=CaseKind.DOCTOR_TO_DOCTOR,
            status=status,
            requester_id=self.world.medic.id,
            requesting_organization_id=self.hospital,
            target_organization_id=self.centre if region == "42" else self.far_centre,
            specialty=specialty,
            region=region,
            patient_reference="MIS-42-000123",
            patient_full_name="Petrov Ivan Sergeevich",
            patient_birth_date=date(1961, 4, 12),
            patient_sex=Sex.MALE,
            patient_insurance_policy="4250000000000123",
            urgency=Urgency.URGENT,
            mode=ConsultationMode.WRITTEN,
            question="Is transfer for PCI indicated?",
            summary={},
            attachment_ids=[],
            attachments=[],
            worsening_signs=[],
            flagged=False,
            due_at=due,
            submitted_at=submitted,
            accepted_at=accepted,
            concluded_at=concluded,
            closed_at=closed or concluded,
            created_at=submitted or NOW,
            updated_at=NOW,
        )
        self.rows.append(case)
        return case

    def message(self, case: Case, author: Actor, moment: datetime) -> None:
        kind = MessageKind.INFO_REQUEST if author.role == "specialist" else MessageKind.COMMENT
        self.details.append(
            Message(
                case_id=case.id,
                author_id=author.id,
                author_role=author.role,
                kind=kind,
                text="Please add the ECG.",
                created_at=moment,
            )
        )

    def appeal(
        self,
        received: datetime,
        status: AppealStatus,
        due: datetime,
        *,
        region: str = "42",
        organization: uuid.UUID | None = None,
        resolved: datetime | None = None,
        first_contact: bool | None = None,
        events: tuple[tuple[AppealEventKind, float, str | None], ...] = (),
        channel: AppealChannel = AppealChannel.PHONE,
    ) -> Appeal:
        """`events`: (kind, seconds after receipt, the actor's role or None for the system)."""
        appeal = Appeal(
            id=uuid.uuid4(),
            region=region,
            channel=channel,
            category=AppealCategory.QUESTION,
            status=status,
            contact_name="Sidorova Maria Petrovna",
            contact_phone="+7 913 123-45-67",
            territory_code="32731000",
            text="Is a repeat histology free under the OMS policy?",
            organization_id=organization,
            created_by=self.world.coordinator.id,
            created_by_role="coordinator",
            received_at=received,
            clock_starts_at=received,
            due_at=due,
            first_contact_resolution=first_contact,
            resolved_at=resolved,
            closed_at=resolved,
            created_at=received,
            updated_at=NOW,
        )
        self.rows.append(appeal)
        for kind, seconds, role in ((E.RECEIVED, 0, "coordinator"), *events):
            self.details.append(
                AppealEvent(
                    appeal_id=appeal.id,
                    kind=kind,
                    at=later(received, seconds),
                    actor_id=self.world.coordinator.id if role else None,
                    actor_role=role,
                )
            )
        return appeal

    def callback(
        self,
        appeal: Appeal,
        organization: uuid.UUID,
        status: CallbackStatus,
        due: datetime,
        closed: datetime | None = None,
    ) -> None:
        self.details.append(
            Callback(
                id=uuid.uuid4(),
                appeal_id=appeal.id,
                region=appeal.region,
                organization_id=organization,
                created_by=self.world.coordinator.id,
                phone="+7 913 123-45-67",
                reason=CallbackReason.DROPPED_CALL,
                status=status,
                due_at=due,
                attempts=0 if status is CallbackStatus.PENDING else 1,
                max_attempts=3,
                closed_at=closed,
                created_at=appeal.received_at,
                updated_at=NOW,
            )
        )

    def resolution(
        self, appeal: Appeal, result: ResolutionResult, *actions: ResolutionAction
    ) -> None:
        assert appeal.organization_id is not None
        assert appeal.resolved_at is not None
        self.details.append(
            Resolution(
                appeal_id=appeal.id,
                actions=[action.value for action in actions],
                organization_id=appeal.organization_id,
                person_name="Petrova Anna Sergeevna",
                person_position="Head of the hospital",
                result=result,
                result_reason="To the insurer, for a quality-of-care check."
                if result is ResolutionResult.REFERRED
                else None,
                recorded_by=self.world.coordinator.id,
                created_at=appeal.resolved_at,
            )
        )

    def enrolment(
        self,
        organization: uuid.UUID,
        patient: str,
        programme: str,
        enrolled: datetime,
        discharged: datetime | None = None,
    ) -> Enrolment:
        enrolment = Enrolment(
            id=uuid.uuid4(),
            programme=programme,
            status=EnrolmentStatus.DISCHARGED if discharged else EnrolmentStatus.ACTIVE,
            organization_id=organization,
            patient_reference=patient,
            patient_full_name="Ivanova Anna",
            patient_birth_date=date(1950, 1, 1),
            patient_sex=Sex.FEMALE,
            patient_insurance_policy="4250000000000999",
            contact_phone="+7 913 000-00-00",
            indication="Heart failure after discharge.",
            interval_hours=24,
            enrolled_by=self.world.coordinator.id,
            enrolled_at=enrolled,
            next_due_at=NOW,
            discharged_at=discharged,
            created_at=enrolled,
            updated_at=NOW,
        )
        self.rows.append(enrolment)
        return enrolment

    def escalation(self, enrolment: Enrolment, kind: EscalationKind, moment: datetime) -> None:
        check_in = CheckIn(
            id=uuid.uuid4(),
            enrolment_id=enrolment.id,
            checked_at=moment,
            recorded_by=self.world.coordinator.id,
            recorder_role="coordinator",
            vital_signs={"spo2": 88},
            symptoms=["shortness_of_breath"],
            wellbeing=Wellbeing.WORSE,
            note="Worse since the morning.",
            escalation=kind,
            fired_rules=["spo2_low"],
        )
        task = Task(
            id=uuid.uuid4(),
            enrolment_id=enrolment.id,
            check_in_id=check_in.id,
            organization_id=enrolment.organization_id,
            kind=kind,
            urgency=Urgency.URGENT,
            status=TaskStatus.OPEN,
            reasons=["spo2_low"],
            created_at=moment,
        )
        self.details.append(check_in)
        self.tasks.append(task)

    async def store(self, database: Database) -> None:
        async with database.sessionmaker() as session:
            for rows in (self.rows, self.details, self.tasks):
                session.add_all(rows)
                await session.flush()
            await session.commit()


def build(world: World) -> DataSet:
    data = DataSet(world)
    s = CaseStatus
    cardiology, neurology = "cardiology", "neurology"
    # Cardiology at the centre: four cases in the period, one before it still open.
    c1 = data.case(cardiology, at(3, 2, 9), s.CONCLUDED, at(3, 3, 9),
                   accepted=at(3, 2, 9, 10), concluded=at(3, 2, 11))  # fmt: skip
    data.message(c1, world.medic, at(3, 2, 9, 5))  # the requester's own: no response
    c2 = data.case(cardiology, at(3, 3, 9), s.CONCLUDED, at(3, 4, 9),
                   accepted=at(3, 3, 10), concluded=at(3, 4, 15))  # fmt: skip
    data.message(c2, world.cardiologist, at(3, 3, 9, 20))  # a question first: the response
    data.case(cardiology, at(3, 4, 9), s.IN_PROGRESS, at(3, 5, 9), accepted=at(3, 4, 9, 40))
    data.case(cardiology, at(3, 5, 9), s.DECLINED, at(3, 6, 9), closed=at(3, 5, 10, 20))
    data.case(cardiology, at(2, 10, 9), s.IN_PROGRESS, at(2, 11, 9), accepted=at(2, 10, 10))
    data.case(cardiology, None, s.DRAFT, at(3, 21, 9))  # a draft counts for nothing
    # Neurology at the centre: one concluded in time.
    data.case(neurology, at(3, 6, 10), s.CONCLUDED, at(3, 7, 10),
              accepted=at(3, 6, 10, 30), concluded=at(3, 6, 14))  # fmt: skip
    # Region 54's centre: none of region 42's business.
    data.case(cardiology, at(3, 7, 9), s.CONCLUDED, at(3, 8, 9),
              region="54", accepted=at(3, 7, 9, 5), concluded=at(3, 7, 12))  # fmt: skip

    a, h = AppealStatus, data.hospital
    coordinator, patient = "coordinator", "patient"
    # Resolved on the call in 5 minutes; called back in time after the line dropped.
    a1 = data.appeal(at(3, 2, 10), a.RESOLVED, at(3, 2, 14), organization=h,
                     resolved=at(3, 2, 10, 5), first_contact=True,
                     events=((E.ROUTED, 0, None),
                             (E.RESOLVED, 5 * MINUTE, coordinator)))  # fmt: skip
    data.callback(a1, h, CallbackStatus.REACHED, at(3, 2, 10, 20), at(3, 2, 10, 10))
    act, result = ResolutionAction, ResolutionResult
    data.resolution(a1, result.RESOLVED, act.GAVE_INFORMATION)
    # Taken after 15 minutes, resolved after 3 hours; H's callback late, the centre's in time.
    a2 = data.appeal(at(3, 2, 11), a.RESOLVED, at(3, 2, 15), organization=h,
                     resolved=at(3, 2, 14), first_contact=False, channel=AppealChannel.CHAT,
                     events=((E.TAKEN, 15 * MINUTE, coordinator),
                             (E.RESOLVED, 3 * HOUR, coordinator)))  # fmt: skip
    data.callback(a2, h, CallbackStatus.FAILED, at(3, 2, 13, 30), at(3, 2, 14))
    data.callback(a2, data.centre, CallbackStatus.REACHED, at(3, 2, 11, 20), at(3, 2, 11, 10))
    data.resolution(a2, result.RESOLVED, act.CALLED_HEAD, act.BOOKED_APPOINTMENT)
    # Taken after 30 minutes, escalated when overdue, resolved after 30 hours.
    a3 = data.appeal(at(3, 3, 10), a.RESOLVED, at(3, 4, 10), organization=h,
                     resolved=at(3, 4, 16), first_contact=False,
                     events=((E.TAKEN, 30 * MINUTE, coordinator), (E.ESCALATED, 25 * HOUR, None),
                             (E.RESOLVED, 30 * HOUR, coordinator)))  # fmt: skip
    data.callback(a3, h, CallbackStatus.CANCELLED, at(3, 3, 10, 15), at(3, 4, 16))
    data.resolution(a3, result.REFERRED, act.CALLED_HEAD, act.REFERRED_TO_INSURER)
    # Passed to H from elsewhere and never answered: overdue, its callback too.
    a4 = data.appeal(at(3, 12, 10), a.ROUTED, at(3, 13, 10), organization=h,
                     events=((E.REASSIGNED, HOUR, coordinator),))  # fmt: skip
    data.callback(a4, h, CallbackStatus.PENDING, at(3, 13, 9))
    # Told at once where to go; withdrawn by the patient: neither has a deadline to meet.
    data.appeal(at(3, 5, 10), a.REDIRECTED, at(3, 5, 14), organization=h,
                events=((E.REDIRECTED, 0, coordinator),), channel=AppealChannel.WEB)  # fmt: skip
    data.appeal(at(3, 6, 10), a.CLOSED, at(3, 6, 14), organization=h,
                events=((E.CLOSED, 2 * HOUR, patient),))  # fmt: skip
    # Today's, for no territory on the map: nobody's yet, and due at once.
    data.appeal(at(3, 20, 9), a.NEW, at(3, 20, 9))
    # Before the period, still open; and region 54's.
    data.appeal(at(2, 10, 10), a.ROUTED, at(2, 11, 10), organization=h)
    data.appeal(at(3, 7, 10), a.ROUTED, at(3, 8, 10), region="54", organization=data.far_centre)

    # H monitors patient 1 (two programmes, one since the period), had patient 2 until
    # 5 March and patient 3 until before the period; region 54's centre one of its own.
    first = data.enrolment(h, "P-1", "heart_failure", at(2, 15, 9))
    data.enrolment(h, "P-1", "diabetes", at(3, 10, 9))
    data.enrolment(h, "P-2", "heart_failure", at(2, 1, 9), discharged=at(3, 5, 9))
    data.enrolment(h, "P-3", "heart_failure", at(1, 20, 9), discharged=at(2, 15, 9))
    data.enrolment(data.far_centre, "P-9", "heart_failure", at(3, 1, 9))
    data.escalation(first, EscalationKind.HOME_VISIT, at(3, 8, 9))
    data.escalation(first, EscalationKind.AMBULANCE, at(3, 9, 9))
    data.escalation(first, EscalationKind.HOME_VISIT, at(2, 12, 9))  # before the period
    return data


@pytest.fixture
async def data(world: World) -> DataSet:
    built = build(world)
    await built.store(database(world))
    return built


def database(world: World) -> Database:
    consult: Database = world.stack.apps["consult"].state.database
    return consult


async def get_stats(world: World, actor: Actor, **params: Any) -> httpx.Response:
    return await world.stack.client.get(f"{CONSULT}/stats", params=params, headers=actor.headers)


async def figures(world: World, actor: Actor, **params: Any) -> dict[str, Any]:
    response = await get_stats(world, actor, **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def percentiles(measured: int, median: float | None, p90: float | None) -> dict[str, Any]:
    """As the API gives them, to the millisecond."""
    rounded = [None if value is None else round(value, 3) for value in (median, p90)]
    return {"measured": measured, "median_seconds": rounded[0], "p90_seconds": rounded[1]}


def rate(count: int, of: int) -> dict[str, Any]:
    return {"count": count, "of": of, "ratio": count / of if of else None}


def channels(phone: int = 0, chat: int = 0, web: int = 0, api: int = 0) -> dict[str, int]:
    return {"phone": phone, "chat": chat, "web": web, "api": api}


def resolutions(results: dict[str, int] | None = None, **actions: int) -> dict[str, dict[str, int]]:
    """Every action and result counted, those not named none."""
    return {
        "by_action": {action.value: actions.get(action.value, 0) for action in ResolutionAction},
        "by_result": {
            result.value: (results or {}).get(result.value, 0) for result in ResolutionResult
        },
    }


# The hand-worked figures of region 42 over the default period.
CARDIOLOGY = {
    "submitted": 4,  # 2, 3, 4 and 5 March; 10 February's is before the period
    "concluded": 2,
    # First answers: accepted after 10 min (the medic's comment at 5 does not count), a
    # question after 20, accepted after 40, declined after 80: [600, 1200, 2400, 4800] s.
    # Median (1200 + 2400) / 2; p90 at rank 0.9 * 3 = 2.7: 2400 + 0.7 * (4800 - 2400).
    "first_response": percentiles(4, (1200 + 2400) / 2, 2400 + 0.7 * (4800 - 2400)),
    # Concluded after 2 h and 30 h: [7200, 108000] s; p90 at rank 0.9.
    "conclusion": percentiles(2, (7200 + 108000) / 2, 7200 + 0.9 * (108000 - 7200)),
    # In time: 2 March's; late: 3 March's (30 h for 24) and 4 March's (open, due 5 March).
    "within_deadline": rate(1, 3),
    "overdue_now": 2,  # 4 March's and 10 February's
}
NEUROLOGY = {
    "submitted": 1,
    "concluded": 1,
    "first_response": percentiles(1, 30 * MINUTE, 30 * MINUTE),
    "conclusion": percentiles(1, 4 * HOUR, 4 * HOUR),
    "within_deadline": rate(1, 1),
    "overdue_now": 0,
}
CENTRE_CASES = {
    "submitted": 5,
    "concluded": 3,
    # [600, 1200, 1800, 2400, 4800]: median the third; p90 at rank 3.6: 2400 + 0.6 * 2400.
    "first_response": percentiles(5, 1800, 2400 + 0.6 * (4800 - 2400)),
    # [7200, 14400, 108000]: p90 at rank 1.8: 14400 + 0.8 * (108000 - 14400).
    "conclusion": percentiles(3, 14400, 14400 + 0.8 * (108000 - 14400)),
    "within_deadline": rate(2, 4),
    "overdue_now": 2,
}
HOSPITAL_APPEALS = {
    "received": 6,  # 2 (two), 3, 5, 6 and 12 March
    "by_channel": channels(phone=4, chat=1, web=1),  # 2 March's second by chat, 5 March's web
    "resolved": 3,
    # First answers: resolved after 5 min, taken after 15 and 30, redirected at once (the
    # patient's withdrawal and a reassignment are no answers): [0, 300, 900, 1800] s.
    # Median (300 + 900) / 2; p90 at rank 2.7: 900 + 0.7 * (1800 - 900).
    "first_response": percentiles(4, (300 + 900) / 2, 900 + 0.7 * (1800 - 900)),
    # Resolved after 5 min, 3 h and 30 h: [300, 10800, 108000] s; p90 at rank 1.8.
    "resolution": percentiles(3, 10800, 10800 + 0.8 * (108000 - 10800)),
    # In time: the first two; late: 3 March's (30 h for 24) and 12 March's (open, due 13th).
    "within_deadline": rate(2, 4),
    "first_contact_resolution": rate(1, 3),
    "escalated": 1,
    # a1 answered a question; a2's head called and a visit booked; a3's head called and the
    # insurer asked to check.
    "resolutions": resolutions(
        {"resolved": 2, "referred": 1},
        gave_information=1,
        called_head=2,
        booked_appointment=1,
        referred_to_insurer=1,
    ),
    "overdue_now": 2,  # 12 March's and 10 February's
}
UNROUTED_APPEALS = {
    "received": 1,
    "by_channel": channels(phone=1),
    "resolved": 0,
    "first_response": percentiles(0, None, None),
    "resolution": percentiles(0, None, None),
    "within_deadline": rate(0, 1),  # due at 09:00 today, still open at noon
    "first_contact_resolution": rate(0, 0),
    "escalated": 0,
    "resolutions": resolutions(),
    "overdue_now": 1,
}
NO_CASES = {
    "submitted": 0,
    "concluded": 0,
    "first_response": percentiles(0, None, None),
    "conclusion": percentiles(0, None, None),
    "within_deadline": rate(0, 0),
    "overdue_now": 0,
}
NO_APPEALS = UNROUTED_APPEALS | {
    "received": 0,
    "by_channel": channels(),
    "within_deadline": rate(0, 0),
    "overdue_now": 0,
}
# a1's in time; a2's, a4's late. Reached: a1's; a2's failed; a4's pending, settled neither way.
HOSPITAL_CALLBACKS = {"owed": 3, "reached": rate(1, 2), "within_due_time": rate(1, 3)}
CENTRE_CALLBACKS = {"owed": 1, "reached": rate(1, 1), "within_due_time": rate(1, 1)}
NO_CALLBACKS = {"owed": 0, "reached": rate(0, 0), "within_due_time": rate(0, 0)}
# Patient 1 now (in two programmes, one patient); 1 and 2 in the period; two escalations.
HOSPITAL_MONITORING = {"patients_now": 1, "patients": 2, "escalations": 2}
NO_MONITORING = {"patients_now": 0, "patients": 0, "escalations": 0}


def by_organization(body: dict[str, Any]) -> dict[str | None, dict[str, Any]]:
    return {group["organization_id"]: group for group in body["groups"]}


async def test_a_coordinator_sees_the_figures_of_the_regions_organisations(
    world: World, data: DataSet
) -> None:
    body = await figures(world, world.coordinator)
    assert (body["from"], body["to"], body["timezone"]) == ("2026-02-19", "2026-03-20", "UTC")
    assert (body["region"], body["group_by"]) == ("42", "organization")
    groups = by_organization(body)
    assert list(groups) == [*sorted([world.centre["id"], world.hospital["id"]]), None]
    centre, hospital, unrouted = (
        groups[world.centre["id"]],
        groups[world.hospital["id"]],
        groups[None],
    )
    assert centre["cases"] == CENTRE_CASES
    assert centre["appeals"] == NO_APPEALS
    assert centre["callbacks"] == CENTRE_CALLBACKS
    assert centre["monitoring"] == NO_MONITORING
    assert hospital["cases"] == NO_CASES
    assert hospital["appeals"] == HOSPITAL_APPEALS
    assert hospital["callbacks"] == HOSPITAL_CALLBACKS
    assert hospital["monitoring"] == HOSPITAL_MONITORING
    assert unrouted["appeals"] == UNROUTED_APPEALS
    totals = body["totals"]
    assert (totals["organization_id"], totals["specialty"]) == (None, None)
    assert totals["cases"] == CENTRE_CASES
    assert totals["appeals"] == HOSPITAL_APPEALS | {
        "received": 6 + 1,
        "by_channel": channels(phone=4 + 1, chat=1, web=1),
        "within_deadline": rate(2, 4 + 1),
        "overdue_now": 2 + 1,
    }
    assert totals["callbacks"] == {
        "owed": 3 + 1,
        "reached": rate(1 + 1, 2 + 1),
        "within_due_time": rate(1 + 1, 3 + 1),
    }
    assert totals["monitoring"] == HOSPITAL_MONITORING
    # The hotline's days: every day of the period, each by channel.
    volume = {day["day"]: day["by_channel"] for day in body["hotline_days"]}
    assert len(volume) == 30
    assert volume["2026-03-02"] == channels(phone=1, chat=1)
    assert volume["2026-03-05"] == channels(web=1)
    assert volume["2026-03-20"] == channels(phone=1)
    assert volume["2026-03-04"] == channels()
    assert sum(sum(day.values()) for day in volume.values()) == 7


async def test_figures_by_specialty_are_the_cases_only(world: World, data: DataSet) -> None:
    body = await figures(world, world.coordinator, group_by="specialty")
    assert [group["specialty"] for group in body["groups"]] == ["cardiology", "neurology"]
    cardiology, neurology = body["groups"]
    assert cardiology["cases"] == CARDIOLOGY
    assert neurology["cases"] == NEUROLOGY
    for group in body["groups"]:
        assert (group["appeals"], group["callbacks"], group["monitoring"]) == (None, None, None)
    assert body["totals"]["appeals"]["received"] == 7
    assert len(body["hotline_days"]) == 30

    chosen = await figures(world, world.coordinator, specialty="Cardiology")
    assert chosen["totals"]["specialty"] == "cardiology"
    assert chosen["totals"]["cases"] == CARDIOLOGY
    assert chosen["totals"]["appeals"] is None
    assert [group["organization_id"] for group in chosen["groups"]] == [world.centre["id"]]


async def test_a_period_and_an_organisation_narrow_the_figures(world: World, data: DataSet) -> None:
    # 2 to 3 March: the first three appeals (a3 resolved on the 4th still counts for the 3rd).
    body = await figures(
        world,
        world.coordinator,
        **{"from": "2026-03-02", "to": "2026-03-03", "organization_id": world.hospital["id"]},
    )
    assert [group["organization_id"] for group in body["groups"]] == [world.hospital["id"]]
    appeals = body["totals"]["appeals"]
    assert (appeals["received"], appeals["resolved"], appeals["escalated"]) == (3, 3, 1)
    assert appeals["first_response"] == percentiles(3, 900, 900 + 0.8 * (1800 - 900))
    assert appeals["within_deadline"] == rate(2, 3)
    assert appeals["resolutions"] == HOSPITAL_APPEALS["resolutions"]  # all three in it
    assert appeals["overdue_now"] == 2  # of the moment, whatever the period
    assert body["totals"]["callbacks"] == {
        "owed": 2,
        "reached": rate(1, 2),
        "within_due_time": rate(1, 2),
    }
    assert body["totals"]["cases"]["submitted"] == 0


async def test_an_administrator_sees_every_region(world: World, data: DataSet) -> None:
    admin = world.stack.admin
    assert admin is not None
    everything = await figures(world, admin, group_by="specialty")
    assert everything["region"] is None
    assert everything["totals"]["cases"]["submitted"] == 5 + 1
    assert everything["totals"]["appeals"]["received"] == 7 + 1
    assert everything["totals"]["monitoring"]["patients_now"] == 1 + 1
    far = await figures(world, admin, region="54")
    assert far["totals"]["cases"]["submitted"] == 1
    assert far["totals"]["appeals"]["received"] == 1
    assert far["totals"]["monitoring"]["patients_now"] == 1


async def test_figures_read_the_same_once_the_days_are_rolled_up(
    world: World, data: DataSet
) -> None:
    queries: dict[str, dict[str, Any]] = {
        "organisations": {},
        "specialties": {"group_by": "specialty"},
        "early March": {"from": "2026-03-02", "to": "2026-03-03"},
        "February on": {"from": "2026-02-01", "to": "2026-03-20"},  # February summed whole
    }
    live = {
        name: await figures(world, world.coordinator, **query) for name, query in queries.items()
    }
    await refresh(world.stack.apps["consult"])
    for name, query in queries.items():
        assert await figures(world, world.coordinator, **query) == live[name], name
    # The deployment's days (UTC); each organisation's group was read in its own zone, rolled
    # up beside them (`test_stats_local_days.py`).
    async with database(world).sessionmaker() as session:
        deployment = select(StatsDay).where(StatsDay.timezone == "UTC")
        days = {day.day: day for day in await session.scalars(deployment)}
        months = list(
            await session.scalars(select(StatsMonth.month).where(StatsMonth.timezone == "UTC"))
        )
        zones = set(await session.scalars(select(StatsDay.timezone).distinct()))
    assert zones == {"UTC", "Asia/Novokuznetsk"}
    # From the first day anything came (10 February) to yesterday, in two batches.
    assert min(days) == date(2026, 2, 10)
    assert max(days) == date(2026, 3, 19)
    assert len(days) == (date(2026, 3, 19) - date(2026, 2, 10)).days + 1
    # 12 March's appeal and region 54's of 7 March are still open: their days are rolled up
    # again on every run until 14 days have passed; 4 March's open case is past that.
    unsettled = sorted(day for day, record in days.items() if not record.final)
    assert unsettled == [date(2026, 3, 7), date(2026, 3, 12)]
    # February is over and final (nothing came before the 10th): summed as a month.
    assert months == [date(2026, 2, 1)]


async def test_the_figures_are_prometheus_gauges(world: World, data: DataSet) -> None:
    consult = world.stack.apps["consult"]
    await refresh(consult)
    scraped = (await world.stack.client.get("http://consult/metrics")).text
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(scraped)
        for sample in family.samples
        if sample.name.startswith("consult_stats_")
    }

    def gauge(name: str, organization: str, specialty: str | None = None) -> float:
        labels = {"organization": organization}
        if specialty is not None:
            labels["specialty"] = specialty
        return samples[(f"consult_stats_{name}", tuple(sorted(labels.items())))]

    centre, hospital = world.centre["id"], world.hospital["id"]
    assert gauge("cases_submitted", centre, "cardiology") == 4
    assert gauge("cases_first_response_median_seconds", centre, "cardiology") == 1800
    assert gauge("cases_first_response_p90_seconds", centre, "cardiology") == pytest.approx(4080)
    assert gauge("cases_within_deadline_ratio", centre, "cardiology") == pytest.approx(1 / 3)
    assert gauge("cases_overdue_now", centre, "cardiology") == 2
    assert gauge("appeals_received", hospital) == 6
    assert gauge("appeals_resolution_p90_seconds", hospital) == pytest.approx(88560)
    assert gauge("appeals_first_contact_resolution_ratio", hospital) == pytest.approx(1 / 3)
    assert gauge("appeals_escalated", hospital) == 1
    assert gauge("appeals_overdue_now", "none") == 1
    assert gauge("callbacks_within_due_time_ratio", hospital) == pytest.approx(1 / 3)
    assert gauge("monitoring_patients_now", hospital) == 1
    assert gauge("monitoring_escalations", hospital) == 2
    # Labelled by organisation and specialty only.
    assert {name for (_, labels) in samples for name, _ in labels} == {"organization", "specialty"}


async def test_only_coordinators_and_administrators_see_figures(
    world: World, data: DataSet
) -> None:
    api_client = await _api_client(world.stack, world.hospital, ["consult:read"])
    for actor in (world.cardiologist, world.medic, world.patient, api_client):
        assert_problem(await get_stats(world, actor), 403)


async def test_a_coordinator_of_another_region_sees_only_theirs(
    world: World, data: DataSet
) -> None:
    far = world.far_coordinator
    own = await figures(world, far)
    assert own["region"] == "54"
    assert own["totals"]["cases"]["submitted"] == 1
    assert own["totals"]["appeals"]["received"] == 1
    assert world.centre["id"] not in by_organization(own)
    for params in ({"organization_id": world.centre["id"]}, {"region": "42"}):
        assert_problem(await get_stats(world, far, **params), 403)
    assert_problem(await get_stats(world, far, organization_id=str(uuid.uuid4())), 404)


async def test_a_period_must_make_sense(world: World) -> None:
    coordinator = world.coordinator
    for params in (
        {"from": "2026-03-10", "to": "2026-03-09"},
        {"from": "2025-02-28", "to": "2026-03-01"},  # 367 days
        {"to": "0001-01-02"},
        {"from": "9999-12-31", "to": "9999-12-31"},
        {"group_by": "district"},
        {"from": "yesterday"},
    ):
        assert_problem(await get_stats(world, coordinator, **params), 422)
    year = await figures(world, coordinator, **{"from": "2025-03-02", "to": "2026-03-01"})
    assert year["totals"]["cases"]["submitted"] == 0


async def test_reads_and_refusals_are_audited(world: World) -> None:
    await figures(world, world.coordinator, group_by="specialty")
    await get_stats(world, world.far_coordinator, region="42")
    await get_stats(world, world.medic)
    records = KERNEL_TABLES.audit.records
    query = select(records).where(records.c.resource_type == "consult_stats")
    async with database(world).sessionmaker() as session:
        rows = (await session.execute(query.order_by(records.c.seq))).mappings().all()
    # A refusal's record is written after the rollback, so it may come after the next read's.
    trail = {row["actor_id"]: (row["action"], row["outcome"], row["detail"]) for row in rows}
    assert len(rows) == len(trail) == 3
    assert trail[str(world.coordinator.id)][:2] == ("stats.read", "success")
    assert "region 42" in trail[str(world.coordinator.id)][2]
    for refused in (world.far_coordinator, world.medic):
        assert trail[str(refused.id)][:2] == ("stats.read", "denied")


def test_the_endpoint_is_documented(world: World) -> None:
    operation = world.stack.apps["consult"].openapi()["paths"]["/api/consult/stats"]["get"]
    assert operation["summary"]
    assert operation["tags"] == ["statistics"]
    assert {"401", "403", "404", "422"} <= set(operation["responses"])
    assert {parameter["name"] for parameter in operation["parameters"]} == {
        "from", "to", "group_by", "region", "organization_id", "specialty",
    }  # fmt: skip
