"""Pydantic shapes of patients' appeals, the territory map and callback tasks."""

import re
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from services.common.times import AwareInstant
from services.consult.appeals.enums import (
    AppealCategory,
    AppealChannel,
    AppealEventKind,
    AppealStatus,
    CallbackOutcome,
    CallbackReason,
    CallbackStatus,
    RedirectTopic,
)
from services.consult.values import REGION_PATTERN, LongText, ShortText, Strict

# Words that say an appeal was handled without saying how: an answer made of nothing else is
# the "processed" the patient is not to be told.
EMPTY_WORDS_TEXT = """
the your appeal request complaint question has have been was is it we were and processed
handled resolved done closed considered reviewed ваше ваш обращение жалоба вопрос было был была
и обработано обработан рассмотрено рассмотрен решено решён решен выполнено закрыто принято
"""
EMPTY_WORDS = frozenset(EMPTY_WORDS_TEXT.split())

Region = Annotated[str, StringConstraints(pattern=REGION_PATTERN), Field(examples=["42"])]
TerritoryCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[\w\-]{1,32}$"),
    Field(examples=["32731000"], description="The caller's district: an OKTMO code or a name."),
]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9()\- ]{5,32}$")]


def _says_what_was_done(value: str) -> str:
    words = set(re.findall(r"\w+", value.lower()))
    if words <= EMPTY_WORDS:
        raise ValueError("say what was done for the patient, not only that the appeal was handled")
    return value


class Contact(Strict):
    name: str = Field(min_length=1, max_length=255, examples=["Sidorova Maria Petrovna"])
    phone: Phone | None = Field(default=None, examples=["+7 913 123-45-67"])
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=255)


class CallbackCreate(Strict):
    reason: CallbackReason = Field(examples=[CallbackReason.DROPPED_CALL])
    phone: Phone | None = Field(default=None, description="The appeal's contact phone if absent.")
    due_at: AwareInstant | None = Field(
        default=None,
        description="A time agreed with the patient; by default soon, within working hours.",
    )


class AppealCreate(Strict):
    channel: AppealChannel = Field(examples=[AppealChannel.PHONE])
    category: AppealCategory = Field(examples=[AppealCategory.PAID_SERVICE_IMPOSITION])
    region: Region | None = Field(
        default=None,
        description="Staff and API clients file in their own region; a patient names it.",
    )
    territory: TerritoryCode
    contact: Contact
    patient_id: uuid.UUID | None = Field(
        default=None, description="The registered patient, if known; a patient's own by default."
    )
    text: LongText = Field(
        examples=[
            "The polyclinic asks 3,500 roubles for a repeat histology the oncologist ordered."
        ]
    )
    topic: RedirectTopic | None = Field(
        default=None,
        description="Set when the appeal asks what the channels do not handle (diagnosis or "
        "treatment, medicine availability, emergency care): it is answered at once with where "
        "to go and closed as redirected.",
    )
    callback: CallbackCreate | None = Field(
        default=None,
        description="A call to schedule with the appeal in the same request (after a dropped "
        "call), as `POST /appeals/{appeal_id}/callbacks` would. If it cannot be (an appeal "
        "answered at once owes no call, no phone to call), the appeal is filed all the same "
        "and `callback_refused` says why.",
    )


class AppealSummary(BaseModel):
    """What a queue shows of an appeal: no contact details, no text."""

    id: uuid.UUID
    region: str
    channel: AppealChannel
    category: AppealCategory
    status: AppealStatus
    territory_code: str
    organization_id: uuid.UUID | None = Field(description="The organisation responsible.")
    assignee_id: uuid.UUID | None
    received_at: datetime
    due_at: datetime
    escalated_at: datetime | None
    created_at: datetime
    overdue: bool = Field(description="Open and past its deadline.")


class AppealOut(AppealSummary):
    redirect_topic: RedirectTopic | None
    patient_id: uuid.UUID | None
    contact: Contact
    text: str
    created_by: uuid.UUID
    clock_starts_at: datetime | None = Field(
        description="When the deadline started to run: the next opening if it came after hours."
    )
    answer: str | None = Field(description="What the patient is told was done, or where to go.")
    first_contact_resolution: bool | None
    close_reason: str | None
    resolved_at: datetime | None
    closed_at: datetime | None
    updated_at: datetime


class AppealPreview(BaseModel):
    """What filing an appeal now would do, said before it is filed: an operator on a live call
    tells the caller who will answer and by when, or reads out where to go instead."""

    region: str
    territory: str | None
    territory_name: str | None = Field(description="None when the map does not know it.")
    organization_id: uuid.UUID | None = Field(
        description="The organisation the map names; None: an operator routes it by hand."
    )
    clock_starts_at: datetime | None = Field(
        description="When the deadline would start to run: now, or the next opening."
    )
    due_at: datetime | None = Field(
        description="The deadline in that organisation's working hours; None when the appeal "
        "would not be routed (an unknown territory) or is answered at once (`topic`)."
    )
    answer: str | None = Field(
        description="For a `topic` the channels do not handle: the answer to read out."
    )


class AppealPage(BaseModel):
    items: list[AppealSummary]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class AppealEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: AppealEventKind
    at: datetime
    actor_id: uuid.UUID | None = Field(description="None when the system acted (escalation).")
    actor_role: str | None
    from_organization_id: uuid.UUID | None
    to_organization_id: uuid.UUID | None
    note: str | None


class RouteRequest(Strict):
    organization_id: uuid.UUID = Field(description="An organisation of the appeal's region.")


class ReassignRequest(RouteRequest):
    reason: ShortText = Field(examples=["The caller lives in Prokopyevsk district, not the city."])


class ResolveRequest(Strict):
    answer: Annotated[LongText, AfterValidator(_says_what_was_done)] = Field(
        min_length=20,
        examples=[
            "We called the head of the polyclinic: the histology is covered by the OMS "
            "programme; you are booked for it free of charge on 12 March at 10:00, room 214."
        ],
        description="What was actually done, for the patient: whom we called, what was "
        "agreed, where and when they will be seen. Never just 'processed'.",
    )
    first_contact_resolution: bool = Field(
        description="Whether it was resolved within the first contact, with no follow-up."
    )
    answer_by_phone: bool | None = Field(
        default=None,
        description="Whether to schedule a call to give the patient this answer. By default, "
        "yes for a phone appeal not resolved at first contact (the caller has hung up); say "
        "false when they already heard it on a callback.",
    )


class RedirectRequest(Strict):
    topic: RedirectTopic


class CloseRequest(Strict):
    reason: ShortText = Field(examples=["A duplicate of the caller's appeal made an hour earlier."])


class TerritoryIn(Strict):
    name: str = Field(min_length=1, max_length=255, examples=["Novokuznetsk city district"])
    organization_id: uuid.UUID


class TerritoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    region: str
    code: str
    name: str
    organization_id: uuid.UUID
    updated_at: datetime


class TerritoryFileEntry(TerritoryIn):
    """One line of the territory file loaded at start-up."""

    region: Region
    code: TerritoryCode


class CallbackAttemptCreate(Strict):
    outcome: CallbackOutcome
    note: ShortText | None = None


class CallbackAttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    operator_id: uuid.UUID
    outcome: CallbackOutcome
    note: str | None
    at: datetime


class CallbackOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    appeal_id: uuid.UUID
    region: str
    organization_id: uuid.UUID = Field(description="Whose operators make the call.")
    assignee_id: uuid.UUID | None = Field(description="The operator it is kept for, if any.")
    phone: str
    reason: CallbackReason
    status: CallbackStatus
    due_at: datetime
    attempts: int
    max_attempts: int
    last_outcome: CallbackOutcome | None
    closed_at: datetime | None
    attempt_log: list[CallbackAttemptOut]


class AppealCreated(AppealOut):
    """The filed appeal, with the callback asked for with it."""

    callback: CallbackOut | None = Field(
        default=None, description="The call scheduled with the appeal (`callback` asked for)."
    )
    callback_refused: str | None = Field(
        default=None, description="Why the `callback` asked for was not scheduled."
    )


class CallbackPage(BaseModel):
    items: list[CallbackOut]
    next_cursor: str | None
