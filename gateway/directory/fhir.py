"""The directory as FHIR R4: patients as Patient, staff as Practitioner and PractitionerRole
(one role each: their organisation and specialty; the role's id is the user's), organisations
as Organization. Reads and searches follow the directory's own rules (`access.can_see_user`,
`visible_users`) and are audited as its reads are; a read also shows a Patient or Practitioner
whom a record the reader sees names (`fhir_named.py`: a patient's specialist, a specialist's
patient), so every reference the reader is given resolves; a search finds by the rule alone.
Organisations are open to every signed-in caller, as `GET /api/directory/organizations`."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from gateway.directory.access import can_see_user, visible_users
from gateway.directory.fhir_named import Named
from gateway.directory.models import Patient
from gateway.directory.patients import STAFF
from gateway.directory.serving import acting
from gateway.models import Organization, User
from services.common.audit import Outcome
from services.common.auth import Principal, Role
from services.common.errors import NotFound
from services.common.fhir import FhirTerms, concept, hyphenated, instant, reference
from services.common.fhir_search import (
    Search,
    containing,
    one_page,
    reference_token,
    split_page,
)
from services.common.uow import UnitOfWork

Cursor = tuple[datetime, uuid.UUID] | None
UserRow = tuple[User, str | None, Patient | None]  # the user, their region, registration
RESOURCE = "user"  # audited as the directory's user reads are
PEOPLE = ("Patient", "Practitioner", "PractitionerRole")


def _is_type(user: User, resource_type: str) -> bool:
    """Patients are Patients; every other user (staff, administrators) a Practitioner."""
    return (user.role == Role.PATIENT.value) == (resource_type == "Patient")


def _common(resource_type: str, user: User) -> dict[str, Any]:
    return {
        "resourceType": resource_type,
        "id": str(user.id),
        "meta": {"lastUpdated": instant(user.updated_at)},
        "active": user.is_active,
    }


def patient(terms: FhirTerms, user: User, registration: Patient | None) -> dict[str, Any]:
    """Birth date, sex and policy number are the registry's, shown to staff (`registration`
    is None for anyone else), as the directory shows them."""
    resource = _common("Patient", user)
    if registration is not None and registration.policy_number:
        resource["identifier"] = [
            {"system": terms.policy_system, "value": registration.policy_number}
        ]
    resource["name"] = [{"text": user.full_name}]
    if registration is not None:
        resource["gender"] = registration.sex.value
        resource["birthDate"] = registration.birth_date.isoformat()
    if user.organization_id:
        resource["managingOrganization"] = reference("Organization", user.organization_id)
    return resource


def practitioner(user: User) -> dict[str, Any]:
    return _common("Practitioner", user) | {"name": [{"text": user.full_name}]}


def practitioner_role(terms: FhirTerms, user: User) -> dict[str, Any]:
    resource = _common("PractitionerRole", user)
    resource["practitioner"] = reference("Practitioner", user.id) | {"display": user.full_name}
    if user.organization_id:
        resource["organization"] = reference("Organization", user.organization_id)
    resource["code"] = [concept(terms.local("role", hyphenated(user.role)))]
    if user.specialty:
        resource["specialty"] = [terms.specialty(user.specialty)]
    return resource


def organization(terms: FhirTerms, found: Organization) -> dict[str, Any]:
    return {
        "resourceType": "Organization",
        "id": str(found.id),
        "meta": {"lastUpdated": instant(found.updated_at)},
        "active": True,
        "type": [concept(terms.local("organization-kind", hyphenated(found.kind)))],
        "name": found.name,
        "address": [{"state": found.region}],
    }


def render(terms: FhirTerms, resource_type: str, row: UserRow) -> dict[str, Any]:
    user, _, registration = row
    if resource_type == "Patient":
        return patient(terms, user, registration)
    if resource_type == "Practitioner":
        return practitioner(user)
    return practitioner_role(terms, user)


def _people(caller: Principal) -> Select[User, str | None, Patient | None]:
    """Users with their region and, for staff readers, their registration."""
    query = select(User, Organization.region, Patient).outerjoin(
        Organization, User.organization_id == Organization.id
    )
    # Only staff read a patient's registration (`patients.with_registration`).
    on = Patient.user_id == User.id if caller.role in STAFF else Patient.user_id.is_(None)
    return query.outerjoin(Patient, on)


async def read_person(
    uow: UnitOfWork,
    principal: Principal,
    resource_type: str,
    user_id: uuid.UUID,
    named: Named | None = None,
) -> UserRow:
    """A user the caller may see (the directory's `GET /users/{id}` rule) or whom a record
    they see names (`named`), of the type's kind; anyone else is the same 404 as no one, on
    record as a denial."""
    caller = await acting(uow.session, principal)
    row = (await uow.session.execute(_people(caller).where(User.id == user_id))).one_or_none()
    detail = "FHIR"
    if row is None or not _is_type(row[0], resource_type):
        seen = False
    elif not (seen := can_see_user(caller, *row[:2])) and named is not None:
        # Nothing is written yet: ending the read frees the database (SQLite's write lock)
        # while the services are asked, which may ask this directory about the caller.
        await uow.session.commit()
        seen = await named(resource_type, user_id)
        detail = "FHIR: named in a record the reader sees"
    if not seen or row is None:
        uow.audit.record("user.read", RESOURCE, user_id, Outcome.DENIED, detail="FHIR")
        raise NotFound(f"No {resource_type} with this id is visible to you.")
    uow.audit.record("user.read", RESOURCE, user_id, detail=detail)
    return row[0], row[1], row[2]


async def search_people(
    uow: UnitOfWork, principal: Principal, resource_type: str, search: Search
) -> tuple[list[UserRow], Cursor]:
    """The users of the type the caller may see, by `name` (a part of it), `organization`,
    `practitioner` and `specialty` where the type takes them; each one shown is audited."""
    caller = await acting(uow.session, principal)
    query = _people(caller).where(visible_users(caller))
    is_patient = User.role == Role.PATIENT.value
    query = query.where(is_patient if resource_type == "Patient" else ~is_patient)
    if name := search.tokens.get("name"):
        query = query.where(User.full_name.ilike(containing(name), escape="\\"))
    if (organization_id := reference_token(search, "organization", "Organization")) is not None:
        query = query.where(User.organization_id == organization_id)
    if (user_id := reference_token(search, "practitioner", "Practitioner")) is not None:
        query = query.where(User.id == user_id)
    if specialty := search.tokens.get("specialty"):
        query = query.where(User.specialty == specialty.rpartition("|")[2])
    found = (await uow.session.execute(one_page(query, User.created_at, User.id, search))).all()
    rows = [(row[0], row[1], row[2]) for row in found]
    page, after = split_page(rows, search, lambda row: (row[0].created_at, row[0].id))
    uow.audit.record("user.list", RESOURCE, None, detail=f"FHIR {resource_type}: {len(page)}")
    for user, _, _ in page:
        uow.audit.record("user.read", RESOURCE, user.id, detail="FHIR")
    return page, after


async def read_organization(uow: UnitOfWork, organization_id: uuid.UUID) -> Organization:
    found = await uow.session.get(Organization, organization_id)
    if found is None:
        raise NotFound("No Organization with this id.")
    return found


async def search_organizations(
    uow: UnitOfWork, search: Search
) -> tuple[list[Organization], Cursor]:
    """By `name` (a part of it) and `type` (the organisation kind, `district-hospital`)."""
    query = select(Organization)
    if name := search.tokens.get("name"):
        query = query.where(Organization.name.ilike(containing(name), escape="\\"))
    if kind := search.tokens.get("type"):
        query = query.where(Organization.kind == kind.rpartition("|")[2].replace("-", "_"))
    found = one_page(query, Organization.created_at, Organization.id, search)
    rows = (await uow.session.scalars(found)).all()
    return split_page(rows, search, lambda row: (row.created_at, row.id))
