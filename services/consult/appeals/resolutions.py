"""An appeal's resolution: the actions offered for each category of appeal, the checks of what a
resolution says (actions offered for its category, a reason where the result needs one, an
organisation the operator may name) and its record.

A resolution says what was done (actions from the vocabulary, and details in words), by whom
(an organisation of the appeal's region and a person, by name and position), with what
result, and what the person was told (the appeal's `answer`, checked in `formulaic`).
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select

from services.common.auth import Principal
from services.common.errors import NotFound, UnknownReference, Unprocessable
from services.common.uow import UnitOfWork
from services.consult.appeals.enums import AppealCategory, ResolutionAction, ResolutionResult
from services.consult.appeals.models import Appeal, Resolution
from services.consult.appeals.schemas import ResolveRequest
from services.consult.ports import OrganizationLookup

C, R = AppealCategory, ResolutionAction
# For each action, the categories of appeal it answers; `other` takes any of them.
ACTIONS: dict[ResolutionAction, frozenset[AppealCategory]] = {
    R.BOOKED_APPOINTMENT: frozenset(
        {
            C.QUESTION,
            C.COMPLAINT,
            C.APPOINTMENT_HELP,
            C.REFUSAL_OF_FREE_CARE,
            C.PAID_SERVICE_IMPOSITION,
            C.WAITING_TIME,
        }
    ),
    R.MOVED_APPOINTMENT_FORWARD: frozenset({C.COMPLAINT, C.APPOINTMENT_HELP, C.WAITING_TIME}),
    R.ARRANGED_FREE_CARE: frozenset(
        {C.COMPLAINT, C.REFUSAL_OF_FREE_CARE, C.PAID_SERVICE_IMPOSITION, C.WAITING_TIME}
    ),
    R.REFUNDED_PAYMENT: frozenset({C.COMPLAINT, C.PAID_SERVICE_IMPOSITION}),
    R.ARRANGED_HOME_VISIT: frozenset(
        {C.QUESTION, C.COMPLAINT, C.APPOINTMENT_HELP, C.REFUSAL_OF_FREE_CARE}
    ),
    R.ARRANGED_HOSPITAL_BED: frozenset(
        {C.COMPLAINT, C.HOSPITAL_BED, C.REFUSAL_OF_FREE_CARE, C.WAITING_TIME}
    ),
    R.ARRANGED_ATTACHMENT: frozenset({C.QUESTION, C.COMPLAINT, C.REFUSAL_OF_FREE_CARE}),
    R.CALLED_HEAD: frozenset(AppealCategory),
    R.REFERRED_TO_INSURER: frozenset(
        {
            C.COMPLAINT,
            C.REFUSAL_OF_FREE_CARE,
            C.PAID_SERVICE_IMPOSITION,
            C.WAITING_TIME,
            C.HOSPITAL_BED,
        }
    ),
    R.ORDERED_QUALITY_CHECK: frozenset(
        {
            C.COMPLAINT,
            C.REFUSAL_OF_FREE_CARE,
            C.PAID_SERVICE_IMPOSITION,
            C.WAITING_TIME,
            C.HOSPITAL_BED,
        }
    ),
    R.EXPLAINED_RIGHTS: frozenset(AppealCategory),
    R.GAVE_INFORMATION: frozenset(AppealCategory),
    R.REDIRECTED: frozenset(AppealCategory),
}
# Results that say nothing without their reason: why it was refused, to whom it went.
NEEDS_REASON = {
    ResolutionResult.REFUSED: "Say why it was refused (`result_reason`).",
    ResolutionResult.REFERRED: "Say to whom it was referred and why (`result_reason`).",
}


def offered(category: AppealCategory) -> list[ResolutionAction]:
    """The actions a resolution of an appeal of `category` may name, in the vocabulary's order."""
    return [
        action
        for action, categories in ACTIONS.items()
        if category in categories or category is AppealCategory.OTHER
    ]


def _issue(location: tuple[str | int, ...], message: str, kind: str) -> dict[str, Any]:
    return {"loc": ["body", *location], "msg": message, "type": kind}


def check_said(appeal: Appeal, data: ResolveRequest) -> None:
    """A 422 naming each action not offered for the appeal's category, and a missing reason
    its result needs."""
    choices = offered(appeal.category)
    issues = [
        _issue(
            ("actions", index),
            f"`{action.value}` is not an action for a {appeal.category.value} appeal; choose from "
            + ", ".join(f"`{each.value}`" for each in choices)
            + ".",
            "action_not_offered",
        )
        for index, action in enumerate(data.actions)
        if action not in choices
    ]
    if data.result in NEEDS_REASON and data.result_reason is None:
        issues.append(_issue(("result_reason",), NEEDS_REASON[data.result], "missing"))
    if issues:
        raise Unprocessable("The resolution does not hold together; see `errors`.", errors=issues)


async def done_by_organization(
    appeal: Appeal, data: ResolveRequest, organizations: OrganizationLookup
) -> uuid.UUID:
    """The organisation whose person did it: by default the one responsible for the appeal,
    else one of the appeal's region the directory shows the operator (a 422 naming the field
    otherwise, a denial on the audit trail)."""
    chosen = data.done_by.organization_id or appeal.organization_id
    if chosen is None:  # an appeal is routed before it can be resolved
        raise Unprocessable("Name the organisation that did it (`done_by.organization_id`).")
    if chosen == appeal.organization_id:
        return chosen
    refusal = f"No organisation {chosen} of region {appeal.region} you may name."
    try:
        organization = await organizations(chosen)
    except NotFound:
        organization = None
    if organization is None or organization.region != appeal.region:
        issue = _issue(("done_by", "organization_id"), refusal, "unknown_organization")
        raise UnknownReference(refusal, errors=[issue])
    return chosen


def record(
    uow: UnitOfWork,
    principal: Principal,
    appeal: Appeal,
    data: ResolveRequest,
    organization_id: uuid.UUID,
    now: datetime,
) -> Resolution:
    resolution = Resolution(
        appeal_id=appeal.id,
        actions=[action.value for action in data.actions],
        details=data.details,
        organization_id=organization_id,
        person_name=data.done_by.name,
        person_position=data.done_by.position,
        result=data.result,
        result_reason=data.result_reason,
        recorded_by=principal.subject,
        created_at=now,
    )
    uow.session.add(resolution)
    return resolution


async def resolution_of(uow: UnitOfWork, appeal: Appeal) -> Resolution | None:
    """The appeal's resolution; None until it is resolved (and for appeals resolved before
    resolutions were recorded)."""
    query = select(Resolution).where(Resolution.appeal_id == appeal.id)
    return (await uow.session.execute(query)).scalar_one_or_none()
