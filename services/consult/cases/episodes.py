"""Care episodes linked to a case: consult vouches for the case, the scheduling service opens them.

Scheduling never asks consult about a case (calls run consult → scheduling): it links an
episode only with consult's `case.link` grant, which consult signs here once the caller is
found to see the case. Whether the caller may open the episode stays scheduling's to decide.
"""

import uuid
from collections.abc import Awaitable, Callable

from pydantic import ConfigDict, Field

from services.common.auth import Principal
from services.common.errors import ProblemError, Unprocessable
from services.common.grants import GrantIssuer
from services.common.uow import UnitOfWork
from services.consult.cases.transitions import RESOURCE, audit, load_case
from services.consult.values import Specialty, Strict
from services.scheduling.client import CASE_LINK, GRANT_AUDIENCE, EpisodeOut

ACTION = "case.link_episode"
# Long enough for one call to the scheduling service: the grant never leaves the services.
LINK_GRANT_SECONDS = 60


class EpisodeLink(Strict):
    """The care episode to open for the case's patient in the scheduling service."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "patient_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
                    "specialty": "cardiology",
                    "practitioner_id": "1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b",
                    "patient_timezone": "Asia/Novokuznetsk",
                }
            ]
        }
    )

    patient_id: uuid.UUID = Field(description="The patient's account, as scheduling knows it.")
    specialty: Specialty | None = Field(
        default=None, description="Defaults to the case's specialty."
    )
    practitioner_id: uuid.UUID | None = Field(
        default=None, description="The specialist; otherwise the first booking decides."
    )
    patient_timezone: str | None = Field(
        default=None,
        max_length=64,
        description="IANA zone; defaults to the zone of the caller's organisation.",
        examples=["Asia/Novokuznetsk"],
    )


def link_grant(grants: GrantIssuer, principal: Principal, case_id: uuid.UUID) -> str:
    """Consult's word to scheduling that the caller may link this case (to an episode or a
    visit); sign it only once the caller is known to see the case."""
    grant, _ = grants.issue(
        audience=GRANT_AUDIENCE,
        subject=principal.subject,
        purpose=CASE_LINK,
        case_id=case_id,
        ttl_seconds=LINK_GRANT_SECONDS,
    )
    return grant


# (case, what to open) -> the episode scheduling opened for the caller, linked to the case.
OpenEpisode = Callable[[uuid.UUID, EpisodeLink], Awaitable[EpisodeOut]]


async def link_episode(
    uow: UnitOfWork,
    principal: Principal,
    case_id: uuid.UUID,
    data: EpisodeLink,
    open_episode: OpenEpisode,
) -> EpisodeOut:
    """Opens an episode linked to a case the caller sees (else 404, as any unseen case)."""
    case = await load_case(uow, principal, case_id, ACTION, write=True)
    try:
        if case.patient_id is not None and data.patient_id != case.patient_id:
            raise Unprocessable("The case is about another patient.")
        specialty = data.specialty or case.specialty
        episode = await open_episode(case.id, data.model_copy(update={"specialty": specialty}))
    except ProblemError as error:
        uow.audit.refuse(ACTION, RESOURCE, case.id, error)
    audit(uow, ACTION, case.id, detail=f"episode {episode.id}")
    return episode
