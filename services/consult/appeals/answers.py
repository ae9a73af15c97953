"""Each organisation's own wording of the answers to topics the channels do not handle, in
Russian and English: read and edited by administrators and the organisation's coordinators;
where an organisation has none, the built-in answer (`settings.DEFAULT_REDIRECT_ANSWERS`)."""

import uuid
from datetime import datetime

from sqlalchemy import select

from services.common.auth import Principal, Role
from services.common.errors import Forbidden, NotFound, ProblemError
from services.common.uow import UnitOfWork
from services.consult.appeals.enums import AnswerLanguage, RedirectTopic
from services.consult.appeals.models import RedirectAnswer
from services.consult.appeals.schemas import RedirectAnswerOut
from services.consult.appeals.settings import DEFAULT_REDIRECT_ANSWERS, AppealsSettings
from services.consult.ports import OrganizationLookup
from services.consult.scopes import require_scope

RESOURCE = "appeal_redirect_answer"


def built_in(settings: AppealsSettings, topic: RedirectTopic, language: AnswerLanguage) -> str:
    """The deployment's answer (settings may reword some), else the one written here."""
    configured = settings.appeal_redirect_answers.get(language, {})
    return configured.get(topic) or DEFAULT_REDIRECT_ANSWERS[language][topic]


async def answer_for(
    uow: UnitOfWork,
    organization_id: uuid.UUID | None,
    topic: RedirectTopic,
    language: AnswerLanguage,
    settings: AppealsSettings,
) -> str:
    """What the person is told: the responsible organisation's wording, else the built-in."""
    if organization_id is not None:
        own = await uow.session.get(RedirectAnswer, (organization_id, topic, language))
        if own is not None:
            return own.text
    return built_in(settings, topic, language)


async def _authorise(
    uow: UnitOfWork,
    principal: Principal,
    organization_id: uuid.UUID,
    organizations: OrganizationLookup,
    action: str,
    *,
    write: bool,
) -> None:
    """Administrators, for an organisation the directory knows; coordinators, for their own."""
    try:
        require_scope(principal, write=write)
        if principal.role is Role.ADMIN:
            await organizations(organization_id)  # a 404 for an organisation nobody knows
        elif not (
            principal.role is Role.COORDINATOR and principal.organization_id == organization_id
        ):
            raise Forbidden("Administrators and the organisation's coordinators word its answers.")
    except ProblemError as error:
        uow.audit.refuse(action, RESOURCE, organization_id, error)


def _view(
    topic: RedirectTopic,
    language: AnswerLanguage,
    own: RedirectAnswer | None,
    settings: AppealsSettings,
) -> RedirectAnswerOut:
    return RedirectAnswerOut(
        topic=topic,
        language=language,
        text=own.text if own else built_in(settings, topic, language),
        built_in=own is None,
        updated_by=own.updated_by if own else None,
        updated_at=own.updated_at if own else None,
    )


async def list_answers(
    uow: UnitOfWork,
    principal: Principal,
    organization_id: uuid.UUID,
    organizations: OrganizationLookup,
    settings: AppealsSettings,
) -> list[RedirectAnswerOut]:
    """Every topic in every language, as the organisation's callers are told it now."""
    action = "appeal.redirect_answer.list"
    await _authorise(uow, principal, organization_id, organizations, action, write=False)
    query = select(RedirectAnswer).where(RedirectAnswer.organization_id == organization_id)
    own = {(each.topic, each.language): each for each in await uow.session.scalars(query)}
    uow.audit.record(action, RESOURCE, organization_id)
    return [
        _view(topic, language, own.get((topic, language)), settings)
        for topic in RedirectTopic
        for language in AnswerLanguage
    ]


async def put_answer(
    uow: UnitOfWork,
    principal: Principal,
    organization_id: uuid.UUID,
    topic: RedirectTopic,
    language: AnswerLanguage,
    text: str,
    organizations: OrganizationLookup,
    settings: AppealsSettings,
    now: datetime,
) -> RedirectAnswerOut:
    action = "appeal.redirect_answer.update"
    await _authorise(uow, principal, organization_id, organizations, action, write=True)
    own = await uow.session.get(RedirectAnswer, (organization_id, topic, language))
    if own is None:
        own = RedirectAnswer(organization_id=organization_id, topic=topic, language=language)
        uow.session.add(own)
    own.text, own.updated_by, own.updated_at = text, principal.subject, now
    await uow.session.flush()
    uow.audit.record(action, RESOURCE, organization_id, detail=f"{topic.value}, {language.value}")
    return _view(topic, language, own, settings)


async def reset_answer(
    uow: UnitOfWork,
    principal: Principal,
    organization_id: uuid.UUID,
    topic: RedirectTopic,
    language: AnswerLanguage,
    organizations: OrganizationLookup,
) -> None:
    """Back to the built-in answer; a 404 when the organisation had not worded its own."""
    action = "appeal.redirect_answer.reset"
    await _authorise(uow, principal, organization_id, organizations, action, write=True)
    own = await uow.session.get(RedirectAnswer, (organization_id, topic, language))
    if own is None:
        missing = NotFound("The organisation has not worded this answer: the built-in applies.")
        uow.audit.refuse(action, RESOURCE, organization_id, missing)
    await uow.session.delete(own)
    uow.audit.record(action, RESOURCE, organization_id, detail=f"{topic.value}, {language.value}")
