"""Registers the web console at the gateway as its confidential, first-party OAuth client and
leaves the secret where the console reads it (`telemed seed` does this on every run)."""

import os
import secrets
from pathlib import Path

from sqlalchemy import select

from gateway.auth import SecretHasher
from gateway.models import kernel_tables
from gateway.oauth import clients, schemas
from gateway.oauth.enums import Scope
from gateway.oauth.models import OAuthClient
from gateway.settings import GatewaySettings
from services.common.db import Database
from services.common.keys import load_or_create_secret
from services.common.owner_only import private_folder, write_private_file
from services.common.uow import standalone_unit_of_work
from web.settings import WebSettings

CONSOLE_NAME = "telemed console"


def console_client(web: WebSettings) -> schemas.OAuthClientCreate:
    """The console as the gateway must know it: a confidential client (it keeps a secret on
    the server), first-party (people are not asked to consent to telemed's own console),
    returning to its callback and, after signing out, to its signed-out page."""
    return schemas.OAuthClientCreate(
        name=CONSOLE_NAME,
        redirect_uris=[web.redirect_uri()],
        post_logout_redirect_uris=[web.signed_out_uri()],
        first_party=True,
        scopes=[Scope.OPENID.value, Scope.PROFILE.value, Scope.OFFLINE_ACCESS.value],
        confidential=True,
    )


def _keep_secret(path: Path, secret: str) -> None:
    """Replaces the secret file in one step, readable only by its owner."""
    private_folder(path.parent)
    staged = path.with_name(path.name + f".{os.getpid()}.new")
    staged.unlink(missing_ok=True)
    write_private_file(staged, secret.encode())
    os.replace(staged, path)


async def register_console(gateway: GatewaySettings, web: WebSettings) -> str:
    """Registers the console under its client id, or brings the registration up to date (an
    earlier one, a public client included, becomes this one: there is one console client),
    with a new secret each time; writes the secret to the console's file (where a console on
    this machine reads it) and returns it.

    It works on the gateway's database as the rest of `telemed seed` does, through the same
    service function the admin API (`/api/directory/oauth-clients`) calls, so no gateway has
    to be running and no administrator's token is needed."""
    body = console_client(web)
    hasher = SecretHasher(time_cost=gateway.argon2_time_cost, memory_kib=gateway.argon2_memory_kib)
    key = load_or_create_secret(gateway.resolved_audit_key_path())
    database = Database(gateway.resolved_database_url(), audit_key=key)
    try:
        async with standalone_unit_of_work(database, kernel_tables.audit) as uow:
            client = await uow.session.scalar(
                select(OAuthClient).where(OAuthClient.client_id == web.oauth_client_id)
            )
            if client is None:
                created = await clients.register(uow, hasher, body, client_id=web.oauth_client_id)
                secret = created.client_secret or ""
            else:
                secret = secrets.token_urlsafe(32)
                client.name, client.first_party, client.scopes = body.name, True, body.scopes
                client.redirect_uris = body.redirect_uris
                client.post_logout_redirect_uris = body.post_logout_redirect_uris
                client.secret_hash = await hasher.hash(secret)
                client.is_active = True
                await uow.session.flush()
                uow.audit.record("oauth_client.update", clients.RESOURCE, client.id)
    finally:
        await database.dispose()
    _keep_secret(web.resolved_client_secret_path(), secret)
    return secret
