"""HTTP route of a patient's eligibility for remote follow-ups in a specialty."""

import uuid
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query

from services.common.errors import problem_responses
from services.common.uow import UnitOfWorkDep
from services.scheduling.dependencies import PREFIX, ActingPrincipal, NowDep
from services.scheduling.eligibility import check_eligibility
from services.scheduling.enums import VisitType
from services.scheduling.schemas import Eligibility, Specialty
from services.scheduling.views import utc_text

router = APIRouter(prefix=PREFIX)
# The stretch of free slots the booking link shows.
BOOKING_WINDOW = timedelta(days=14)


def availability_url(specialty: str, now: datetime) -> str:
    """The availability search for an in-person visit of `specialty` over the coming days."""
    query = {
        "visit_type": VisitType.IN_PERSON.value,
        "specialty": specialty,
        "from": utc_text(now),
        "to": utc_text(now + BOOKING_WINDOW),
    }
    return f"{PREFIX}/availability?{urlencode(query)}"


@router.get(
    "/patients/{patient_id}/eligibility",
    response_model=Eligibility,
    tags=["episodes"],
    summary="Whether a patient may be followed up remotely in a specialty, and with whom",
    description=(
        "Eligible once an in-person visit of an active episode in the specialty is fulfilled "
        "(in `episode` when given): the answer names that episode, its specialist, where the "
        "visit was held and whether the specialist is on leave now. Otherwise `reason` says "
        "why (`no_visit`, `visit_not_fulfilled`, `other_specialty`) and `book_url` where to "
        "find an in-person visit. Computed over the episodes the caller may see: the patient "
        "their own, a specialist theirs, staff their organisation's."
    ),
    responses=problem_responses(401, 403, 404, 422),
)
async def eligibility(
    patient_id: uuid.UUID,
    specialty: Annotated[Specialty, Query()],
    uow: UnitOfWorkDep,
    principal: ActingPrincipal,
    now: NowDep,
    episode: uuid.UUID | None = None,
) -> Eligibility:
    return await check_eligibility(
        uow,
        principal,
        patient_id,
        specialty,
        episode,
        now,
        book_url=availability_url(specialty, now),
    )
