"""The rules of a visit chain: an episode's first visit is in person, remote ones come after it.

Remote follow-ups are possible only once a diagnosis was made face to face (323-FZ art. 36.2),
so a remote visit is booked only in an episode whose in-person visit is `fulfilled`.
"""

import uuid
from collections.abc import Sequence

from sqlalchemy import select

from services.common.auth import Principal
from services.common.errors import Conflict, Forbidden, NotFound, Unprocessable
from services.common.uow import UnitOfWork
from services.scheduling.access import can_see_episode, may_book_in_episode
from services.scheduling.enums import (
    PATIENT_VISITS,
    AppointmentStatus,
    EpisodeStatus,
    VisitType,
)
from services.scheduling.models import Appointment, Episode, Schedule
from services.scheduling.views import first_visit_fulfilled, utc_text

RESOURCE = "episode"


async def lock_episode(
    uow: UnitOfWork, episode_id: uuid.UUID, *, write: bool = True
) -> Episode | None:
    """The episode; for writes locked until commit, so bookings in one episode see each
    other: two first bookings of a specialty's episode cannot pick two specialists."""
    query = select(Episode).where(Episode.id == episode_id)
    if write:
        query = query.with_for_update()
    return (await uow.session.execute(query)).scalar_one_or_none()


async def load_episode(
    uow: UnitOfWork, principal: Principal, episode_id: uuid.UUID, action: str, *, write: bool
) -> Episode:
    episode = await lock_episode(uow, episode_id, write=write)
    if episode is None or not can_see_episode(principal, episode):
        error = NotFound("No episode with this id is visible to you.")
        uow.audit.refuse(action, RESOURCE, episode_id, error)
    return episode


async def bookable_episode(uow: UnitOfWork, principal: Principal, episode_id: uuid.UUID) -> Episode:
    """An episode the caller may book in: its specialist, or its patient's organisation."""
    episode = await lock_episode(uow, episode_id)
    if episode is None or not can_see_episode(principal, episode):
        raise NotFound("No episode with this id is visible to you.")
    if not may_book_in_episode(principal, episode):
        raise Forbidden("Only the episode's specialist and its patient's organisation book in it.")
    return episode


async def episode_appointments(uow: UnitOfWork, episode_id: uuid.UUID) -> Sequence[Appointment]:
    query = (
        select(Appointment)
        .where(Appointment.episode_id == episode_id)
        .order_by(Appointment.starts_at, Appointment.id)
    )
    return (await uow.session.scalars(query)).all()


def fit_episode(episode: Episode, schedule: Schedule, visit_type: VisitType) -> None:
    """A patient's visit in an episode is with its specialist; the first such booking picks
    them when the episode named only a specialty."""
    if episode.status is not EpisodeStatus.ACTIVE:
        raise Conflict("The episode is closed.", current_status=episode.status.value)
    if visit_type not in PATIENT_VISITS:
        return
    if schedule.practitioner_id is None:
        raise Unprocessable("The patient's visits are booked with a practitioner, not a room.")
    if episode.practitioner_id is None:
        if schedule.specialty != episode.specialty:
            raise Unprocessable(f"This episode is with a specialist in {episode.specialty}.")
        episode.practitioner_id = schedule.practitioner_id
    elif episode.practitioner_id != schedule.practitioner_id:
        raise Unprocessable(
            f"This episode is with practitioner {episode.practitioner_id}; book with them."
        )


async def require_fulfilled_first_visit(uow: UnitOfWork, episode: Episode) -> None:
    """The first-visit rule: a 409 saying where the in-person first visit stands."""
    appointments = await episode_appointments(uow, episode.id)
    if first_visit_fulfilled(appointments):
        return
    in_person = [item for item in appointments if item.visit_type is VisitType.IN_PERSON]
    live = [item for item in in_person if item.status is not AppointmentStatus.CANCELLED]
    if not live:
        raise Conflict(
            "A remote follow-up needs a fulfilled in-person first visit, and this episode has "
            "none booked yet.",
            first_visit_status=None,
        )
    first = live[0]
    raise Conflict(
        "A remote follow-up needs a fulfilled in-person first visit; this episode's, at "
        f"{utc_text(first.starts_at)}, is {first.status.value}.",
        first_visit_status=first.status.value,
    )
