"""Chat messages into appeals: a chat's message opens an appeal routed by the territory its
binding names (filed on the appeals' one way in, by the binding), or joins the chat's open
appeal; out of the organisation's hours it is answered at once with when it will be. Each
update is taken in once, and one chat's messages one at a time. And the bindings themselves.
"""

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from services.common.auth import Principal
from services.common.errors import NotFound, ProblemError, Unprocessable
from services.common.uow import UnitOfWork
from services.consult.appeals import service as appeals
from services.consult.appeals import thread
from services.consult.appeals.access import audit as audit_appeal
from services.consult.appeals.enums import (
    OPEN_APPEAL_STATUSES,
    AppealCategory,
    AppealChannel,
    MessageKind,
)
from services.consult.appeals.models import Appeal, AppealMessage
from services.consult.appeals.settings import AppealsSettings
from services.consult.appeals.working_hours import clock_start
from services.consult.chats.access import RESOURCE, check_editor
from services.consult.chats.adapters import Inbound
from services.consult.chats.enums import ChatChannel
from services.consult.chats.hours import language_of, out_of_hours_reply
from services.consult.chats.models import EVERY_CHAT, Chat, ChatBinding, ChatConversation
from services.consult.chats.redelivery import taken_once
from services.consult.chats.schemas import BindingIn, WebhookAnswer
from services.consult.ports import OrganizationLookup


async def _binding(uow: UnitOfWork, bot: str, chat_id: str) -> ChatBinding | None:
    """The chat's own binding, else the bot's for every chat."""
    query = select(ChatBinding).where(
        ChatBinding.bot == bot, ChatBinding.chat_id.in_((chat_id, EVERY_CHAT))
    )
    bindings = {each.chat_id: each for each in await uow.session.scalars(query)}
    return bindings.get(chat_id) or bindings.get(EVERY_CHAT)


async def _open_appeal(uow: UnitOfWork, bot: str, chat_id: str) -> Appeal | None:
    query = (
        select(Appeal)
        .join(ChatConversation, ChatConversation.appeal_id == Appeal.id)
        .where(
            ChatConversation.bot == bot,
            ChatConversation.chat_id == chat_id,
            Appeal.status.in_([status.value for status in OPEN_APPEAL_STATUSES]),
        )
        .order_by(ChatConversation.started_at.desc())
        .limit(1)
        .with_for_update(of=Appeal)
    )
    appeal: Appeal | None = await uow.session.scalar(query)
    return appeal


async def _reply_out_of_hours(
    uow: UnitOfWork, appeal: Appeal, organizations: OrganizationLookup, now: datetime
) -> None:
    """Once per closed spell: a second message that night gets no second reply."""
    if appeal.organization_id is None:  # nobody's hours to tell: the map names no organisation
        return
    organization = await organizations(appeal.organization_id)
    opens = clock_start(organization, now)
    if opens <= now:
        return
    query = (
        select(AppealMessage.at)
        .where(AppealMessage.appeal_id == appeal.id, AppealMessage.kind == MessageKind.OUT_OF_HOURS)
        .order_by(AppealMessage.id.desc())
        .limit(1)
    )
    told = await uow.session.scalar(query)
    if told is not None and clock_start(organization, told) == opens:
        return
    text = out_of_hours_reply(organization, opens, appeal.language)
    thread.post(uow, appeal, MessageKind.OUT_OF_HOURS, text, now)


async def _one_at_a_time(uow: UnitOfWork, bot: str, chat_id: str, now: datetime) -> None:
    """Locks the chat's row until commit, making it first if need be: a second message of the
    chat delivered meanwhile waits here, then finds the appeal this one opens. (PostgreSQL's
    upsert locks the row it inserts or updates; SQLite's `BEGIN IMMEDIATE` already runs one
    writer at a time.)"""
    dialect = postgresql if uow.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Chat).values(bot=bot, chat_id=chat_id, last_message_at=now)
    await uow.session.execute(
        statement.on_conflict_do_update(
            index_elements=[Chat.bot, Chat.chat_id], set_={"last_message_at": now}
        )
    )


async def receive(
    uow: UnitOfWork,
    bot: str,
    inbound: Inbound,
    organizations: OrganizationLookup,
    settings: AppealsSettings,
    now: datetime,
) -> WebhookAnswer:
    update = await taken_once(uow, bot, inbound.update_id, now)
    text = (inbound.text or "").strip()
    if update is None or not text:
        return WebhookAnswer(taken=False)
    binding = await _binding(uow, bot, inbound.chat_id)
    if binding is None:
        uow.audit.record("chat.message.unbound", RESOURCE, None, detail=f"{bot} {inbound.chat_id}")
        return WebhookAnswer(taken=False)
    await _one_at_a_time(uow, bot, inbound.chat_id, now)
    appeal = await _open_appeal(uow, bot, inbound.chat_id)
    if appeal is None:
        filing = appeals.Filing(
            region=binding.region,
            channel=AppealChannel.CHAT,
            category=AppealCategory.QUESTION,
            territory=binding.territory_code,
            contact_name=inbound.sender[:255],
            text=text,
            language=language_of(inbound.language),
            created_by=binding.id,
            created_by_role=appeals.CHAT_FILER,
            principal=None,
            reply_channel=binding.channel.value,
        )
        appeal = await appeals.file_appeal(uow, filing, organizations, settings, now)
        uow.session.add(
            ChatConversation(
                appeal_id=appeal.id,
                channel=binding.channel,
                bot=bot,
                chat_id=inbound.chat_id,
                started_at=now,
            )
        )
    else:
        thread.post(
            uow,
            appeal,
            MessageKind.PERSON,
            text,
            now,
            author_name=inbound.sender[:255],
            external_id=inbound.message_id,
        )
        appeal.updated_at = now
    update.appeal_id = appeal.id
    await _reply_out_of_hours(uow, appeal, organizations, now)
    await uow.session.flush()
    audit_appeal(
        uow, "appeal.message.receive", appeal.id, detail=f"{bot} update {update.update_id}"
    )
    return WebhookAnswer(taken=True, appeal_id=appeal.id)


async def list_bindings(
    uow: UnitOfWork, principal: Principal, region: str | None
) -> list[ChatBinding]:
    action = "chat.binding.list"
    try:
        check_editor(principal, region or principal.region, write=False)
    except ProblemError as error:
        uow.audit.refuse(action, RESOURCE, None, error)
    query = select(ChatBinding).order_by(ChatBinding.bot, ChatBinding.chat_id)
    if region or principal.region:
        query = query.where(ChatBinding.region == (region or principal.region))
    bindings = list((await uow.session.scalars(query)).all())
    uow.audit.record(action, RESOURCE, None)
    return bindings


async def put_binding(
    uow: UnitOfWork,
    principal: Principal,
    bot: str,
    chat_id: str,
    body: BindingIn,
    bots: frozenset[str],
    now: datetime,
) -> ChatBinding:
    """Binds a bot's chat (`*`: all its chats) to a territory; the bot must be configured."""
    action = "chat.binding.put"
    existing = await uow.session.scalar(
        select(ChatBinding).where(ChatBinding.bot == bot, ChatBinding.chat_id == chat_id)
    )
    try:
        check_editor(principal, body.region, write=True)
        if existing is not None:
            check_editor(principal, existing.region, write=True)
        if bot not in bots:
            raise Unprocessable(f"No bot {bot!r} is configured (TELEMED_CONSULT_CHAT_BOTS).")
    except ProblemError as error:
        uow.audit.refuse(action, RESOURCE, existing.id if existing else None, error)
    binding = existing or ChatBinding(
        id=uuid.uuid4(), channel=ChatChannel.TELEGRAM, bot=bot, chat_id=chat_id, created_at=now
    )
    binding.name, binding.region, binding.territory_code = body.name, body.region, body.territory
    binding.updated_by, binding.updated_at = principal.subject, now
    if existing is None:
        uow.session.add(binding)
    await uow.session.flush()
    uow.audit.record(action, RESOURCE, binding.id, detail=f"{body.region}/{body.territory}")
    return binding


async def delete_binding(uow: UnitOfWork, principal: Principal, bot: str, chat_id: str) -> None:
    """The chat's messages are taken in no more; its appeals stay, and their replies still go."""
    action = "chat.binding.delete"
    binding = await uow.session.scalar(
        select(ChatBinding).where(ChatBinding.bot == bot, ChatBinding.chat_id == chat_id)
    )
    try:
        if binding is None:
            raise NotFound("No such chat binding.")
        check_editor(principal, binding.region, write=True)
    except ProblemError as error:
        uow.audit.refuse(action, RESOURCE, binding.id if binding else None, error)
    await uow.session.delete(binding)
    uow.audit.record(action, RESOURCE, binding.id)
