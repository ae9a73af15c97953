"""Signed documents of a consilium: each invited specialist's opinion, and the chair's protocol
that cites them and concludes the case.

Both are signed with the key conclusions are signed with (`signing.py`, form 1, version 1, the
case's id) and checked again on every read. The signed content names the document's kind and
consilium, so an opinion's signature cannot pass for a protocol's or a conclusion's of the same
case: an opinion's is `{document, consilium_id, invitation_id, specialty, opinion}`, a
protocol's `{document, consilium_id, decision, opinions}`, each value as the API returns it,
so anyone can check them against `/conclusion-keys`.

The protocol cites each opinion by id, digest and signature; a citation holds only while the
opinion is stored unchanged and still verifies. The chair cannot issue it while invitations
are unanswered (pending, or accepted without an opinion) unless they close those in the same
request: a consilium does not wait for ever on a specialist who never answers, but nobody is
left out without the chair saying so.
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from services.common.auth import Principal
from services.common.errors import Conflict
from services.common.outbox import EventType
from services.common.uow import UnitOfWork
from services.consult.cases.consilium.models import (
    Consilium,
    ConsiliumInvitation,
    ConsiliumOpinion,
    ConsiliumProtocol,
    SignedColumns,
)
from services.consult.cases.consilium.schemas import (
    ConsiliumOut,
    InvitationOut,
    OpinionContent,
    OpinionOut,
    ProtocolCreate,
    ProtocolOut,
)
from services.consult.cases.consilium.service import (
    answer,
    answerable_invitation,
    chaired,
    find_consilium,
)
from services.consult.cases.enums import (
    OUTSTANDING_INVITATIONS,
    CaseAction,
    ConsiliumStatus,
    InvitationStatus,
    SignatureForm,
)
from services.consult.cases.events import case_event
from services.consult.cases.signing import ConclusionSigner, Signature, SignedDocument
from services.consult.cases.transitions import RESOURCE as CASE_RESOURCE
from services.consult.cases.transitions import audit, check_action, load_case

OPINION = "consilium_opinion"
PROTOCOL = "consilium_protocol"
CLOSED_UNANSWERED = "Closed unanswered by the chair to issue the protocol."
_CONSILIUM_FIELDS = [
    name
    for name in ConsiliumOut.model_fields
    if name not in {"invitations", "opinions", "protocol"}
]


def _document(case_id: uuid.UUID, row: SignedColumns) -> SignedDocument:
    # One document per opinion or protocol, never amended: its version is always 1.
    return SignedDocument(
        case_id=case_id,
        version=1,
        author_id=row.author_id,
        issued_at=row.issued_at,
        content=row.content,
    )


def _sign(signer: ConclusionSigner, case_id: uuid.UUID, row: SignedColumns) -> None:
    signature = signer.sign(_document(case_id, row), SignatureForm.CANONICAL_JSON)
    row.content_sha256, row.signature = signature.sha256, signature.value
    row.key_id = signature.key_id


def _signed_fields(
    row: ConsiliumOpinion | ConsiliumProtocol, case_id: uuid.UUID, signer: ConclusionSigner
) -> dict[str, Any]:
    form = SignatureForm.CANONICAL_JSON
    signature = Signature(row.signature, row.key_id, row.content_sha256, form)
    return {
        "id": row.id,
        "author_id": row.author_id,
        "issued_at": row.issued_at,
        "content_sha256": row.content_sha256,
        "signature": row.signature,
        "key_id": row.key_id,
        "signature_valid": signer.verify(_document(case_id, row), signature),
    }


def opinion_out(
    opinion: ConsiliumOpinion, case_id: uuid.UUID, signer: ConclusionSigner
) -> OpinionOut:
    return OpinionOut.model_validate(
        {
            **_signed_fields(opinion, case_id, signer),
            "invitation_id": opinion.invitation_id,
            "specialty": opinion.specialty,
            "content": opinion.content["opinion"],
        }
    )


def _citation(opinion: ConsiliumOpinion) -> dict[str, str]:
    return {
        "opinion_id": str(opinion.id),
        "author_id": str(opinion.author_id),
        "specialty": opinion.specialty,
        "issued_at": opinion.issued_at.astimezone(UTC).isoformat(),
        "content_sha256": opinion.content_sha256,
        "signature": opinion.signature,
        "key_id": opinion.key_id,
    }


def protocol_out(
    protocol: ConsiliumProtocol,
    case_id: uuid.UUID,
    opinions: Sequence[ConsiliumOpinion],
    signer: ConclusionSigner,
) -> ProtocolOut:
    stored = {str(opinion.id): opinion for opinion in opinions}
    cited = protocol.content["opinions"]
    faithful = [
        (opinion := stored.get(citation["opinion_id"])) is not None
        and _citation(opinion) == citation
        and opinion_out(opinion, case_id, signer).signature_valid
        for citation in cited
    ]
    return ProtocolOut.model_validate(
        {
            **_signed_fields(protocol, case_id, signer),
            "decision": protocol.content["decision"],
            "opinions": cited,
            "citations_valid": all(faithful),
        }
    )


async def _opinions(uow: UnitOfWork, consilium: Consilium) -> list[ConsiliumOpinion]:
    query = (
        select(ConsiliumOpinion)
        .where(ConsiliumOpinion.consilium_id == consilium.id)
        .order_by(ConsiliumOpinion.issued_at, ConsiliumOpinion.id)
    )
    return list(await uow.session.scalars(query))


async def consilium_out(
    uow: UnitOfWork, consilium: Consilium, signer: ConclusionSigner
) -> ConsiliumOut:
    """The consilium with its invitations, opinions and protocol, signatures checked now."""
    invitations = await uow.session.scalars(
        select(ConsiliumInvitation)
        .where(ConsiliumInvitation.consilium_id == consilium.id)
        .order_by(ConsiliumInvitation.invited_at, ConsiliumInvitation.id)
    )
    opinions = await _opinions(uow, consilium)
    protocol = await uow.session.scalar(
        select(ConsiliumProtocol).where(ConsiliumProtocol.consilium_id == consilium.id)
    )
    return ConsiliumOut.model_validate(
        {
            **{name: getattr(consilium, name) for name in _CONSILIUM_FIELDS},
            "invitations": [InvitationOut.model_validate(item) for item in invitations],
            "opinions": [opinion_out(opinion, consilium.case_id, signer) for opinion in opinions],
            "protocol": protocol_out(protocol, consilium.case_id, opinions, signer)
            if protocol
            else None,
        }
    )


async def get_consilium(
    uow: UnitOfWork, principal: Principal, case_id: uuid.UUID, signer: ConclusionSigner
) -> ConsiliumOut:
    """For whoever sees the case, and the specialists invited who have not declined."""
    case = await load_case(uow, principal, case_id, "consilium.read")
    consilium = await find_consilium(uow, case, "consilium.read")
    audit(uow, "consilium.read", case.id, detail=f"consilium {consilium.id}")
    return await consilium_out(uow, consilium, signer)


async def give_opinion(
    uow: UnitOfWork,
    principal: Principal,
    case_id: uuid.UUID,
    invitation_id: uuid.UUID,
    content: OpinionContent,
    signer: ConclusionSigner,
    now: datetime,
) -> OpinionOut:
    """The invited specialist's signed opinion; writing it accepts a pending invitation."""
    action = "consilium.opinion"
    case, consilium, invitation = await answerable_invitation(
        uow, principal, case_id, invitation_id, action
    )
    answer(uow, principal, invitation, InvitationStatus.OPINION_GIVEN, action, now)
    specialty = invitation.specialty or ""
    opinion = ConsiliumOpinion(
        id=uuid.uuid4(),
        consilium_id=consilium.id,
        invitation_id=invitation.id,
        specialty=specialty,
        author_id=principal.subject,
        issued_at=now,
        content={
            "document": OPINION,
            "consilium_id": str(consilium.id),
            "invitation_id": str(invitation.id),
            "specialty": specialty,
            "opinion": content.model_dump(mode="json"),
        },
    )
    _sign(signer, case.id, opinion)
    uow.session.add(opinion)
    await uow.session.flush()
    audit(uow, action, case.id, detail=f"opinion {opinion.id} on invitation {invitation.id}")
    return opinion_out(opinion, case.id, signer)


async def issue_protocol(
    uow: UnitOfWork,
    principal: Principal,
    case_id: uuid.UUID,
    data: ProtocolCreate,
    signer: ConclusionSigner,
    now: datetime,
) -> ProtocolOut:
    """The chair's signed decision citing every opinion given; it concludes the case."""
    action = "consilium.protocol"
    case, consilium = await chaired(uow, principal, case_id, action)
    status = check_action(uow, principal, case, CaseAction.CONCLUDE)
    invitations = await uow.session.scalars(
        select(ConsiliumInvitation).where(ConsiliumInvitation.consilium_id == consilium.id)
    )
    unanswered = [item for item in invitations if item.status in OUTSTANDING_INVITATIONS]
    if unanswered and not data.close_unanswered:
        refusal = Conflict(
            f"{len(unanswered)} invitations are unanswered: wait for them, or close them with "
            "`close_unanswered`.",
            unanswered=[str(item.id) for item in unanswered],
        )
        uow.audit.refuse(action, CASE_RESOURCE, case.id, refusal)
    for invitation in unanswered:
        invitation.status, invitation.answered_at = InvitationStatus.CLOSED, now
        invitation.reason = CLOSED_UNANSWERED
    opinions = await _opinions(uow, consilium)
    if not opinions:
        uow.audit.refuse(
            action,
            CASE_RESOURCE,
            case.id,
            Conflict("A protocol cites opinions; none has been given."),
        )
    protocol = ConsiliumProtocol(
        id=uuid.uuid4(),
        consilium_id=consilium.id,
        author_id=principal.subject,
        issued_at=now,
        content={
            "document": PROTOCOL,
            "consilium_id": str(consilium.id),
            "decision": data.decision.model_dump(mode="json"),
            "opinions": [_citation(opinion) for opinion in opinions],
        },
    )
    _sign(signer, case.id, protocol)
    consilium.status = ConsiliumStatus.CONCLUDED
    case.status = status
    case.concluded_at = case.closed_at = now
    uow.session.add(protocol)
    await uow.session.flush()
    await case_event(
        uow, EventType.CASE_CONCLUDED, case, answer="consilium_protocol", concluded_at=now
    )
    closed = f", {len(unanswered)} invitations closed" if unanswered else ""
    audit(uow, action, case.id, detail=f"protocol citing {len(opinions)} opinions{closed}")
    return protocol_out(protocol, case.id, opinions, signer)
