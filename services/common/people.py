"""Checks of the people a request names by id (a visit's patient, a room's host), made against
the directory before anything is stored.

An id in a body is a claim, not a fact: a random UUID, a coordinator's id or another
organisation's patient must not become the patient of an episode. Each service looks the
person up in the gateway's directory with the caller's own token (`DirectoryClient.get_user`,
so the directory's visibility rules apply first) and holds the answer against its own rule.
Every refusal is the same 422 naming the field, whether the id is unknown, hidden from the
caller or someone of the wrong kind, so the answer tells nothing about who exists; the audit
trail records it as a denial (`UnknownReference`).
"""

import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Protocol

from services.common.auth import Principal, Role
from services.common.errors import UnknownReference


class NamedPerson(Protocol):
    """What the rules read of a directory user (`gateway.client.DirectoryUser`)."""

    @property
    def full_name(self) -> str: ...

    @property
    def birth_date(self) -> date | None:
        """A registered patient's, shown to staff (the directory's rule); else None."""
        ...

    @property
    def role(self) -> Role: ...

    @property
    def organization_id(self) -> uuid.UUID | None: ...

    @property
    def region(self) -> str | None: ...

    @property
    def is_active(self) -> bool: ...


# A user by id as the directory shows them to the caller; None when it shows no such user.
PersonLookup = Callable[[uuid.UUID], Awaitable[NamedPerson | None]]


def refused(field: str, detail: str) -> UnknownReference:
    """The 422 for `field`, shaped like a validation problem so clients find the field in
    `errors[].loc` as they do for any other invalid input."""
    issue = {"loc": ["body", field], "msg": detail, "type": "unknown_person"}
    return UnknownReference(detail, errors=[issue])


async def require_person(
    lookup: PersonLookup,
    person_id: uuid.UUID,
    *,
    field: str,
    fits: Callable[[NamedPerson], bool],
    refusal: str,
) -> NamedPerson:
    """The active user `person_id` if the directory shows them to the caller and they `fit`,
    else the 422 for `field` saying `refusal`."""
    person = await lookup(person_id)
    if person is None or not person.is_active or not fits(person):
        raise refused(field, refusal)
    return person


def acts_for(principal: Principal, person: NamedPerson) -> bool:
    """The person belongs to an organisation the caller acts for: their own, or one theirs
    serves (`Principal.serves`, filled in by the service where its rules allow it)."""
    return person.organization_id is not None and person.organization_id in principal.acting_for


async def require_patient(
    lookup: PersonLookup, principal: Principal, patient_id: uuid.UUID, *, field: str = "patient_id"
) -> NamedPerson:
    """A patient of an organisation the caller acts for, the one that books, enrols or looks
    after them (a patient's account carries the organisation that registered them), or of one
    it serves (a call centre's)."""
    return await require_person(
        lookup,
        patient_id,
        field=field,
        fits=lambda person: person.role is Role.PATIENT and acts_for(principal, person),
        refusal=f"No patient {patient_id} of your organisation.",
    )
