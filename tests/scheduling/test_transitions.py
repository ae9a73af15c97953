"""The appointment lifecycle: every legal transition, every illegal one, and who may act."""

import itertools
import uuid

import pytest

from services.common.auth import Principal, Role
from services.common.errors import Conflict
from services.scheduling.access import can_see_appointment, may_act
from services.scheduling.enums import AppointmentAction, AppointmentStatus
from services.scheduling.models import Appointment
from services.scheduling.service import TRANSITIONS, next_status

A, S = AppointmentAction, AppointmentStatus
LEGAL = [
    (S.PROPOSED, A.CONFIRM, S.BOOKED),
    (S.PROPOSED, A.CANCEL, S.CANCELLED),
    (S.PROPOSED, A.RESCHEDULE, S.CANCELLED),
    (S.PROPOSED, A.EXPIRE, S.CANCELLED),
    (S.BOOKED, A.CHECK_IN, S.CHECKED_IN),
    (S.BOOKED, A.ARRIVE, S.ARRIVED),
    (S.BOOKED, A.NO_SHOW, S.NOSHOW),
    (S.BOOKED, A.CANCEL, S.CANCELLED),
    (S.BOOKED, A.RESCHEDULE, S.CANCELLED),
    (S.CHECKED_IN, A.ARRIVE, S.ARRIVED),
    (S.CHECKED_IN, A.NO_SHOW, S.NOSHOW),
    (S.CHECKED_IN, A.CANCEL, S.CANCELLED),
    (S.CHECKED_IN, A.RESCHEDULE, S.CANCELLED),
    (S.ARRIVED, A.FULFIL, S.FULFILLED),
    *[(status, A.ENTER_IN_ERROR, S.ENTERED_IN_ERROR) for status in S
      if status is not S.ENTERED_IN_ERROR],
]  # fmt: skip
ILLEGAL = sorted(set(itertools.product(S, A)) - {(s, a) for s, a, _ in LEGAL})

PRACTITIONER, PATIENT = uuid.uuid4(), uuid.uuid4()
HOST, REQUESTING, ELSEWHERE = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def test_table_is_exactly_the_documented_lifecycle() -> None:
    assert {(status, action): target for status, action, target in LEGAL} == TRANSITIONS


@pytest.mark.parametrize(("current", "action", "expected"), LEGAL)
def test_legal_transition(
    current: AppointmentStatus, action: AppointmentAction, expected: AppointmentStatus
) -> None:
    assert next_status(current, action) is expected


@pytest.mark.parametrize(("current", "action"), ILLEGAL)
def test_illegal_transition_names_the_current_status(
    current: AppointmentStatus, action: AppointmentAction
) -> None:
    with pytest.raises(Conflict) as raised:
        next_status(current, action)
    assert raised.value.extensions["current_status"] == current.value
    assert current.value in raised.value.detail


def principal(role: Role, organization: uuid.UUID | None = None, subject: uuid.UUID | None = None):
    return Principal(
        subject=subject or uuid.uuid4(),
        username="someone",
        role=role,
        organization_id=organization,
        specialty="cardiology" if role is Role.SPECIALIST else None,
    )


def appointment(practitioner: uuid.UUID | None = PRACTITIONER) -> Appointment:
    return Appointment(
        practitioner_id=practitioner,
        organization_id=HOST,
        requesting_organization_id=REQUESTING,
        patient_id=PATIENT,
    )


PEOPLE = {
    "practitioner": principal(Role.SPECIALIST, HOST, PRACTITIONER),
    "colleague": principal(Role.SPECIALIST, HOST),
    "patient": principal(Role.PATIENT, subject=PATIENT),
    "other patient": principal(Role.PATIENT),
    "medic of the patient": principal(Role.DISTRICT_MEDIC, REQUESTING),
    "medic elsewhere": principal(Role.DISTRICT_MEDIC, ELSEWHERE),
    "coordinator of the host": principal(Role.COORDINATOR, HOST),
    "admin": principal(Role.ADMIN),
}
SEES = {"practitioner", "patient", "medic of the patient", "coordinator of the host"}
MAY = {
    "practitioner": set(A) - {A.EXPIRE},
    "patient": {A.CONFIRM, A.CANCEL, A.CHECK_IN},
    "medic of the patient": {A.CONFIRM, A.CANCEL, A.CHECK_IN, A.RESCHEDULE},
}


@pytest.mark.parametrize("who", sorted(PEOPLE))
def test_who_sees_and_acts_on_a_practitioners_appointment(who: str) -> None:
    visit = appointment()
    assert can_see_appointment(PEOPLE[who], visit) is (who in SEES)
    allowed = {action for action in A if may_act(PEOPLE[who], visit, action)}
    assert allowed == MAY.get(who, set())


def test_a_rooms_coordinators_act_as_its_owner() -> None:
    visit = appointment(practitioner=None)
    coordinator = PEOPLE["coordinator of the host"]
    assert {action for action in A if may_act(coordinator, visit, action)} == set(A) - {A.EXPIRE}
    assert not may_act(PEOPLE["practitioner"], visit, A.FULFIL)
