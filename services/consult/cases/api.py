"""HTTP routes of the consult service under `/api/consult`: cases, queue, messages, conclusions."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from services.common.auth import CurrentPrincipal
from services.common.errors import problem_responses
from services.common.idempotency import idempotent, location
from services.common.openapi import client_scopes
from services.common.uow import UnitOfWorkDep
from services.consult.cases import conclusions, grants, messages, queue
from services.consult.cases import service as cases
from services.consult.cases import transitions as service
from services.consult.cases.deps import AttachFileDep, GrantsDep, SignerDep
from services.consult.cases.enums import CaseStatus
from services.consult.cases.models import Case
from services.consult.cases.schemas import (
    AttachmentsGrant,
    CancelRequest,
    CaseCreate,
    CaseOut,
    CasePage,
    CaseUpdate,
    ConclusionCreate,
    ConclusionOut,
    InfoRequest,
    InfoResponse,
    MessageCreate,
    MessageOut,
    OverdueCount,
    ReasonRequest,
    SignedConclusionOut,
    SigningKeys,
    case_out,
)
from services.consult.deps import PREFIX, OrganizationsDep, SettingsDep
from services.consult.scopes import READ_SCOPE, WRITE_SCOPE
from services.consult.values import Specialty, Urgency

router = APIRouter(prefix=PREFIX)
READ_ERRORS = problem_responses(401, 403, 404)
WRITE_ERRORS = problem_responses(401, 403, 404, 409)
# On the media type: the body is optional, so its schema is no reference to carry one.
CANCEL_EXAMPLES = {
    "reason": {
        "summary": "With a reason",
        "value": {"reason": "Patient transferred to Kemerovo Regional Clinical Hospital."},
    },
    "none": {"summary": "Without one", "value": {}},
}


@router.post(
    "/cases",
    status_code=201,
    response_model=CaseOut,
    tags=["cases"],
    summary="Open a consultation case (a draft, or submitted at once with `submit: true`)",
    description="Send `Idempotency-Key` to retry safely: a retry returns the first response.",
    responses=problem_responses(400, 401, 403, 404, 409, 422, 502),
    dependencies=client_scopes(WRITE_SCOPE),
)
async def create_case(
    body: CaseCreate,
    request: Request,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    organizations: OrganizationsDep,
    settings: SettingsDep,
    attach_file: AttachFileDep,
) -> JSONResponse:
    async def create() -> CaseOut:
        case = await cases.create_case(uow, principal, body, organizations, settings, attach_file)
        return case_out(case)

    return await idempotent(
        request,
        uow.session,
        principal,
        body,
        create,
        headers=location(PREFIX + "/cases/{id}"),
    )


@router.get(
    "/cases",
    response_model=CasePage,
    tags=["queue"],
    summary="The work queue: visible cases by deadline, keyset-paginated",
    description=(
        "Ordered by (`due_at`, `id`). `overdue=true` keeps open cases past their deadline; "
        "`status` and `urgency` may each be given several times (any of them). "
        "Pass `next_cursor` back as `cursor` for the next page."
    ),
    responses=problem_responses(400, 401, 403),
    dependencies=client_scopes(READ_SCOPE),
)
async def list_cases(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    status: Annotated[list[CaseStatus] | None, Query(description="Any of these")] = None,
    specialty: Annotated[Specialty | None, Query()] = None,
    overdue: bool = False,
    urgency: Annotated[list[Urgency] | None, Query(description="Any of these")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> CasePage:
    filters = queue.QueueFilter(
        statuses=status or (), specialty=specialty, overdue=overdue, urgencies=urgency or ()
    )
    items, next_cursor = await queue.list_cases(uow, principal, filters, limit=limit, cursor=cursor)
    return CasePage(items=items, next_cursor=next_cursor)


@router.get(
    "/cases/overdue-count",
    response_model=OverdueCount,
    tags=["queue"],
    summary="How many open cases the caller sees are past their deadline",
    description=(
        "The figure behind the console's overdue badge: submitted, accepted, in-progress and "
        "info-requested cases past `due_at`, among those the caller sees. For roles that work "
        "with cases (403 otherwise); changes nothing."
    ),
    responses=problem_responses(401, 403),
    dependencies=client_scopes(READ_SCOPE),
)
async def overdue_count(uow: UnitOfWorkDep, principal: CurrentPrincipal) -> OverdueCount:
    return OverdueCount(overdue=await queue.count_overdue(uow, principal))


def _tagged(case: Case, response: Response) -> CaseOut:
    """The case, with its version as the response's entity tag."""
    response.headers["ETag"] = f'"{case.version}"'
    return case_out(case)


def if_match_versions(header: str | None) -> frozenset[int] | None:
    """The case versions an `If-Match` accepts; None when it sets no condition (absent, or
    `*`). Weak tags never match, as RFC 9110 (13.1.1) has it, nor does anything unparsable."""
    if header is None or header.strip() == "*":
        return None
    versions = set()
    for tag in header.split(","):
        value = tag.strip().removeprefix('"').removesuffix('"')
        if tag.strip() == f'"{value}"' and value.isascii() and value.isdigit():
            versions.add(int(value))
    return frozenset(versions)


@router.get(
    "/cases/{case_id}",
    response_model=CaseOut,
    tags=["cases"],
    summary="Read a case",
    description='The `ETag` header is the case\'s version (`"3"`): send it as `If-Match` '
    "when editing.",
    responses=READ_ERRORS,
    dependencies=client_scopes(READ_SCOPE),
)
async def get_case(
    case_id: uuid.UUID, response: Response, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> CaseOut:
    return _tagged(await cases.get_case(uow, principal, case_id), response)


@router.patch(
    "/cases/{case_id}",
    response_model=CaseOut,
    tags=["cases"],
    summary="Edit a draft, or a case sent back for more information",
    description="Send `If-Match` with the `ETag` (the `version`) you read: if someone changed "
    "the case since, the edit is refused with 412 naming the current version, instead of "
    "overwriting their change. Without `If-Match` the edit applies to whatever is current.",
    responses=problem_responses(401, 403, 404, 409, 412, 422, 502),
    dependencies=client_scopes(WRITE_SCOPE),
)
async def update_case(
    case_id: uuid.UUID,
    body: CaseUpdate,
    response: Response,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    organizations: OrganizationsDep,
    settings: SettingsDep,
    attach_file: AttachFileDep,
    if_match: Annotated[
        str | None,
        Header(description='The version read, as its ETag: `"3"`.', examples=['"3"']),
    ] = None,
) -> CaseOut:
    case = await cases.update_case(
        uow, principal, case_id, body, organizations, settings, attach_file,
        if_match=if_match_versions(if_match),
    )  # fmt: skip
    return _tagged(case, response)


@router.post(
    "/cases/{case_id}/attachments/grant",
    response_model=AttachmentsGrant,
    tags=["cases"],
    summary="A short-lived grant to read the case's attachments in the files service",
    description="For whoever may read the case. Send `grant` to the files service as the "
    "`Telemed-Grant` header with your own bearer token (`GET /api/files/files/{id}`, "
    "`/content`, `/deidentified`, `POST .../link`, FHIR `DocumentReference/{id}`), or as "
    "`?grant=` on `/content` for a browser link. It names you, the case and the files "
    "attached now, and expires within minutes: ask again for a new one.",
    responses=READ_ERRORS,
    dependencies=client_scopes(READ_SCOPE),
)
async def attachments_grant(
    case_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal, issuer: GrantsDep
) -> AttachmentsGrant:
    return await grants.attachments_grant(uow, principal, case_id, issuer)


@router.post(
    "/cases/{case_id}/submit",
    response_model=CaseOut,
    tags=["lifecycle"],
    summary="Submit a draft to the regional centre; the deadline runs from now",
    description=(
        "For medics of the requesting organisation: the draft becomes `submitted`, `due_at` is "
        "set from its urgency and the centre's working hours, and `case.submitted` is "
        "published. 409 unless the case is a draft; 422 when the target is no longer a "
        "regional centre."
    ),
    responses=problem_responses(401, 403, 404, 409, 422, 502),
    dependencies=client_scopes(WRITE_SCOPE),
)
async def submit_case(
    case_id: uuid.UUID,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    organizations: OrganizationsDep,
    settings: SettingsDep,
) -> CaseOut:
    return case_out(await cases.submit_case(uow, principal, case_id, organizations, settings))


@router.post(
    "/cases/{case_id}/accept",
    response_model=CaseOut,
    tags=["lifecycle"],
    summary="Take a submitted case; the caller becomes its assignee",
    description=(
        "For specialists of the addressed organisation and specialty: the case becomes "
        "`accepted` with the caller as `assignee_id`, and `case.accepted` is published. If two "
        "accept at once, one wins and the other gets 409, as for any case not `submitted`."
    ),
    responses=WRITE_ERRORS,
    dependencies=client_scopes(WRITE_SCOPE),
)
async def accept_case(
    case_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> CaseOut:
    return case_out(await service.accept_case(uow, principal, case_id))


@router.post(
    "/cases/{case_id}/start",
    response_model=CaseOut,
    tags=["lifecycle"],
    summary="Start working on an accepted case",
    description=(
        "For the assigned specialist only (403 for others): `accepted` becomes `in_progress`, "
        "the status a conclusion is issued from. 409 from any other status."
    ),
    responses=WRITE_ERRORS,
    dependencies=client_scopes(WRITE_SCOPE),
)
async def start_case(
    case_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> CaseOut:
    return case_out(await service.start_case(uow, principal, case_id))


@router.post(
    "/cases/{case_id}/request-info",
    response_model=CaseOut,
    tags=["lifecycle"],
    summary="Send the case back to the medic with a question",
    description=(
        "For the assigned specialist (or, before anyone accepted, the addressed team): the "
        "question joins the thread as an `info_request` message and the case becomes "
        "`info_requested`, remembering the status it resumes on the answer. 409 unless "
        "`submitted`, `accepted` or `in_progress`."
    ),
    responses=WRITE_ERRORS,
    dependencies=client_scopes(WRITE_SCOPE),
)
async def request_info(
    case_id: uuid.UUID, body: InfoRequest, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> CaseOut:
    return case_out(await service.request_info(uow, principal, case_id, body.message))


@router.post(
    "/cases/{case_id}/provide-info",
    response_model=CaseOut,
    tags=["lifecycle"],
    summary="Answer the specialist's question, attaching files if asked; the case resumes",
    description=(
        "For medics of the requesting organisation (on a patient's request, the patient or "
        "their coordinator): the answer joins the thread as an `info_response` message, "
        "`attachment_ids` (files already uploaded to the files service) are added, and the "
        "case returns to the status it had. 409 unless `info_requested`; 422 for a file you "
        "cannot read."
    ),
    responses=problem_responses(401, 403, 404, 409, 422, 502),
    dependencies=client_scopes(WRITE_SCOPE),
)
async def provide_info(
    case_id: uuid.UUID,
    body: InfoResponse,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    attach_file: AttachFileDep,
) -> CaseOut:
    return case_out(await cases.provide_info(uow, principal, case_id, body, attach_file))


@router.post(
    "/cases/{case_id}/decline",
    response_model=CaseOut,
    tags=["lifecycle"],
    summary="Decline the case, saying why",
    description=(
        "For the addressed specialists (once accepted, the assignee only): closes the case as "
        "`declined` with `reason`, which the requesting medic sees. 409 unless `submitted` or "
        "`accepted`."
    ),
    responses=WRITE_ERRORS,
    dependencies=client_scopes(WRITE_SCOPE),
)
async def decline_case(
    case_id: uuid.UUID, body: ReasonRequest, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> CaseOut:
    return case_out(await service.decline_case(uow, principal, case_id, body.reason))


@router.post(
    "/cases/{case_id}/cancel",
    response_model=CaseOut,
    tags=["lifecycle"],
    summary="Withdraw the case",
    description=(
        "For medics of the requesting organisation (on a patient's request, the patient or "
        "their coordinator): closes the case as `cancelled`; the body, with an optional "
        "`reason`, may be left out. 409 once the case is concluded, declined or cancelled."
    ),
    responses=WRITE_ERRORS,
    dependencies=client_scopes(WRITE_SCOPE),
)
async def cancel_case(
    case_id: uuid.UUID,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    body: Annotated[CancelRequest | None, Body(openapi_examples=CANCEL_EXAMPLES)] = None,
) -> CaseOut:
    reason = body.reason if body else None
    return case_out(await service.cancel_case(uow, principal, case_id, reason))


@router.get(
    "/cases/{case_id}/messages",
    response_model=list[MessageOut],
    tags=["messages"],
    summary="The case's message thread, oldest first",
    description=(
        "Comments, the specialist's questions and the medic's answers (`kind`), for whoever "
        "sees the case or is invited to its consilium; 404 for a case not visible to you. The "
        "read is audited."
    ),
    responses=READ_ERRORS,
    dependencies=client_scopes(READ_SCOPE),
)
async def list_messages(
    case_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> list[MessageOut]:
    found = await messages.list_messages(uow, principal, case_id)
    return [MessageOut.model_validate(message) for message in found]


@router.post(
    "/cases/{case_id}/messages",
    status_code=201,
    response_model=MessageOut,
    tags=["messages"],
    summary="Write in the case's thread",
    description=(
        "Adds a `comment` for everyone who sees the case, whatever its status; coordinators "
        "may write here though they change nothing else. 404 for a case not visible to you. "
        "Send `Idempotency-Key` to retry safely."
    ),
    responses=problem_responses(400, 401, 403, 404, 422),
    dependencies=client_scopes(WRITE_SCOPE),
)
async def post_message(
    case_id: uuid.UUID,
    body: MessageCreate,
    request: Request,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    async def create() -> MessageOut:
        message = await messages.post_message(uow, principal, case_id, body.text)
        return MessageOut.model_validate(message)

    return await idempotent(request, uow.session, principal, body, create)


@router.post(
    "/cases/{case_id}/conclusions",
    status_code=201,
    response_model=ConclusionOut,
    tags=["conclusions"],
    summary="Issue the signed conclusion, or amend it with a new version",
    description=(
        "Only the assigned specialist writes conclusions. The first version concludes an "
        "in-progress case; on a concluded case a new version amends the latest and needs "
        "`amendment_reason`. Send `Idempotency-Key` to retry safely."
    ),
    responses=problem_responses(400, 401, 403, 404, 409, 422),
    dependencies=client_scopes(WRITE_SCOPE),
)
async def issue_conclusion(
    case_id: uuid.UUID,
    body: ConclusionCreate,
    request: Request,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    signer: SignerDep,
) -> JSONResponse:
    async def create() -> ConclusionOut:
        return await conclusions.issue_conclusion(uow, principal, case_id, body, signer)

    return await idempotent(
        request,
        uow.session,
        principal,
        body,
        create,
        headers=location(PREFIX + "/cases/{case_id}/conclusions/{version}"),
    )


@router.get(
    "/cases/{case_id}/conclusions",
    response_model=list[ConclusionOut],
    tags=["conclusions"],
    summary="Every version of the case's conclusion, each with its signature re-verified",
    description=(
        "Oldest first: the issued conclusion and each amendment (`amends_version`, "
        "`amendment_reason`); `signature_valid` is false if the stored text no longer matches "
        "its signature. Empty until the case is concluded; 404 for a case not visible to you."
    ),
    responses=READ_ERRORS,
    dependencies=client_scopes(READ_SCOPE),
)
async def list_conclusions(
    case_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal, signer: SignerDep
) -> list[ConclusionOut]:
    return await conclusions.list_conclusions(uow, principal, case_id, signer)


@router.get(
    "/cases/{case_id}/conclusions/{version}",
    response_model=ConclusionOut,
    tags=["conclusions"],
    summary="One version of the conclusion; `signature_valid` is checked on every read",
    description=(
        "For whoever sees the case; 404 for a case not visible to you or a version it does not "
        "have. The read is audited. To check the signature yourself, fetch `/signed` and the "
        "keys at `/conclusion-keys`."
    ),
    responses=READ_ERRORS,
    dependencies=client_scopes(READ_SCOPE),
)
async def get_conclusion(
    case_id: uuid.UUID,
    version: Annotated[int, Path(ge=1, le=10_000)],
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    signer: SignerDep,
) -> ConclusionOut:
    return await conclusions.get_conclusion(uow, principal, case_id, version, signer)


@router.get(
    "/cases/{case_id}/conclusions/{version}/signed",
    response_model=SignedConclusionOut,
    tags=["conclusions"],
    summary="The exact bytes one version's signature covers, with the signature and key id",
    description=(
        "For checking the conclusion with the published key alone (`/conclusion-keys`): form 2 "
        "is a JWS (EdDSA) over the RFC 8785 document, specified in docs/api.md; "
        "`docs/verify_conclusion.py` checks both forms. Readable by whoever reads the "
        "conclusion, and audited as such."
    ),
    responses=READ_ERRORS,
    dependencies=client_scopes(READ_SCOPE),
)
async def get_signed_conclusion(
    case_id: uuid.UUID,
    version: Annotated[int, Path(ge=1, le=10_000)],
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
) -> SignedConclusionOut:
    return await conclusions.get_signed_conclusion(uow, principal, case_id, version)


@router.get(
    "/conclusion-keys",
    response_model=SigningKeys,
    tags=["conclusions"],
    summary="The public keys conclusions are signed with (JWKS), for checking them offline",
    description=(
        "A JWK Set (RFC 7517) of Ed25519 keys (`kty` OKP, RFC 8037), each `kid` its RFC 7638 "
        "thumbprint: the current key and every retired one. Public: no token needed."
    ),
)
async def conclusion_keys(signer: SignerDep) -> SigningKeys:
    return SigningKeys(keys=signer.jwks)
