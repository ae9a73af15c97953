"""The case lifecycle: every legal transition, every illegal one, and who may take each."""

import itertools
import uuid

import pytest

from services.common.auth import Principal, Role
from services.common.errors import Conflict, Forbidden
from services.consult.cases.enums import CaseAction, CaseStatus
from services.consult.cases.models import Case
from services.consult.cases.transitions import TRANSITIONS, authorise, next_status

A, S = CaseAction, CaseStatus
REQUESTING_ORG, TARGET_ORG = uuid.uuid4(), uuid.uuid4()

LEGAL = [
    (S.DRAFT, A.EDIT, S.DRAFT),
    (S.DRAFT, A.SUBMIT, S.SUBMITTED),
    (S.DRAFT, A.CANCEL, S.CANCELLED),
    (S.SUBMITTED, A.ACCEPT, S.ACCEPTED),
    (S.SUBMITTED, A.REQUEST_INFO, S.INFO_REQUESTED),
    (S.SUBMITTED, A.DECLINE, S.DECLINED),
    (S.SUBMITTED, A.CANCEL, S.CANCELLED),
    (S.ACCEPTED, A.START, S.IN_PROGRESS),
    (S.ACCEPTED, A.CONVENE, S.IN_PROGRESS),
    (S.ACCEPTED, A.REQUEST_INFO, S.INFO_REQUESTED),
    (S.ACCEPTED, A.DECLINE, S.DECLINED),
    (S.ACCEPTED, A.CANCEL, S.CANCELLED),
    (S.IN_PROGRESS, A.REQUEST_INFO, S.INFO_REQUESTED),
    (S.IN_PROGRESS, A.CONCLUDE, S.CONCLUDED),
    (S.IN_PROGRESS, A.CONVENE, S.IN_PROGRESS),
    (S.IN_PROGRESS, A.CANCEL, S.CANCELLED),
    (S.INFO_REQUESTED, A.EDIT, S.INFO_REQUESTED),
    (S.INFO_REQUESTED, A.CANCEL, S.CANCELLED),
    (S.CONCLUDED, A.AMEND, S.CONCLUDED),
]
RESUMABLE = [S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS]
LEGAL_PAIRS = {(status, action) for status, action, _ in LEGAL} | {
    (S.INFO_REQUESTED, A.PROVIDE_INFO)
}
ILLEGAL = sorted(set(itertools.product(S, A)) - LEGAL_PAIRS)


def test_table_is_exactly_the_documented_lifecycle() -> None:
    assert set(TRANSITIONS) == LEGAL_PAIRS


@pytest.mark.parametrize(("current", "action", "expected"), LEGAL)
def test_legal_transition(current: CaseStatus, action: CaseAction, expected: CaseStatus) -> None:
    assert next_status(current, action) is expected


@pytest.mark.parametrize("resume_to", RESUMABLE)
def test_provide_info_resumes_where_info_was_requested(resume_to: CaseStatus) -> None:
    assert next_status(S.INFO_REQUESTED, A.PROVIDE_INFO, resume_to) is resume_to


def test_provide_info_without_a_resume_status_is_a_conflict() -> None:
    with pytest.raises(Conflict):
        next_status(S.INFO_REQUESTED, A.PROVIDE_INFO, None)


@pytest.mark.parametrize(("current", "action"), ILLEGAL)
def test_illegal_transition_is_a_conflict_naming_the_current_status(
    current: CaseStatus, action: CaseAction
) -> None:
    with pytest.raises(Conflict) as caught:
        next_status(current, action, S.SUBMITTED)
    assert current.value in caught.value.detail
    assert caught.value.extensions == {"current_status": current.value}


def test_closed_cases_accept_no_further_action_but_amendment() -> None:
    for closed in (S.DECLINED, S.CANCELLED):
        assert not [action for status, action in TRANSITIONS if status is closed]
    assert [action for status, action in TRANSITIONS if status is S.CONCLUDED] == [A.AMEND]


def _case(assignee: uuid.UUID | None = None) -> Case:
    return Case(
        id=uuid.uuid4(),
        status=S.SUBMITTED,
        requesting_organization_id=REQUESTING_ORG,
        target_organization_id=TARGET_ORG,
        specialty="cardiology",
        region="42",
        assignee_id=assignee,
    )


def _principal(role: Role, org: uuid.UUID | None, specialty: str | None = None) -> Principal:
    scopes = frozenset({"consult:read", "consult:write"})
    return Principal(
        subject=uuid.uuid4(),
        username="someone",
        role=role,
        organization_id=org,
        region="42",
        specialty=specialty,
        scopes=scopes,
    )


MEDIC = _principal(Role.DISTRICT_MEDIC, REQUESTING_ORG)
CLIENT = _principal(Role.API_CLIENT, REQUESTING_ORG)
CARDIOLOGIST = _principal(Role.SPECIALIST, TARGET_ORG, "cardiology")
NEUROLOGIST = _principal(Role.SPECIALIST, TARGET_ORG, "neurology")
COORDINATOR = _principal(Role.COORDINATOR, TARGET_ORG)


@pytest.mark.parametrize("action", [A.EDIT, A.SUBMIT, A.PROVIDE_INFO, A.CANCEL])
def test_requester_actions_belong_to_the_requesting_organisation(action: CaseAction) -> None:
    authorise(MEDIC, _case(), action)
    authorise(CLIENT, _case(), action)
    for outsider in (CARDIOLOGIST, COORDINATOR, _principal(Role.DISTRICT_MEDIC, uuid.uuid4())):
        with pytest.raises(Forbidden):
            authorise(outsider, _case(), action)


@pytest.mark.parametrize(
    "action", [A.ACCEPT, A.START, A.REQUEST_INFO, A.DECLINE, A.CONCLUDE, A.AMEND, A.CONVENE]
)
def test_specialist_actions_need_the_addressed_specialty(action: CaseAction) -> None:
    authorise(CARDIOLOGIST, _case(), action)
    for outsider in (NEUROLOGIST, MEDIC, COORDINATOR):
        with pytest.raises(Forbidden):
            authorise(outsider, _case(), action)


@pytest.mark.parametrize(
    "action", [A.START, A.REQUEST_INFO, A.DECLINE, A.CONCLUDE, A.AMEND, A.CONVENE]
)
def test_once_assigned_only_the_assignee_acts(action: CaseAction) -> None:
    colleague = _principal(Role.SPECIALIST, TARGET_ORG, "cardiology")
    authorise(CARDIOLOGIST, _case(assignee=CARDIOLOGIST.subject), action)
    with pytest.raises(Forbidden):
        authorise(colleague, _case(assignee=CARDIOLOGIST.subject), action)


def test_accepting_a_taken_case_is_left_to_the_state_check() -> None:
    # A colleague racing to accept gets the 409 naming the status, not a 403.
    colleague = _principal(Role.SPECIALIST, TARGET_ORG, "cardiology")
    authorise(colleague, _case(assignee=CARDIOLOGIST.subject), A.ACCEPT)
