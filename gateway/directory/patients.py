"""Patients registered by staff: a `users` row of role patient with no password (they sign in
only once invited) and their registration record; duplicates caught by policy number and by
name and birth date; found and edited within the organisations the caller acts for."""

import secrets
import uuid
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, case, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.directory.enums import DuplicateReason
from gateway.directory.models import Patient, fold_name
from gateway.directory.schemas import (
    Duplicate,
    PatientCreate,
    PatientPage,
    PatientUpdate,
)
from gateway.directory.schemas import Patient as PatientView
from gateway.models import Organization, User
from gateway.schemas import User as UserView
from services.common.auth import Principal, Role
from services.common.errors import Conflict, Forbidden, NotFound, UnknownReference
from services.common.uow import UnitOfWork

RESOURCE = "patient"
# Registry and call-centre staff, coordinators, and administrators keep the register.
KEEPERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.REGISTRAR})
# Who read a patient's birth date and sex with the rest of their directory entry.
STAFF = KEEPERS | {Role.DISTRICT_MEDIC, Role.SPECIALIST}


def _require_keeper(uow: UnitOfWork, principal: Principal, action: str) -> None:
    if principal.role not in KEEPERS:
        uow.audit.refuse(
            action,
            RESOURCE,
            None,
            Forbidden("Registrars, coordinators and administrators keep the patient register."),
        )


def visible(principal: Principal) -> ColumnElement[bool]:
    """The patients the caller may find: of the organisations they act for (`serves` filled
    in); an administrator's, all."""
    if principal.role is Role.ADMIN:
        return true()
    return User.organization_id.in_(list(principal.acting_for))


def can_see(principal: Principal, user: User) -> bool:
    return principal.role is Role.ADMIN or user.organization_id in principal.acting_for


def view(user: User, patient: Patient) -> PatientView:
    return PatientView(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        organization_id=user.organization_id,
        birth_date=patient.birth_date,
        sex=patient.sex,
        policy_number=patient.policy_number,
        phone=user.phone,
        email=user.email,
        language=user.language,
        is_active=user.is_active,
        can_sign_in=user.password_hash is not None,
        registered_by=patient.registered_by,
        registered_at=patient.registered_at,
    )


async def with_registration(
    session: AsyncSession, principal: Principal, user: User, view: UserView
) -> UserView:
    """A registered patient's user view with their birth date and sex, for staff (who see
    them: the directory's rule is checked first); anyone else's view as it is."""
    if user.role != Role.PATIENT.value or principal.role not in STAFF:
        return view
    patient = await session.get(Patient, user.id)
    if patient is None:
        return view
    return view.model_copy(update={"birth_date": patient.birth_date, "sex": patient.sex.value})


def _registered() -> Select[User, Patient]:
    """Patients with their registration (a user no longer a patient is not one)."""
    return (
        select(User, Patient)
        .join(Patient, Patient.user_id == User.id)
        .where(User.role == Role.PATIENT.value)
    )


async def _duplicates(
    uow: UnitOfWork, principal: Principal, *criteria: ColumnElement[bool]
) -> tuple[bool, list[Duplicate]]:
    """Whether any registration meets `criteria` (whatever its user's role now: a policy number
    is one person's), and those of them the caller may see."""
    query = select(User, Patient).join(Patient, Patient.user_id == User.id).where(*criteria)
    rows = (await uow.session.execute(query.limit(20))).all()
    shown = [
        Duplicate(
            id=user.id,
            full_name=user.full_name,
            birth_date=patient.birth_date,
            organization_id=user.organization_id,
        )
        for user, patient in rows
        if can_see(principal, user)
    ]
    return bool(rows), shown


def _duplicate(detail: str, reason: DuplicateReason, shown: list[Duplicate]) -> Conflict:
    """The 409 a client tells apart by `reason`, not by its words."""
    duplicates = [item.model_dump(mode="json") for item in shown]
    return Conflict(detail, reason=reason.value, duplicates=duplicates)


async def _check_policy(
    uow: UnitOfWork, principal: Principal, action: str, policy: str, user_id: uuid.UUID | None
) -> None:
    criteria = [Patient.policy_number == policy]
    if user_id is not None:
        criteria.append(Patient.user_id != user_id)
    found, shown = await _duplicates(uow, principal, *criteria)
    if found:
        detail = "A patient with this OMS policy number is registered."
        conflict = _duplicate(detail, DuplicateReason.POLICY_NUMBER, shown)
        uow.audit.refuse(action, RESOURCE, user_id, conflict)


async def _target_organization(
    uow: UnitOfWork, principal: Principal, wanted: uuid.UUID | None
) -> uuid.UUID:
    """The organisation to register with: one the caller acts for, theirs by default. Its row
    is locked, so two registrations of one person there cannot both miss each other."""
    action = "patient.create"
    organization_id = wanted or principal.organization_id
    if organization_id is None:
        issue = {"loc": ["body", "organization_id"], "msg": "required", "type": "missing"}
        refusal = UnknownReference("Name the patient's organisation.", errors=[issue])
        uow.audit.refuse(action, RESOURCE, None, refusal)
    if principal.role is not Role.ADMIN and organization_id not in principal.acting_for:
        uow.audit.refuse(
            action,
            RESOURCE,
            None,
            Forbidden(f"You do not act for organisation {organization_id}."),
        )
    query = select(Organization.id).where(Organization.id == organization_id).with_for_update()
    if await uow.session.scalar(query) is None:
        issue = {"loc": ["body", "organization_id"], "msg": "unknown", "type": "unknown"}
        refusal = UnknownReference(f"No organisation {organization_id}.", errors=[issue])
        uow.audit.refuse(action, RESOURCE, None, refusal)
    return organization_id


async def _store(
    uow: UnitOfWork,
    principal: Principal,
    action: str,
    user_id: uuid.UUID,
    policy: str | None,
    *rows: User | Patient,
) -> None:
    """Writes the changes and `rows`, one after the other (the user before their record,
    which no relationship orders); a policy number taken meanwhile by a concurrent
    registration is a 409 all the same. (`user_id` and `policy` come as values: a rolled-back
    flush expires the rows.)"""
    try:
        async with uow.session.begin_nested():
            await uow.session.flush()
            for row in rows:
                uow.session.add(row)
                await uow.session.flush()
    except IntegrityError:
        if policy is not None:
            with uow.session.no_autoflush:  # the refused changes are not to be tried again
                await _check_policy(uow, principal, action, policy, user_id)
        conflict = Conflict("The record changed meanwhile; try again.")
        uow.audit.refuse(action, RESOURCE, user_id, conflict)


async def register(
    uow: UnitOfWork, principal: Principal, body: PatientCreate, now: datetime
) -> PatientView:
    """A patient of an organisation the caller acts for (`principal.serves` filled in by
    `serving.acting`), unless their policy number, or a namesake born the same day the caller
    may see (without `allow_namesake`), is on record: a 409 naming them."""
    action = "patient.create"
    _require_keeper(uow, principal, action)
    organization_id = await _target_organization(uow, principal, body.organization_id)
    name_key = fold_name(body.full_name)
    if body.policy_number is not None:
        await _check_policy(uow, principal, action, body.policy_number, None)
    if not body.allow_namesake:
        # Among the patients the caller may see: a namesake elsewhere is none of theirs to know.
        _, shown = await _duplicates(
            uow,
            principal,
            visible(principal),
            Patient.name_key == name_key,
            Patient.birth_date == body.birth_date,
        )
        if shown:
            detail = "A patient of this name and birth date is registered; send allow_namesake."
            conflict = _duplicate(detail, DuplicateReason.NAMESAKE, shown)
            uow.audit.refuse(action, RESOURCE, None, conflict)
    user = User(
        id=uuid.uuid4(),
        username=f"p{secrets.token_hex(6)}",
        password_hash=None,
        full_name=body.full_name,
        role=Role.PATIENT.value,
        organization_id=organization_id,
        email=body.email,
        phone=body.phone,
        language=body.language.value,
        is_active=True,
    )
    patient = Patient(
        user_id=user.id,
        birth_date=body.birth_date,
        sex=body.sex,
        policy_number=body.policy_number,
        name_key=name_key,
        registered_by=principal.subject,
        registered_at=now,
    )
    await _store(uow, principal, action, user.id, body.policy_number, user, patient)
    uow.audit.record(action, RESOURCE, user.id)
    return view(user, patient)


async def _load(
    uow: UnitOfWork, principal: Principal, patient_id: uuid.UUID, action: str, write: bool
) -> tuple[User, Patient]:
    _require_keeper(uow, principal, action)
    query = _registered().where(User.id == patient_id)
    if write:
        query = query.with_for_update()
    row = (await uow.session.execute(query)).one_or_none()
    if row is None or not can_see(principal, row[0]):
        uow.audit.refuse(
            action, RESOURCE, patient_id, NotFound(f"No patient {patient_id} is visible to you.")
        )
    return row[0], row[1]


async def read(uow: UnitOfWork, principal: Principal, patient_id: uuid.UUID) -> PatientView:
    user, patient = await _load(uow, principal, patient_id, "patient.read", write=False)
    uow.audit.record("patient.read", RESOURCE, user.id)
    return view(user, patient)


async def update(
    uow: UnitOfWork, principal: Principal, patient_id: uuid.UUID, body: PatientUpdate
) -> PatientView:
    """Changes the fields the body sets; a policy number on another patient's record is a 409."""
    action = "patient.update"
    user, patient = await _load(uow, principal, patient_id, action, write=True)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("policy_number") is not None:
        await _check_policy(uow, principal, action, changes["policy_number"], user.id)
    for name in ("full_name", "phone", "email", "language"):
        if name in changes:
            setattr(user, name, changes[name])
    for name in ("birth_date", "sex", "policy_number"):
        if name in changes:
            setattr(patient, name, changes[name])
    await _store(uow, principal, action, patient_id, patient.policy_number)
    uow.audit.record(action, RESOURCE, user.id, detail=" ".join(sorted(changes)))
    return view(user, patient)


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search(
    uow: UnitOfWork,
    principal: Principal,
    *,
    q: str | None,
    birth_date: date | None,
    policy_number: str | None,
    limit: int,
    offset: int,
) -> PatientPage:
    """Patients of the organisations the caller acts for: by a part of the name (those whose
    name starts with it first), birth date and policy number; each one shown is audited."""
    _require_keeper(uow, principal, "patient.list")
    query = _registered().where(visible(principal))
    order: list[ColumnElement[object]] = []
    if q and fold_name(q):
        key = _escaped(fold_name(q))
        query = query.where(Patient.name_key.like(f"%{key}%", escape="\\"))
        order.append(case((Patient.name_key.like(f"{key}%", escape="\\"), 0), else_=1))
    if birth_date is not None:
        query = query.where(Patient.birth_date == birth_date)
    if policy_number is not None:
        query = query.where(Patient.policy_number == policy_number)
    query = query.order_by(*order, Patient.name_key, User.id).offset(offset).limit(limit + 1)
    rows = (await uow.session.execute(query)).all()
    items = [view(user, patient) for user, patient in rows[:limit]]
    uow.audit.record("patient.list", RESOURCE, None, detail=f"returned={len(items)}")
    for item in items:
        uow.audit.record("patient.read", RESOURCE, item.id)
    return PatientPage(items=items, next_offset=offset + limit if len(rows) > limit else None)
