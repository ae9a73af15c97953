"""Calls a PBX reports (started, answered, dropped, ended, recording available): each call's
record on its line's hotline, the callback a dropped call leaves, its recording stored through
the files service, and its link to the appeal made on it.

An event is taken once per (call, event): a PBX or its adapter delivers again after a time-out,
and the second delivery finds the first's record and gets its answer, changing nothing.

A call is dropped when the PBX says so (the caller hung up waiting, or the line was cut during
the conversation) or when it ends without having been answered: nobody finished speaking to
the caller, who is called back, once per call whichever event says it first.
"""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from services.common.auth import Principal, Role, require_client_scope
from services.common.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ProblemError,
    UnknownReference,
    Unprocessable,
)
from services.common.grants import GrantIssuer
from services.common.uow import UnitOfWork
from services.consult.appeals.access import add_event, is_operator, load_appeal
from services.consult.appeals.callbacks import owe_dropped_call
from services.consult.appeals.enums import AppealEventKind, CallEventKind, CallOutcome
from services.consult.appeals.models import Appeal, Call, Callback, CallEvent
from services.consult.appeals.recordings import (
    RecordingStore,
    StoredRecording,
    allowed,
    fetched,
)
from services.consult.appeals.schemas import CallEventIn, CallOut, RecordingOut, RecordingsGrant
from services.consult.appeals.settings import AppealsSettings, TelephonyPolicy
from services.consult.ports import OrganizationLookup
from services.consult.scopes import TELEPHONY_SCOPE, require_scope
from services.files.client import GRANT_AUDIENCE, READ_PURPOSE

RESOURCE = "consult_call"
# The calls an operator is offered to link the appeal they file to: their hotline's recent ones.
RECENT = timedelta(hours=12)
E = CallEventKind


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    return int((end - start).total_seconds()) if start and end else None


def call_out(call: Call, callback_id: uuid.UUID | None) -> CallOut:
    recording = None
    if call.recording_file_id and call.recording_media_type and call.recording_size is not None:
        recording = RecordingOut(
            file_id=call.recording_file_id,
            media_type=call.recording_media_type,
            size=call.recording_size,
        )
    return CallOut(
        id=call.id,
        external_id=call.external_id,
        line=call.line,
        organization_id=call.organization_id,
        region=call.region,
        caller=call.caller,
        extension=call.extension,
        outcome=call.outcome,
        started_at=call.started_at,
        answered_at=call.answered_at,
        ended_at=call.ended_at,
        duration_seconds=_seconds(call.started_at, call.ended_at),
        talk_seconds=_seconds(call.answered_at, call.ended_at),
        appeal_id=call.appeal_id,
        linked_by=call.linked_by,
        recording=recording,
        callback_id=callback_id,
    )


async def _outs(uow: UnitOfWork, calls: list[Call]) -> list[CallOut]:
    """The calls as the API shows them, each with the callback it left."""
    query = select(Callback.call_id, Callback.id).where(
        Callback.call_id.in_([call.id for call in calls])
    )
    left = dict((await uow.session.execute(query)).all())
    return [call_out(call, left.get(call.id)) for call in calls]


# Events from the PBX -------------------------------------------------------------------------


def _require_telephony(uow: UnitOfWork, principal: Principal, action: str) -> None:
    try:
        if principal.role is not Role.API_CLIENT or principal.organization_id is None:
            raise Forbidden("Calls are reported by a PBX's API client (`telephony:events`).")
        require_client_scope(principal, TELEPHONY_SCOPE)
    except Forbidden as error:
        uow.audit.refuse(action, RESOURCE, None, error)


async def _reported(
    uow: UnitOfWork, principal: Principal, external_id: str, *, lock: bool
) -> Call | None:
    query = select(Call).where(Call.source_id == principal.subject, Call.external_id == external_id)
    if lock:
        query = query.with_for_update()
    return (await uow.session.execute(query)).scalar_one_or_none()


async def _answered_before(uow: UnitOfWork, call: Call, kind: CallEventKind) -> object | None:
    """The answer the first delivery of this event got, if it came before."""
    query = select(CallEvent.result).where(CallEvent.call_id == call.id, CallEvent.kind == kind)
    return await uow.session.scalar(query)


async def _new_call(
    uow: UnitOfWork,
    principal: Principal,
    data: CallEventIn,
    organizations: OrganizationLookup,
    policy: TelephonyPolicy,
    now: datetime,
) -> Call:
    """The call's record at its first event, on the line's hotline; a concurrent first event of
    the same call finds the other's record instead."""
    organization_id = policy.lines.get(data.line, principal.organization_id)
    assert organization_id is not None  # a telephony client has one (_require_telephony)
    try:
        region = (await organizations(organization_id)).region
    except ProblemError as error:  # the directory is down, or a line names a lost organisation
        uow.audit.refuse("call.event", RESOURCE, None, error)
    call = Call(
        id=uuid.uuid4(),
        source_id=principal.subject,
        external_id=data.call_id,
        line=data.line,
        organization_id=organization_id,
        region=region,
        caller=data.caller,
        outcome=CallOutcome.RINGING,
        started_at=data.at,
        created_at=now,
        updated_at=now,
    )
    try:
        async with uow.session.begin_nested():
            uow.session.add(call)
    except IntegrityError:
        found = await _reported(uow, principal, data.call_id, lock=True)
        assert found is not None  # the record the other event made
        return found
    return call


async def _recording(
    data: CallEventIn, recordings: RecordingStore, policy: TelephonyPolicy
) -> StoredRecording:
    if data.recording_file_id is not None:
        try:
            return await recordings.check(data.recording_file_id)
        except NotFound as error:
            raise UnknownReference(
                f"No file {data.recording_file_id} of yours to take as the recording."
            ) from error
    assert data.recording_url is not None  # the schema's rule: one or the other
    if not allowed(data.recording_url, policy):
        raise Unprocessable(
            "`recording_url` is not under a recording source of this deployment "
            "(`TELEMED_CONSULT_TELEPHONY` `recording_sources`)."
        )
    return await fetched(str(data.recording_url), f"call-{data.call_id}", policy, recordings)


def _apply(call: Call, data: CallEventIn, recording: StoredRecording | None) -> None:
    """What the event says of the call. Events of one call come in order from a PBX; the
    first `dropped` or unanswered `ended` decides that the call was dropped."""
    call.caller = call.caller or data.caller
    if data.event is E.STARTED:
        call.started_at = min(call.started_at, data.at)
    elif data.event is E.ANSWERED:
        call.answered_at = data.at
        call.extension = data.extension or call.extension
        if call.outcome is CallOutcome.RINGING:
            call.outcome = CallOutcome.TALKING
    elif data.event is E.DROPPED:
        call.ended_at = min(call.ended_at or data.at, data.at)
        call.outcome = CallOutcome.DROPPED
    elif data.event is E.ENDED:
        call.ended_at = min(call.ended_at or data.at, data.at)
        if call.outcome is not CallOutcome.DROPPED:
            answered = call.answered_at is not None
            call.outcome = CallOutcome.COMPLETED if answered else CallOutcome.DROPPED
    elif recording is not None:
        call.recording_file_id = recording.file_id
        call.recording_media_type = recording.media_type
        call.recording_size = recording.size


async def receive_event(
    uow: UnitOfWork,
    principal: Principal,
    data: CallEventIn,
    organizations: OrganizationLookup,
    recordings: RecordingStore,
    settings: AppealsSettings,
    now: datetime,
) -> tuple[object, bool]:
    """Takes one event of a call, once; the answer (the call as the event left it) and whether
    it is the answer the first delivery got. A recording is stored before the call is locked:
    fetching it takes as long as the audio is long."""
    action = "call.event"
    _require_telephony(uow, principal, action)
    known = await _reported(uow, principal, data.call_id, lock=False)
    if known is not None and (first := await _answered_before(uow, known, data.event)):
        uow.audit.record(action, RESOURCE, known.id, detail=f"{data.event.value} again")
        return first, True
    recording = None
    if data.event is E.RECORDING_AVAILABLE:
        try:
            recording = await _recording(data, recordings, settings.telephony)
        except ProblemError as error:
            uow.audit.refuse(action, RESOURCE, known.id if known else None, error)
    call = await _reported(uow, principal, data.call_id, lock=True) or await _new_call(
        uow, principal, data, organizations, settings.telephony, now
    )
    if first := await _answered_before(uow, call, data.event):  # delivered twice at once
        uow.audit.record(action, RESOURCE, call.id, detail=f"{data.event.value} again")
        return first, True
    _apply(call, data, recording)
    call.updated_at = now
    appeal = await uow.session.get(Appeal, call.appeal_id) if call.appeal_id else None
    if data.event in (E.DROPPED, E.ENDED) and call.outcome is CallOutcome.DROPPED:
        await owe_dropped_call(uow, principal, call, appeal, organizations, settings, now)
    if recording is not None and appeal is not None:
        add_event(uow, appeal.id, AppealEventKind.RECORDING_ATTACHED, now, principal)
    await uow.session.flush()
    answer = (await _outs(uow, [call]))[0].model_dump(mode="json")
    uow.session.add(
        CallEvent(call_id=call.id, kind=data.event, at=data.at, received_at=now, result=answer)
    )
    await uow.session.flush()
    uow.audit.record(action, RESOURCE, call.id, detail=f"{data.event.value}, line {call.line}")
    return answer, False


# Operators' reading and linking -------------------------------------------------------------


def _sees(principal: Principal, call: Call) -> bool:
    """The operators of the call's region, and those of the hotline that took it (a call
    centre's, whose callers may be of another region)."""
    if principal.role is not Role.COORDINATOR:
        return False
    return principal.region == call.region or principal.organization_id == call.organization_id


async def _load_call(
    uow: UnitOfWork, principal: Principal, call_id: uuid.UUID, action: str, *, write: bool
) -> Call:
    try:
        require_scope(principal, write=write)
    except Forbidden as error:
        uow.audit.refuse(action, RESOURCE, call_id, error)
    query = select(Call).where(Call.id == call_id)
    if write:
        query = query.with_for_update()
    call = (await uow.session.execute(query)).scalar_one_or_none()
    if call is None or not _sees(principal, call):
        uow.audit.refuse(
            action, RESOURCE, call_id, NotFound("No call with this id is visible to you.")
        )
    return call


async def _operated_appeal(
    uow: UnitOfWork, principal: Principal, appeal_id: uuid.UUID, action: str, *, write: bool
) -> Appeal:
    """The appeal, for its region's operators only: calls are the hotline's record, not the
    patient's."""
    appeal = await load_appeal(uow, principal, appeal_id, action, write=write)
    if not is_operator(principal, appeal.region):
        refusal = Forbidden("An appeal's calls are for its operators.")
        uow.audit.refuse(action, RESOURCE, None, refusal)
    return appeal


async def link_call(
    uow: UnitOfWork, principal: Principal, appeal_id: uuid.UUID, call_id: uuid.UUID, now: datetime
) -> CallOut:
    """The appeal was made on the call: its recording and its callback (if it was dropped)
    join the appeal. Linking it again to the same appeal changes nothing."""
    action = "call.link"
    appeal = await _operated_appeal(uow, principal, appeal_id, action, write=True)
    call = await _load_call(uow, principal, call_id, action, write=True)
    if call.appeal_id not in (None, appeal.id):
        refusal = Conflict("The call is linked to another appeal.", appeal_id=str(call.appeal_id))
        uow.audit.refuse(action, RESOURCE, call.id, refusal)
    if call.appeal_id is None:
        call.appeal_id, call.linked_by, call.updated_at = appeal.id, principal.subject, now
        await uow.session.execute(
            update(Callback)
            .where(Callback.call_id == call.id, Callback.appeal_id.is_(None))
            .values(appeal_id=appeal.id, updated_at=now)
        )
        note = f"{call.caller or 'withheld number'}, line {call.line}, {call.outcome.value}"
        add_event(uow, appeal.id, AppealEventKind.CALL_LINKED, now, principal, note=note)
        if call.recording_file_id is not None:
            add_event(uow, appeal.id, AppealEventKind.RECORDING_ATTACHED, now, principal)
        await uow.session.flush()
    uow.audit.record(action, RESOURCE, call.id, detail=f"appeal {appeal.id}")
    return (await _outs(uow, [call]))[0]


async def appeal_calls(
    uow: UnitOfWork, principal: Principal, appeal_id: uuid.UUID
) -> list[CallOut]:
    action = "call.list"
    appeal = await _operated_appeal(uow, principal, appeal_id, action, write=False)
    query = select(Call).where(Call.appeal_id == appeal.id).order_by(Call.started_at, Call.id)
    calls = list((await uow.session.scalars(query)).all())
    uow.audit.record(action, RESOURCE, None, detail=f"{len(calls)} of appeal {appeal.id}")
    return await _outs(uow, calls)


async def recent_calls(
    uow: UnitOfWork, principal: Principal, now: datetime, *, linked: bool | None, limit: int
) -> list[CallOut]:
    """The operator's hotline's calls of the last hours, newest first: those not `linked` are
    the ones an appeal being filed may be about."""
    action = "call.list"
    try:
        require_scope(principal, write=False)
        if principal.role is not Role.COORDINATOR or principal.organization_id is None:
            raise Forbidden("A hotline's calls are for its operators.")
    except Forbidden as error:
        uow.audit.refuse(action, RESOURCE, None, error)
    query = (
        select(Call)
        .where(Call.organization_id == principal.organization_id, Call.started_at >= now - RECENT)
        .order_by(Call.started_at.desc(), Call.id)
        .limit(limit)
    )
    if linked is not None:
        query = query.where(Call.appeal_id.is_not(None) if linked else Call.appeal_id.is_(None))
    calls = list((await uow.session.scalars(query)).all())
    uow.audit.record(action, RESOURCE, None, detail=f"{len(calls)} recent")
    return await _outs(uow, calls)


async def read_call(uow: UnitOfWork, principal: Principal, call_id: uuid.UUID) -> CallOut:
    call = await _load_call(uow, principal, call_id, "call.read", write=False)
    uow.audit.record("call.read", RESOURCE, call.id)
    return (await _outs(uow, [call]))[0]


async def recordings_grant(
    uow: UnitOfWork, principal: Principal, appeal_id: uuid.UUID, grants: GrantIssuer
) -> RecordingsGrant:
    """A grant to read the recordings of the appeal's calls in the files service, for its
    operators. The files service knows grants by the consult record they are for: the appeal
    stands where a case would, and as a recording is never pinned to a case the grant reads it."""
    action = "call.recordings_grant"
    appeal = await _operated_appeal(uow, principal, appeal_id, action, write=False)
    query = select(Call.recording_file_id).where(
        Call.appeal_id == appeal.id, Call.recording_file_id.is_not(None)
    )
    file_ids = [file_id for file_id in (await uow.session.scalars(query)).all() if file_id]
    token, expires = grants.issue(
        audience=GRANT_AUDIENCE,
        subject=principal.subject,
        purpose=READ_PURPOSE,
        case_id=appeal.id,
        file_ids=file_ids,
    )
    expires_at = datetime.fromtimestamp(expires, UTC)
    uow.audit.record(action, RESOURCE, None, detail=f"{len(file_ids)} of appeal {appeal.id}")
    return RecordingsGrant(
        grant=token, expires_at=expires_at, appeal_id=appeal.id, file_ids=file_ids
    )
