"""The demo's knowledge base: a hotline's articles in Russian and English (knowledge.json beside
this module), written and published by the demo's administrator through consult's own rules,
so each has its versions and search index."""

import json
import uuid
from importlib import resources

from sqlalchemy import select

from gateway.client import Organization
from services.common.auth import Principal, Role
from services.common.db import Database, utcnow
from services.common.errors import NotFound
from services.common.keys import load_or_create_secret
from services.common.settings import ServiceSettings
from services.common.uow import standalone_unit_of_work
from services.consult.db import KERNEL_TABLES
from services.consult.knowledge import service as knowledge
from services.consult.knowledge.enums import ArticleAction
from services.consult.knowledge.models import Article
from services.consult.knowledge.schemas import ArticleCreate


def demo_articles() -> list[ArticleCreate]:
    text = resources.files("telemed.demo").joinpath("knowledge.json").read_text("utf-8")
    return [ArticleCreate.model_validate(entry) for entry in json.loads(text)]


async def _no_organizations(organization_id: uuid.UUID) -> Organization:
    # An administrator writes every article: the rules ask the directory nothing of them.
    raise NotFound(f"No organisation {organization_id} is looked up while seeding.")


async def seed_knowledge(consult: ServiceSettings, admin_id: uuid.UUID, admin: str) -> int:
    """Writes and publishes the articles not there yet (by title and language); how many."""
    key = load_or_create_secret(consult.resolved_audit_key_path())
    database = Database(consult.resolved_database_url(), audit_key=key)
    author = Principal(subject=admin_id, username=admin, role=Role.ADMIN)
    written = 0
    try:
        async with standalone_unit_of_work(database, KERNEL_TABLES.audit) as uow:
            present = set(
                (await uow.session.execute(select(Article.title, Article.language))).all()
            )
            for data in demo_articles():
                if (data.title, data.language) in present:
                    continue
                now = utcnow()
                article = await knowledge.create_article(uow, author, data, _no_organizations, now)
                await knowledge.change_status(
                    uow, author, article.id, ArticleAction.PUBLISH, None, _no_organizations, now
                )
                written += 1
    finally:
        await database.dispose()
    return written
