"""Persistence of the directory beyond organisations and users: which organisations serve
which, and the registration record of a patient registered by staff."""

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Connection, Date, ForeignKey, Index, String, event, update
from sqlalchemy.orm import Mapped, Mapper, mapped_column
from sqlalchemy.orm.attributes import get_history

from gateway.directory.enums import Sex
from gateway.models import Base, User
from services.common.db import UTCDateTime, string_enum


def fold_name(full_name: str) -> str:
    """A full name as the registry compares it: case, ё against its plain letter and spacing
    do not matter."""
    return " ".join(full_name.casefold().replace("\u0451", "\u0435").split())


class OrganizationService(Base):
    """`provider_id` serves `served_id`: the provider's staff (a call centre's registrars and
    coordinators) act for the served organisation's patients as for their own."""

    __tablename__ = "organization_services"
    __table_args__ = (CheckConstraint("provider_id <> served_id", name="not_self"),)

    provider_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    # Serves "who serves this organisation" (the directory's view of a patient's organisation).
    served_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Patient(Base):
    """What a registry records of a patient besides their user row (name, organisation,
    contacts): who they are by the OMS policy, and who registered them when."""

    __tablename__ = "patients"
    __table_args__ = (
        # Serves the namesake check (same name key and birth date) and the search by birth date.
        Index("ix_patients_birth_date_name_key", "birth_date", "name_key"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[Sex] = mapped_column(string_enum(Sex))
    # The unified OMS policy number (16 digits); one person, one policy.
    policy_number: Mapped[str | None] = mapped_column(String(16), unique=True)
    # The full name folded for comparison (`fold_name`: lower case, ё as plain e,
    # single spaces). SQLite folds only ASCII case: the search compares this, not `full_name`.
    name_key: Mapped[str] = mapped_column(String(255))
    registered_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)


@event.listens_for(User, "before_update")
def _keep_the_name_key(_mapper: Mapper[User], connection: Connection, user: User) -> None:
    """Whoever renames a person (the register, an administrator, the person themselves) keeps
    their registration's name key in step, in the same transaction."""
    if get_history(user, "full_name").has_changes():
        connection.execute(
            update(Patient)
            .where(Patient.user_id == user.id)
            .values(name_key=fold_name(user.full_name))
        )
