"""HTTP routes of patients' appeals under `/api/consult`: the territory map, filing, the
operators' queue, the lifecycle and the history of an appeal."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from services.common.auth import CurrentPrincipal
from services.common.errors import ProblemError, Unprocessable, problem_responses
from services.common.idempotency import idempotent, location
from services.common.languages import preferred_language
from services.common.openapi import client_scopes
from services.common.uow import UnitOfWorkDep
from services.consult.appeals import callbacks, calls, resolutions, routing
from services.consult.appeals import queue as appeal_queue
from services.consult.appeals import service as appeals
from services.consult.appeals.enums import (
    AnswerLanguage,
    AppealCategory,
    AppealChannel,
    AppealStatus,
    RedirectTopic,
    ResolutionAction,
)
from services.consult.appeals.models import Appeal, Resolution
from services.consult.appeals.queue import AppealFilter
from services.consult.appeals.schemas import (
    AppealCreate,
    AppealCreated,
    AppealEventOut,
    AppealOut,
    AppealPage,
    AppealPreview,
    AppealSummary,
    CallbackOut,
    CloseRequest,
    Contact,
    DoneByOut,
    ReassignRequest,
    RedirectRequest,
    ResolutionActionOut,
    ResolutionOut,
    ResolveRequest,
    RouteRequest,
    TerritoryIn,
    TerritoryOut,
)
from services.consult.deps import (
    PREFIX,
    ActingPrincipal,
    NowDep,
    OrganizationsDep,
    PeopleDep,
    SettingsDep,
)
from services.consult.scopes import READ_SCOPE, WRITE_SCOPE
from services.consult.values import REGION_PATTERN

router = APIRouter(prefix=PREFIX, tags=["appeals"])
LANGUAGES = frozenset(language.value for language in AnswerLanguage)
WRITE_ERRORS = problem_responses(401, 403, 404, 409, 422)
RegionPath = Annotated[str, Path(pattern=REGION_PATTERN, examples=["42"])]
CodePath = Annotated[str, Path(pattern=r"^[\w\-]{1,32}$", examples=["32731000"])]


def asked_language(request: Request) -> AnswerLanguage:
    """The request's `Accept-Language`; English for a client that names neither language."""
    header = request.headers.get("accept-language")
    return AnswerLanguage(preferred_language(header, LANGUAGES, AnswerLanguage.EN.value))


def resolution_out(resolution: Resolution) -> ResolutionOut:
    done_by = DoneByOut(
        organization_id=resolution.organization_id,
        name=resolution.person_name,
        position=resolution.person_position,
    )
    return ResolutionOut(
        actions=[ResolutionAction(action) for action in resolution.actions],
        details=resolution.details,
        done_by=done_by,
        result=resolution.result,
        result_reason=resolution.result_reason,
        recorded_by=resolution.recorded_by,
        created_at=resolution.created_at,
    )


def appeal_out(appeal: Appeal, now: datetime, resolution: Resolution | None = None) -> AppealOut:
    """The API view of a stored appeal; the contact columns become one nested object, and the
    resolution another."""
    summary = appeal_queue.summarise(
        [getattr(appeal, name) for name in appeal_queue.SUMMARY_FIELDS], now
    )
    contact = Contact(
        name=appeal.contact_name, phone=appeal.contact_phone, email=appeal.contact_email
    )
    nested = {
        "contact": contact,
        "resolution": None if resolution is None else resolution_out(resolution),
    }
    details = {
        name: getattr(appeal, name)
        for name in AppealOut.model_fields
        if name not in AppealSummary.model_fields and name not in nested
    }
    return AppealOut.model_validate(summary.model_dump() | details | nested)


@router.get(
    "/appeal-territories",
    response_model=list[TerritoryOut],
    tags=["territory map"],
    summary="A region's territory map: which organisation answers each territory's callers",
    description="Open to anyone signed in: a patient picks their territory from it.",
    responses=problem_responses(401, 422),
)
async def list_territories(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    region: Annotated[str | None, Query(pattern=REGION_PATTERN)] = None,
) -> list[TerritoryOut]:
    chosen = region or principal.region
    if chosen is None:
        raise Unprocessable("Name the `region` whose map to read.")
    territories = await routing.list_territories(uow, chosen)
    return [TerritoryOut.model_validate(territory) for territory in territories]


@router.put(
    "/appeal-territories/{region}/{code}",
    response_model=TerritoryOut,
    tags=["territory map"],
    summary="Say which organisation answers a territory (administrators, region coordinators)",
    description=(
        "Adds the territory to the region's map, or changes its name and organisation; "
        "appeals filed from then on are routed there (those filed before stay where they "
        "are). For administrators and the region's coordinators (403 for others); 422 for an "
        "organisation unknown or of another region."
    ),
    responses=problem_responses(401, 403, 409, 422, 502),
)
async def put_territory(
    region: RegionPath,
    code: CodePath,
    body: TerritoryIn,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    organizations: OrganizationsDep,
) -> TerritoryOut:
    territory = await routing.put_territory(uow, principal, region, code, body, organizations)
    return TerritoryOut.model_validate(territory)


@router.delete(
    "/appeal-territories/{region}/{code}",
    status_code=204,
    tags=["territory map"],
    summary="Take a territory off the map; its callers' appeals then wait to be routed by hand",
    description=(
        "For administrators and the region's coordinators (403 for others); appeals already "
        "routed stay with their organisation. 404 when the region's map has no such territory."
    ),
    responses=problem_responses(401, 403, 404),
)
async def delete_territory(
    region: RegionPath, code: CodePath, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> Response:
    await routing.delete_territory(uow, principal, region, code)
    return Response(status_code=204)


@router.get(
    "/appeal-preview",
    response_model=AppealPreview,
    summary="What filing an appeal now would do: who answers the territory, by when",
    description=(
        "Stores nothing: the organisation the territory map names, the deadline the appeal "
        "would get now in that organisation's working hours, or, with a `topic` the channels "
        "do not handle, the answer to read out (a `topic` needs no `territory`). Open to anyone "
        "signed in, as the map is; "
        "`region` defaults to the caller's."
    ),
    responses=problem_responses(401, 422, 502),
)
async def preview_appeal(
    request: Request,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    organizations: OrganizationsDep,
    settings: SettingsDep,
    now: NowDep,
    territory: Annotated[
        str | None, Query(pattern=r"^[\w\-]{1,32}$", examples=["32731000"])
    ] = None,
    channel: AppealChannel = AppealChannel.PHONE,
    category: AppealCategory = AppealCategory.QUESTION,
    topic: RedirectTopic | None = None,
    region: Annotated[str | None, Query(pattern=REGION_PATTERN)] = None,
    language: Annotated[
        AnswerLanguage | None, Query(description="The answer's; `Accept-Language` by default.")
    ] = None,
) -> AppealPreview:
    chosen = region or principal.region
    if chosen is None:
        raise Unprocessable("Name the `region` of the territory.")
    return await routing.preview(
        uow,
        chosen,
        territory,
        channel,
        category,
        topic,
        organizations,
        settings,
        now,
        language or asked_language(request),
    )


@router.post(
    "/appeals",
    status_code=201,
    response_model=AppealCreated,
    summary="File an appeal: a patient for themselves, an operator for a caller, an MIS",
    description=(
        "Operators (coordinators) file by phone, chat or web, registrars by phone, in their own "
        "region or, at a call centre, in the region of an organisation it serves; a "
        "`patient_id` they name must be a patient the directory shows them (of their region "
        "for an operator, else of an organisation they act for; a 422 otherwise). "
        "Routed at once to the organisation the territory map names, its deadline counted in "
        "that organisation's working hours from its next opening if it came after hours; "
        "`new` when the map knows no such territory (an operator routes it). With a `topic` "
        "the channels do not handle it is answered at once (`answer`) and `redirected`. "
        "With a `callback` (a dropped call) its call is scheduled in the same request, with a "
        "`call_id` the PBX call it is made on is linked to it. "
        "Send `Idempotency-Key` to retry safely."
    ),
    responses=problem_responses(400, 401, 403, 422, 502),
    dependencies=client_scopes(WRITE_SCOPE),
)
async def create_appeal(
    body: AppealCreate,
    request: Request,
    uow: UnitOfWorkDep,
    principal: ActingPrincipal,
    organizations: OrganizationsDep,
    people: PeopleDep,
    settings: SettingsDep,
    now: NowDep,
) -> JSONResponse:
    async def create() -> AppealCreated:
        appeal = await appeals.create_appeal(
            uow, principal, body, organizations, people, settings, now, asked_language(request)
        )
        created = AppealCreated.model_validate(appeal_out(appeal, now).model_dump())
        if body.call_id is not None:
            try:  # the appeal stands without its call, as without its callback below
                async with uow.session.begin_nested():
                    await calls.link_call(uow, principal, appeal.id, body.call_id, now)
            except ProblemError as refusal:
                created = created.model_copy(update={"call_refused": refusal.detail})
        if body.callback is None:
            return created
        try:  # the appeal stands without its call; the refusal is on record all the same
            async with uow.session.begin_nested():
                callback = await callbacks.schedule_callback(
                    uow, principal, appeal.id, body.callback, organizations, settings, now
                )
        except ProblemError as refusal:
            return created.model_copy(update={"callback_refused": refusal.detail})
        return created.model_copy(update={"callback": CallbackOut.model_validate(callback)})

    return await idempotent(
        request, uow.session, principal, body, create, headers=location(PREFIX + "/appeals/{id}")
    )


@router.get(
    "/appeals",
    response_model=AppealPage,
    summary="The operators' queue: the region's appeals by deadline, keyset-paginated",
    description=(
        "Ordered by (`due_at`, `id`); an API client sees the appeals it filed. `overdue=true` "
        "keeps open appeals past their deadline, `escalated=true` those sent to the head of "
        "their organisation. Pass `next_cursor` back as `cursor` for the next page."
    ),
    responses=problem_responses(400, 401, 403),
    dependencies=client_scopes(READ_SCOPE),
)
async def list_appeals(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    now: NowDep,
    status: Annotated[list[AppealStatus] | None, Query(description="Any of these")] = None,
    organization_id: uuid.UUID | None = None,
    category: AppealCategory | None = None,
    channel: AppealChannel | None = None,
    overdue: bool = False,
    escalated: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> AppealPage:
    filters = AppealFilter(
        statuses=status or (),
        organization_id=organization_id,
        category=category,
        channel=channel,
        overdue=overdue,
        escalated=escalated,
    )
    items, next_cursor = await appeal_queue.list_appeals(
        uow, principal, filters, now, limit=limit, cursor=cursor
    )
    return AppealPage(items=items, next_cursor=next_cursor)


@router.get(
    "/appeals/mine",
    response_model=list[AppealSummary],
    summary="The calling patient's own appeals, newest first",
    description="Each is read in full, with its answer, under `/appeals/{appeal_id}`.",
    responses=problem_responses(401, 403),
)
async def own_appeals(
    uow: UnitOfWorkDep, principal: CurrentPrincipal, now: NowDep
) -> list[AppealSummary]:
    return await appeal_queue.own_appeals(uow, principal, now)


@router.get(
    "/appeals/{appeal_id}",
    response_model=AppealOut,
    summary="Read an appeal and its answer",
    description=(
        "With its `resolution` once resolved. For the region's operators, the patient whose "
        "appeal it is and the API client that filed it; 404 for an appeal not visible to you. "
        "The read is audited."
    ),
    responses=problem_responses(401, 403, 404),
    dependencies=client_scopes(READ_SCOPE),
)
async def get_appeal(
    appeal_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal, now: NowDep
) -> AppealOut:
    appeal, resolution = await appeals.read_appeal(uow, principal, appeal_id)
    return appeal_out(appeal, now, resolution)


@router.get(
    "/appeals/{appeal_id}/history",
    response_model=list[AppealEventOut],
    summary="The appeal's history: routing, reassignments, escalations, callbacks, answer",
    description=(
        "Every step, oldest first, with who took it and between which organisations. The "
        "operators' record: for the region's coordinators (403 for the patient or the API "
        "client who see the appeal; 404 for others)."
    ),
    responses=problem_responses(401, 403, 404),
    dependencies=client_scopes(READ_SCOPE),
)
async def appeal_history(
    appeal_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> list[AppealEventOut]:
    events = await appeals.history(uow, principal, appeal_id)
    return [AppealEventOut.model_validate(event) for event in events]


@router.post(
    "/appeals/{appeal_id}/route",
    response_model=AppealOut,
    tags=["appeal lifecycle"],
    summary="Route a `new` appeal by hand to an organisation of its region",
    description=(
        "For the region's operators, when the territory map did not know the caller's "
        "territory: the appeal becomes `routed`, its deadline counted from when it came in "
        "the chosen organisation's working hours. 409 unless `new`; 422 for an organisation "
        "of another region."
    ),
    responses=problem_responses(401, 403, 404, 409, 422, 502),
    dependencies=client_scopes(WRITE_SCOPE),
)
async def route_appeal(
    appeal_id: uuid.UUID,
    body: RouteRequest,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    organizations: OrganizationsDep,
    settings: SettingsDep,
    now: NowDep,
) -> AppealOut:
    appeal = await appeals.route_appeal(
        uow, principal, appeal_id, body.organization_id, organizations, settings, now
    )
    return appeal_out(appeal, now)


@router.post(
    "/appeals/{appeal_id}/take",
    response_model=AppealOut,
    tags=["appeal lifecycle"],
    summary="Start work on a routed appeal; the caller becomes its assignee",
    description=(
        "For the region's operators: `routed` becomes `in_progress` with the caller as "
        "`assignee_id`, kept in the history. 409 from any other status."
    ),
    responses=WRITE_ERRORS,
    dependencies=client_scopes(WRITE_SCOPE),
)
async def take_appeal(
    appeal_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal, now: NowDep
) -> AppealOut:
    return appeal_out(await appeals.take_appeal(uow, principal, appeal_id, now), now)


@router.post(
    "/appeals/{appeal_id}/reassign",
    response_model=AppealOut,
    tags=["appeal lifecycle"],
    summary="Pass the appeal to another organisation of the region, saying why",
    description=(
        "For the region's operators, on a `routed` or `in_progress` appeal (else 409, as "
        "when it is already with that organisation): it is `routed` again, unassigned. Kept "
        "in the history with `reason`; the deadline stays, an escalation is cleared. 422 "
        "for an organisation of another region."
    ),
    responses=problem_responses(401, 403, 404, 409, 422, 502),
    dependencies=client_scopes(WRITE_SCOPE),
)
async def reassign_appeal(
    appeal_id: uuid.UUID,
    body: ReassignRequest,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    organizations: OrganizationsDep,
    now: NowDep,
) -> AppealOut:
    appeal = await appeals.reassign_appeal(
        uow, principal, appeal_id, body.organization_id, body.reason, organizations, now
    )
    return appeal_out(appeal, now)


@router.post(
    "/appeals/{appeal_id}/resolve",
    response_model=AppealOut,
    tags=["appeal lifecycle"],
    summary="Resolve the appeal with what was done, by whom, with what result",
    description=(
        "`actions` (from those for the appeal's category, `GET /appeal-resolution-actions`) "
        "and `details` say what was done, `done_by` by whom (an organisation of the appeal's "
        "region, by default the responsible one, and a person), `result` with what result "
        "(`refused` and `referred` with their `result_reason`); `answer` is what the person is "
        "told, refused when formulaic ('processed', 'measures have been taken': a 422 whose "
        "`errors[].type` is `formulaic.<reason>`, its message saying why); "
        "`first_contact_resolution` whether it took one contact. A phone appeal resolved "
        "after the call gets a `phone_answer` callback, so the patient hears the answer."
    ),
    responses=problem_responses(401, 403, 404, 409, 422, 502),
    dependencies=client_scopes(WRITE_SCOPE),
)
async def resolve_appeal(
    appeal_id: uuid.UUID,
    body: ResolveRequest,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    organizations: OrganizationsDep,
    settings: SettingsDep,
    now: NowDep,
) -> AppealOut:
    appeal, resolution = await appeals.resolve_appeal(
        uow, principal, appeal_id, body, organizations, settings, now
    )
    return appeal_out(appeal, now, resolution)


@router.get(
    "/appeal-resolution-actions",
    response_model=list[ResolutionActionOut],
    tags=["appeal lifecycle"],
    summary="What a resolution may say was done, for which categories of appeal",
    description=(
        "The vocabulary of `actions` a resolution names, in order, each with the categories "
        "of appeal it answers (`other` takes any); with `category`, only those for it. Open "
        "to anyone signed in: it holds no patient data."
    ),
    responses=problem_responses(401, 422),
)
async def resolution_actions(
    principal: CurrentPrincipal, category: AppealCategory | None = None
) -> list[ResolutionActionOut]:
    return [
        ResolutionActionOut(action=action, categories=sorted(categories))
        for action, categories in resolutions.ACTIONS.items()
        if category is None or action in resolutions.offered(category)
    ]


@router.post(
    "/appeals/{appeal_id}/redirect",
    response_model=AppealOut,
    tags=["appeal lifecycle"],
    summary="Answer with where to go: the topic is not the channels' to handle",
    description=(
        "For the region's operators, on an open appeal (409 otherwise): it is answered in its "
        "language with the responsible organisation's wording for the `topic` (its "
        "`redirect-answers`) or the built-in one, becomes `redirected`, and its pending "
        "callbacks are cancelled. An appeal that came by a chat gets the answer there."
    ),
    responses=WRITE_ERRORS,
    dependencies=client_scopes(WRITE_SCOPE),
)
async def redirect_appeal(
    appeal_id: uuid.UUID,
    body: RedirectRequest,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    now: NowDep,
) -> AppealOut:
    appeal = await appeals.redirect_appeal(uow, principal, appeal_id, body.topic, settings, now)
    return appeal_out(appeal, now)


@router.post(
    "/appeals/{appeal_id}/close",
    response_model=AppealOut,
    tags=["appeal lifecycle"],
    summary="Close without an answer (a duplicate, withdrawn); a patient may withdraw theirs",
    description=(
        "For the region's operators, and the patient for their own appeal: an open appeal "
        "becomes `closed` with `reason`, in the history, and its pending callbacks are "
        "cancelled. 409 once it is resolved, redirected or closed."
    ),
    responses=WRITE_ERRORS,
    dependencies=client_scopes(WRITE_SCOPE),
)
async def close_appeal(
    appeal_id: uuid.UUID,
    body: CloseRequest,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    now: NowDep,
) -> AppealOut:
    return appeal_out(await appeals.close_appeal(uow, principal, appeal_id, body.reason, now), now)
