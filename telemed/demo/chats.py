"""The demo's medical chat of Khabarovsk Krai: its Telegram bot bound to the city's territory,
and the API client consult reads the directory as when a chat writes (its credentials left
where consult looks for them). The bot's token is the operator's to configure
(`TELEMED_CONSULT_CHAT_BOTS`, docs/chats.md); until then its webhook answers 404."""

import json
import uuid
from pathlib import Path

from sqlalchemy import select

from services.common.db import Database, utcnow
from services.common.keys import load_or_create_secret
from services.common.settings import ServiceSettings
from services.common.uow import standalone_unit_of_work
from services.consult.chats.access import RESOURCE
from services.consult.chats.enums import ChatChannel
from services.consult.chats.models import EVERY_CHAT, ChatBinding
from services.consult.db import KERNEL_TABLES as CONSULT_TABLES
from services.consult.settings import ConsultSettings

CHAT_ORGANIZATION = "Khabarovsk Krai Medical Chat"
REGION = "27"
# Region 27's territory map (OKTMO codes): the chat answers the callers of both cities.
TERRITORIES = [("08701000", "Хабаровск"), ("08709000", "Комсомольск-на-Амуре")]
BOT = "khabarovsk"
BINDING_NAME = "Медицинский чат Хабаровского края"
CHAT_CLIENT_NAME = "Consult's chats"


def write_chat_client(consult: ServiceSettings, client_id: str, secret: str) -> Path:
    """Where consult reads its chat client from (`chat_client_file`), owner-only."""
    path = ConsultSettings(var_dir=consult.var_dir).resolved_chat_client_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps({"client_id": client_id, "client_secret": secret}))
    return path


async def bind_bot(consult: ServiceSettings, updated_by: uuid.UUID) -> None:
    """Every chat of the demo's bot speaks for the city of Khabarovsk; seeding again rewrites
    the binding, and bindings made through the API stay."""
    key = load_or_create_secret(consult.resolved_audit_key_path())
    database = Database(consult.resolved_database_url(), audit_key=key)
    territory = TERRITORIES[0][0]
    try:
        async with standalone_unit_of_work(database, CONSULT_TABLES.audit) as uow:
            query = select(ChatBinding).where(
                ChatBinding.bot == BOT, ChatBinding.chat_id == EVERY_CHAT
            )
            binding = await uow.session.scalar(query)
            now = utcnow()
            if binding is None:
                binding = ChatBinding(
                    id=uuid.uuid4(), channel=ChatChannel.TELEGRAM, bot=BOT, chat_id=EVERY_CHAT,
                    created_at=now,
                )  # fmt: skip
                uow.session.add(binding)
            binding.name, binding.region, binding.territory_code = BINDING_NAME, REGION, territory
            binding.updated_by, binding.updated_at = updated_by, now
            await uow.session.flush()
            uow.audit.record("chat.binding.put", RESOURCE, binding.id, detail="the demo's seed")
    finally:
        await database.dispose()
