"""Signed conclusions: issuing the first one closes the case, later versions amend it."""

import uuid
from datetime import datetime

from sqlalchemy import func, select

from services.common.auth import Principal
from services.common.db import utcnow
from services.common.errors import Conflict, NotFound, Unprocessable
from services.common.outbox import EventType
from services.common.uow import UnitOfWork
from services.consult.cases.consilium.models import Consilium
from services.consult.cases.enums import CaseAction, CaseStatus, SignatureForm
from services.consult.cases.events import case_event
from services.consult.cases.models import Conclusion
from services.consult.cases.schemas import ConclusionCreate, ConclusionOut, SignedConclusionOut
from services.consult.cases.signing import (
    ConclusionSigner,
    Signature,
    SignedDocument,
    b64url,
    detached_jws,
)
from services.consult.cases.transitions import RESOURCE as CASE_RESOURCE
from services.consult.cases.transitions import audit, check_action, load_case

_OUT_FIELDS = [name for name in ConclusionOut.model_fields if name != "signature_valid"]


def signed_document(conclusion: Conclusion) -> SignedDocument:
    return SignedDocument(
        case_id=conclusion.case_id,
        version=conclusion.version,
        author_id=conclusion.author_id,
        issued_at=conclusion.issued_at,
        content=conclusion.content,
        amends_version=conclusion.amends_version,
        amendment_reason=conclusion.amendment_reason,
    )


def stored_signature(conclusion: Conclusion) -> Signature:
    return Signature(
        conclusion.signature,
        conclusion.key_id,
        conclusion.content_sha256,
        SignatureForm(conclusion.signature_form),
    )


def verified(conclusion: Conclusion, signer: ConclusionSigner) -> ConclusionOut:
    """The API view of a stored version, with its signature checked again now."""
    signature = stored_signature(conclusion)
    fields = {name: getattr(conclusion, name) for name in _OUT_FIELDS}
    valid = signer.verify(signed_document(conclusion), signature)
    return ConclusionOut.model_validate({**fields, "signature_valid": valid})


async def issue_conclusion(
    uow: UnitOfWork,
    principal: Principal,
    case_id: uuid.UUID,
    data: ConclusionCreate,
    signer: ConclusionSigner,
    *,
    now: datetime | None = None,
) -> ConclusionOut:
    """Version 1 concludes an in-progress case; on a concluded case, a new version amends."""
    case = await load_case(uow, principal, case_id, "conclusion.issue", write=True)
    if await uow.session.scalar(select(Consilium.id).where(Consilium.case_id == case.id)):
        refusal = Conflict("A consilium's case is concluded by the chair's protocol.")
        uow.audit.refuse("conclusion.issue", CASE_RESOURCE, case.id, refusal)
    amending = case.status is CaseStatus.CONCLUDED
    status = check_action(
        uow, principal, case, CaseAction.AMEND if amending else CaseAction.CONCLUDE
    )
    if amending and data.amendment_reason is None:
        uow.audit.refuse(
            "conclusion.issue",
            CASE_RESOURCE,
            case.id,
            Unprocessable("An amendment must give its reason."),
        )
    if not amending and data.amendment_reason is not None:
        uow.audit.refuse(
            "conclusion.issue",
            CASE_RESOURCE,
            case.id,
            Unprocessable("There is no conclusion to amend yet."),
        )
    latest = await uow.session.scalar(
        select(func.max(Conclusion.version)).where(Conclusion.case_id == case.id)
    )
    if amending and latest is None:
        refusal = Conflict("The request was answered with a follow-up visit, not in writing.")
        uow.audit.refuse("conclusion.issue", CASE_RESOURCE, case.id, refusal)
    issued_at = now or utcnow()
    document = SignedDocument(
        case_id=case.id,
        version=(latest or 0) + 1,
        author_id=principal.subject,
        issued_at=issued_at,
        content=data.content.model_dump(mode="json"),
        amends_version=latest if amending else None,
        amendment_reason=data.amendment_reason,
    )
    signature = signer.sign(document, SignatureForm.JWS_JCS)
    conclusion = Conclusion(
        case_id=document.case_id,
        version=document.version,
        author_id=document.author_id,
        issued_at=document.issued_at,
        content=document.content,
        amends_version=document.amends_version,
        amendment_reason=document.amendment_reason,
        content_sha256=signature.sha256,
        signature=signature.value,
        key_id=signature.key_id,
        signature_form=signature.form,
    )
    uow.session.add(conclusion)
    if not amending:
        case.status = status
        case.concluded_at = case.closed_at = issued_at
    await uow.session.flush()
    await case_event(
        uow, EventType.CASE_CONCLUDED, case, answer="conclusion", version=document.version,
        amends_version=document.amends_version, concluded_at=case.concluded_at,
    )  # fmt: skip
    audit(uow, "conclusion.issue", case.id, detail=f"version {document.version}")
    return verified(conclusion, signer)


async def list_conclusions(
    uow: UnitOfWork, principal: Principal, case_id: uuid.UUID, signer: ConclusionSigner
) -> list[ConclusionOut]:
    case = await load_case(uow, principal, case_id, "conclusion.list")
    query = select(Conclusion).where(Conclusion.case_id == case.id).order_by(Conclusion.version)
    conclusions = (await uow.session.scalars(query)).all()
    audit(uow, "conclusion.list", case.id)
    return [verified(conclusion, signer) for conclusion in conclusions]


async def _read(
    uow: UnitOfWork, principal: Principal, case_id: uuid.UUID, version: int, action: str
) -> Conclusion:
    """One version, for whoever may read the case; the read or its refusal on the trail."""
    case = await load_case(uow, principal, case_id, action)
    conclusion = await uow.session.scalar(
        select(Conclusion).where(Conclusion.case_id == case.id, Conclusion.version == version)
    )
    if conclusion is None:
        uow.audit.refuse(
            action, CASE_RESOURCE, case.id, NotFound(f"This case has no conclusion {version}.")
        )
    audit(uow, action, case.id, detail=f"version {version}")
    return conclusion


async def get_conclusion(
    uow: UnitOfWork,
    principal: Principal,
    case_id: uuid.UUID,
    version: int,
    signer: ConclusionSigner,
) -> ConclusionOut:
    return verified(await _read(uow, principal, case_id, version, "conclusion.read"), signer)


async def get_signed_conclusion(
    uow: UnitOfWork, principal: Principal, case_id: uuid.UUID, version: int
) -> SignedConclusionOut:
    """The exact bytes the version's signature covers, and the signature, to check offline."""
    conclusion = await _read(uow, principal, case_id, version, "conclusion.read_signed")
    signature = stored_signature(conclusion)
    return SignedConclusionOut(
        case_id=conclusion.case_id,
        version=conclusion.version,
        signature_form=signature.form,
        payload=b64url(signed_document(conclusion).signed_bytes(signature.form)),
        payload_sha256=signature.sha256,
        jws=detached_jws(signature),
        signature=signature.value,
        key_id=signature.key_id,
    )
