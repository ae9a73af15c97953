"""Pydantic shapes of patients' appeals and their resolutions, the territory map, callback tasks
and PBX calls."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from services.common.times import AwareInstant
from services.consult.appeals import formulaic
from services.consult.appeals.enums import (
    AnswerLanguage,
    AppealCategory,
    AppealChannel,
    AppealEventKind,
    AppealStatus,
    CallbackOutcome,
    CallbackReason,
    CallbackStatus,
    CallEventKind,
    CallOutcome,
    DeliveryStatus,
    MessageKind,
    RedirectTopic,
    ResolutionAction,
    ResolutionResult,
)
from services.consult.values import MAX_TEXT, REGION_PATTERN, LongText, ShortText, Strict

Region = Annotated[str, StringConstraints(pattern=REGION_PATTERN), Field(examples=["42"])]
TerritoryCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[\w\-]{1,32}$"),
    Field(examples=["32731000"], description="The caller's district: an OKTMO code or a name."),
]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9()\- ]{5,32}$")]


def _not_formulaic(value: object) -> object:
    """Refuses an answer that tells the person nothing (`formulaic`), with the reason as the
    error's message and its code as the error's type (`formulaic.<code>`)."""
    if isinstance(value, str) and (refused := formulaic.refusal(value)) is not None:
        raise PydanticCustomError(
            f"formulaic.{refused.code}", "{message}", {"message": refused.message}
        )
    return value


def _each_once(actions: list[ResolutionAction]) -> list[ResolutionAction]:
    if len(set(actions)) != len(actions):
        raise ValueError("name each action once")
    return actions


# What the person is told: checked before its length, so that a short formula is refused for
# what it says, not for being short.
Answer = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=20, max_length=MAX_TEXT),
    BeforeValidator(_not_formulaic),
]
PersonText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]


class Contact(Strict):
    name: str = Field(min_length=1, max_length=255, examples=["Sidorova Maria Petrovna"])
    phone: Phone | None = Field(default=None, examples=["+7 913 123-45-67"])
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=255)


class CallbackCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "reason": "dropped_call",
                    "phone": "+7 913 123-45-67",
                    "due_at": "2025-10-28T15:30:00+07:00",
                }
            ]
        }
    )

    reason: CallbackReason = Field(examples=[CallbackReason.DROPPED_CALL])
    phone: Phone | None = Field(default=None, description="The appeal's contact phone if absent.")
    due_at: AwareInstant | None = Field(
        default=None,
        description="A time agreed with the patient; by default soon, within working hours.",
    )


class AppealCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "channel": "phone",
                    "category": "paid_service_imposition",
                    "region": "42",
                    "territory": "32731000",
                    "contact": {"name": "Sidorova Maria Petrovna", "phone": "+7 913 123-45-67"},
                    "text": "The polyclinic asks 3,500 roubles for a repeat histology the "
                    "oncologist ordered.",
                    "callback": {"reason": "dropped_call"},
                    "call_id": "e3b0c442-98fc-4c14-9afb-f4c8996fb924",
                    "language": "ru",
                }
            ]
        }
    )

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
    call_id: uuid.UUID | None = Field(
        default=None,
        description="The PBX call (`GET /calls?linked=false`) the appeal is made on: linked "
        "to it as `POST /appeals/{appeal_id}/calls` would, with its recording and callback.",
    )
    language: AnswerLanguage | None = Field(
        default=None,
        description="The language the person is answered in (a `topic`'s answer); by default "
        "the request's `Accept-Language`, else English.",
    )


class DoneByOut(BaseModel):
    organization_id: uuid.UUID
    name: str
    position: str


class ResolutionOut(BaseModel):
    """What was done, by whom, with what result; the text the person was told is `answer`."""

    actions: list[ResolutionAction]
    details: str | None
    done_by: DoneByOut
    result: ResolutionResult
    result_reason: str | None
    recorded_by: uuid.UUID = Field(description="The operator who resolved the appeal.")
    created_at: datetime


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
    language: AnswerLanguage = Field(description="The language the person is answered in.")
    reply_channel: str | None = Field(
        description="The chat channel (`telegram`) the thread's replies are sent to; none when "
        "the thread is read in telemed only."
    )
    patient_id: uuid.UUID | None
    contact: Contact
    text: str
    created_by: uuid.UUID
    clock_starts_at: datetime | None = Field(
        description="When the deadline started to run: the next opening if it came after hours."
    )
    answer: str | None = Field(description="What the patient is told was done, or where to go.")
    resolution: ResolutionOut | None = Field(
        default=None,
        description="What was done, by whom, with what result: once resolved (none for appeals "
        "resolved before resolutions were recorded).",
    )
    first_contact_resolution: bool | None
    article_id: uuid.UUID | None = Field(description="The knowledge-base article it cites.")
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
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"organization_id": "3f1c2a9e-8d4b-4c7e-9a51-0b6f2d7e4c10"}]
        }
    )

    organization_id: uuid.UUID = Field(description="An organisation of the appeal's region.")


class ReassignRequest(RouteRequest):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "organization_id": "6fa459ea-ee8a-3ca4-894e-db77e160355e",
                    "reason": "The caller lives in Prokopyevsk district, not the city.",
                }
            ]
        }
    )

    reason: ShortText = Field(examples=["The caller lives in Prokopyevsk district, not the city."])


class DoneBy(Strict):
    organization_id: uuid.UUID | None = Field(
        default=None,
        description="The organisation whose person did it: one of the appeal's region; by "
        "default the organisation responsible for the appeal.",
    )
    name: PersonText = Field(examples=["Petrova Anna Sergeevna"])
    position: PersonText = Field(examples=["Head of Novokuznetsk polyclinic No. 2"])


class ResolveRequest(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "actions": ["called_head", "arranged_free_care", "booked_appointment"],
                    "details": "The head of the polyclinic confirmed the histology is in the "
                    "OMS programme and booked it.",
                    "done_by": {
                        "name": "Petrova Anna Sergeevna",
                        "position": "Head of Novokuznetsk polyclinic No. 2",
                    },
                    "result": "resolved",
                    "answer": "We called the head of the polyclinic: the histology is covered "
                    "by the OMS programme; you are booked for it free of charge on 12 March at "
                    "10:00, room 214.",
                    "first_contact_resolution": False,
                    "answer_by_phone": True,
                    "article_id": "c56a4180-65aa-42ec-a945-5fd21dec0538",
                }
            ]
        }
    )

    actions: Annotated[list[ResolutionAction], AfterValidator(_each_once)] = Field(
        min_length=1,
        max_length=len(ResolutionAction),
        examples=[["called_head", "arranged_free_care", "booked_appointment"]],
        description="What was done, each once, from the actions for the appeal's category "
        "(`GET /appeal-resolution-actions`); another is a 422 naming it.",
    )
    details: LongText | None = Field(
        default=None,
        examples=["The head of the polyclinic confirmed the histology is in the OMS programme."],
        description="What was done in words, for the record: whom, where, what was agreed.",
    )
    done_by: DoneBy = Field(description="Who did it: the organisation and a person in it.")
    result: ResolutionResult = Field(examples=[ResolutionResult.RESOLVED])
    result_reason: ShortText | None = Field(
        default=None,
        description="Why it was refused, or to whom it was referred: needed with `refused` "
        "and `referred`.",
    )
    answer: Answer = Field(
        examples=[
            "We called the head of the polyclinic: the histology is covered by the OMS "
            "programme; you are booked for it free of charge on 12 March at 10:00, room 214."
        ],
        description="What the person is told was done: whom we called, what was agreed, where "
        "and when they will be seen. A formulaic answer ('your appeal has been processed', "
        "'measures have been taken') is a 422 whose `errors[].type` is `formulaic.<reason>` "
        "and whose message says why.",
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
    article_id: uuid.UUID | None = Field(
        default=None,
        description="The knowledge-base article the answer rests on: a published article "
        "holding in the appeal's region (`GET /knowledge/articles`); another is a 422.",
    )


class ResolutionActionOut(BaseModel):
    action: ResolutionAction
    categories: list[AppealCategory] = Field(description="The appeals' categories it answers.")


class RedirectRequest(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"topic": "medicine_availability"}]})

    topic: RedirectTopic


class CloseRequest(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason": "A duplicate of the caller's appeal made an hour earlier."}]
        }
    )

    reason: ShortText = Field(examples=["A duplicate of the caller's appeal made an hour earlier."])


class TerritoryIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Novokuznetsk city district",
                    "organization_id": "3f1c2a9e-8d4b-4c7e-9a51-0b6f2d7e4c10",
                }
            ]
        }
    )

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

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "region": "42",
                    "code": "32731000",
                    "name": "Novokuznetsk city district",
                    "organization_id": "3f1c2a9e-8d4b-4c7e-9a51-0b6f2d7e4c10",
                }
            ]
        }
    )

    region: Region
    code: TerritoryCode


class CallbackAttemptCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"outcome": "no_answer", "note": "Voicemail after eight rings."}]
        }
    )

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
    appeal_id: uuid.UUID | None = Field(
        description="None for a dropped call nobody has filed an appeal on yet."
    )
    call_id: uuid.UUID | None = Field(
        description="The dropped PBX call (`/calls`) that left it; None when an operator "
        "scheduled it."
    )
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
    call_refused: str | None = Field(
        default=None, description="Why the `call_id` given was not linked to the appeal."
    )


class CallbackPage(BaseModel):
    items: list[CallbackOut]
    next_cursor: str | None


# Calls from a PBX ---------------------------------------------------------------------------

CallerNumber = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9()\- ]{3,32}$")
]


class CallEventIn(Strict):
    """One event of a PBX call, as a PBX adapter posts it (docs/telephony.md)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "call_id": "1718871234.42",
                    "event": "dropped",
                    "at": "2025-10-28T09:14:05+07:00",
                    "line": "8800",
                    "caller": "+7 913 123-45-67",
                }
            ]
        }
    )

    call_id: str = Field(
        pattern=r"^[\w.:@\-]{1,128}$",
        examples=["1718871234.42"],
        description="The PBX's own id of the call (Asterisk's channel `id`, FreeSWITCH's "
        "`Unique-ID`): with the event, the key a repeated delivery is known by.",
    )
    event: CallEventKind
    at: AwareInstant = Field(description="When it happened at the PBX.")
    line: str = Field(
        pattern=r"^[\w.:@+\-]{1,64}$",
        examples=["8800"],
        description="The line or queue the caller dialled: which hotline answers it "
        "(`TELEMED_CONSULT_TELEPHONY` `lines`, else the client's own organisation).",
    )
    caller: CallerNumber | None = Field(
        default=None,
        examples=["+7 913 123-45-67"],
        description="The caller's number; absent when withheld (a dropped call then owes no "
        "callback: there is nobody to call).",
    )
    extension: str | None = Field(
        default=None,
        pattern=r"^[\w.:@+\-]{1,64}$",
        examples=["204"],
        description="With `answered`: the operator's extension or agent login at the PBX.",
    )
    recording_url: HttpUrl | None = Field(
        default=None,
        description="With `recording_available`: where consult fetches the audio (WAV, Ogg or "
        "MP3), under one of the deployment's `recording_sources`.",
    )
    recording_file_id: uuid.UUID | None = Field(
        default=None,
        description="With `recording_available`, instead of a URL: a file the client uploaded "
        "itself (`POST /api/files/files?kind=recording`).",
    )

    @model_validator(mode="after")
    def _recording_where_it_belongs(self) -> "CallEventIn":
        given = (self.recording_url is not None) + (self.recording_file_id is not None)
        if self.event is CallEventKind.RECORDING_AVAILABLE and given != 1:
            raise ValueError("a recording comes with one of `recording_url`, `recording_file_id`")
        if self.event is not CallEventKind.RECORDING_AVAILABLE and given:
            raise ValueError("only `recording_available` brings a recording")
        return self


class RecordingOut(BaseModel):
    file_id: uuid.UUID = Field(description="The stored file in the files service.")
    media_type: str = Field(examples=["audio/ogg"])
    size: int


class CallOut(BaseModel):
    id: uuid.UUID
    external_id: str = Field(description="The PBX's own id of the call.")
    line: str
    organization_id: uuid.UUID = Field(description="The hotline the line belongs to.")
    region: str
    caller: str | None
    extension: str | None = Field(description="Where it was answered, as the PBX names it.")
    outcome: CallOutcome
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    duration_seconds: int | None = Field(description="From the start to the end of the call.")
    talk_seconds: int | None = Field(description="From the answer to the end of the call.")
    appeal_id: uuid.UUID | None = Field(description="The appeal made on the call, once linked.")
    linked_by: uuid.UUID | None = Field(description="The operator who linked it.")
    recording: RecordingOut | None = Field(
        description="Stored once the PBX said it was available; read it with the appeal's "
        "`POST /appeals/{appeal_id}/calls/grant`."
    )
    callback_id: uuid.UUID | None = Field(description="The callback it left when dropped.")


class CallLink(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"call_id": "e3b0c442-98fc-4c14-9afb-f4c8996fb924"}]}
    )

    call_id: uuid.UUID = Field(description="The call's `id` in consult (not the PBX's).")


class RecordingsGrant(BaseModel):
    grant: str = Field(description="Send to the files service as the `Telemed-Grant` header.")
    expires_at: datetime
    appeal_id: uuid.UUID
    file_ids: list[uuid.UUID] = Field(description="The recordings of the appeal's calls.")


class DeliveryOut(BaseModel):
    """How an outgoing message is getting on its way to the person's chat."""

    model_config = ConfigDict(from_attributes=True)

    channel: str
    status: DeliveryStatus
    attempts: int
    delivered_at: datetime | None
    last_error: str | None


class MessageOut(BaseModel):
    """One message of an appeal's thread; the first is the appeal's own text (`id` null)."""

    id: int | None
    kind: MessageKind
    direction: str = Field(pattern="^(in|out)$", description="`in` from the person, `out` to them.")
    channel: AppealChannel
    author_id: uuid.UUID | None = Field(description="The staff member who wrote it.")
    author_name: str | None = Field(description="The person's name as their chat gives it.")
    text: str
    at: datetime
    delivery: DeliveryOut | None = Field(
        description="For an outgoing message on an appeal that came by a chat: its sending."
    )


class DeliveryState(DeliveryOut):
    """The sending of an outgoing message a reader already has, by the message's id."""

    message_id: int


class ThreadNews(BaseModel):
    """What is new in a thread for a reader who has it up to one message (`after`)."""

    status: AppealStatus = Field(description="Stop asking once the appeal is no longer open.")
    messages: list[MessageOut] = Field(description="The messages after `after`, oldest first.")
    deliveries: list[DeliveryState] = Field(
        description="How the sending of the outgoing messages up to `after` goes, without "
        "their texts (the reader has them)."
    )


class ReplyIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "text": "Здравствуйте! Уточните, пожалуйста, номер полиса ОМС и поликлинику, "
                    "к которой вы прикреплены."
                }
            ]
        }
    )

    text: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)
    ] = Field(
        description="What the person reads (a Telegram message holds up to 4,096 characters).",
        examples=["Наличие лекарства знает аптека: позвоните в аптеку у дома или на "
                  "региональную справочную линию о наличии лекарств."],
    )  # fmt: skip


class RedirectAnswerIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "text": "О наличии лекарства по льготному рецепту вам скажут в аптеке, "
                    "указанной в рецепте, или в региональной справочной службе "
                    "лекарственного обеспечения Кузбасса."
                }
            ]
        }
    )

    text: Answer


class RedirectAnswerOut(BaseModel):
    topic: RedirectTopic
    language: AnswerLanguage
    text: str
    built_in: bool = Field(description="The built-in answer: the organisation has no wording.")
    updated_by: uuid.UUID | None
    updated_at: datetime | None
