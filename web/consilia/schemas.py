"""Consult's consilium answers as the consilium screens read them (docs/api.md); fields the
screens do not use are ignored."""

import uuid
from datetime import datetime

from web.cases.schemas import Answer, ConclusionContent


class Invitation(Answer):
    id: uuid.UUID
    case_id: uuid.UUID
    invitee_id: uuid.UUID | None
    organization_id: uuid.UUID | None
    specialty: str | None
    status: str
    invited_at: datetime
    answered_at: datetime | None
    reason: str | None


class OpinionContent(Answer):
    assessment: str
    diagnosis_codes: list[str]
    recommendations: str


class Signed(Answer):
    """What consult says of a signed document: who, when, its digest and key, and whether the
    signature verifies now."""

    id: uuid.UUID
    author_id: uuid.UUID
    issued_at: datetime
    content_sha256: str
    key_id: str
    signature_valid: bool


class Opinion(Signed):
    invitation_id: uuid.UUID
    specialty: str
    content: OpinionContent


class Citation(Answer):
    opinion_id: uuid.UUID
    author_id: uuid.UUID
    specialty: str


class Protocol(Signed):
    decision: ConclusionContent
    opinions: list[Citation]
    citations_valid: bool


class Consilium(Answer):
    id: uuid.UUID
    case_id: uuid.UUID
    chair_id: uuid.UUID
    organization_id: uuid.UUID
    status: str
    agenda: str
    convened_at: datetime
    room_id: uuid.UUID | None
    invitations: list[Invitation]
    opinions: list[Opinion]
    protocol: Protocol | None


class Colleague(Answer):
    """A specialist of the reader's region, whom a chair may invite by name."""

    id: uuid.UUID
    full_name: str
    organization_id: uuid.UUID | None
    specialty: str | None
    is_active: bool
