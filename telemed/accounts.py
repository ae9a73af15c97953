"""`telemed admin` verbs on people's accounts: reset-password, unlock, deactivate, reactivate,
set-contact. They run the directory's own functions (gateway/directory/users.py) on the
gateway's database, as the operator of this machine, audited like the API's (no actor)."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated

import typer
from pydantic import ValidationError

from gateway.accounts.schemas import ProfileUpdate
from gateway.directory import users
from gateway.directory.service import switch_off
from gateway.models import User, kernel_tables
from gateway.notify.planning import session_info
from gateway.settings import GatewaySettings
from services.common.db import Database
from services.common.errors import ProblemError
from services.common.keys import load_or_create_secret
from services.common.uow import UnitOfWork, standalone_unit_of_work

Username = Annotated[str, typer.Argument(help="The user's username.")]
Work = Callable[[UnitOfWork, GatewaySettings], Awaitable[str]]


def mask_email(email: str) -> str:
    """Enough to tell which address it went to, not enough to copy it from a screen."""
    local, _, domain = email.partition("@")
    if not local:
        return email
    return f"{local[0]}***{local[-1] if len(local) > 1 else ''}@{domain}"


def mask_phone(phone: str) -> str:
    return phone[:2] + "*" * (len(phone) - 6) + phone[-4:]


async def _run(settings: GatewaySettings, work: Work) -> str:
    """`work` in one unit of work; a refusal rolls it back, but is still on the audit trail."""
    key = load_or_create_secret(settings.resolved_audit_key_path())
    database = Database(
        settings.resolved_database_url(), audit_key=key, info=session_info(settings)
    )
    trail = None
    try:
        async with standalone_unit_of_work(database, kernel_tables.audit) as uow:
            trail = uow.audit
            return await work(uow, settings)
    except ProblemError:
        if trail is not None and trail.pending:
            async with database.sessionmaker() as session:
                await trail.write(session)
                await session.commit()
        raise
    finally:
        await database.dispose()


def _do(work: Work) -> None:
    try:
        typer.echo(asyncio.run(_run(GatewaySettings(), work)))
    except ProblemError as refused:
        typer.echo(f"refused: {refused.detail}", err=True)
        raise typer.Exit(1) from None


def reset_password(username: Username) -> None:
    """Send the user a one-time password reset link (to their contacts, never printed)."""

    async def work(uow: UnitOfWork, settings: GatewaySettings) -> str:
        user = await users.find_username(uow, username, "user.password_reset")
        sent = await users.send_reset(uow, settings, user)
        where = {"email": mask_email(user.email or ""), "sms": mask_phone(user.phone or "")}
        places = ", ".join(f"{channel} to {where[channel]}" for channel in sent.channels)
        return f"reset link for {user.username} queued: {places}; valid until {sent.expires_at}"

    _do(work)


def unlock(username: Username) -> None:
    """Forget the user's failed sign-ins, so the sign-in throttle no longer holds them back."""

    async def work(uow: UnitOfWork, settings: GatewaySettings) -> str:
        user = await users.find_username(uow, username, "user.unlock")
        cleared = await users.unlock(uow, user)
        return f"unlocked {user.username}: {cleared} failed sign-in(s) forgotten"

    _do(work)


def deactivate(username: Username) -> None:
    """Switch the user off: sign-ins end, tokens are refused within seconds.

    The only active administrator cannot be switched off.
    """

    async def work(uow: UnitOfWork, settings: GatewaySettings) -> str:
        user = await users.find_username(uow, username, "user.deactivate")
        await switch_off(uow, settings, user, "user.deactivate", users.RESOURCE, by=None)
        return f"deactivated {user.username}"

    _do(work)


def reactivate(username: Username) -> None:
    """Let a deactivated user sign in again."""

    async def work(uow: UnitOfWork, settings: GatewaySettings) -> str:
        user = await users.find_username(uow, username, "user.reactivate")
        await users.reactivate(uow, user)
        return f"reactivated {user.username}"

    _do(work)


def set_contact(
    username: Username,
    email: Annotated[
        str | None, typer.Option(help="Email address; an empty value removes it.")
    ] = None,
    phone: Annotated[
        str | None, typer.Option(help="Mobile number, e.g. +79131234567; empty removes it.")
    ] = None,
    language: Annotated[str | None, typer.Option(help="ru or en: messages' language.")] = None,
) -> None:
    """Set where the user's messages go (password links among them) and their language."""
    given = {"email": email, "phone": phone, "language": language}
    try:
        body = ProfileUpdate.model_validate(
            {field: value or None for field, value in given.items() if value is not None}
        )
    except ValidationError as exc:
        raise typer.BadParameter(str(exc)) from exc
    if not body.model_fields_set:
        raise typer.BadParameter("nothing to set: pass --email, --phone or --language")

    async def work(uow: UnitOfWork, settings: GatewaySettings) -> str:
        user: User = await users.find_username(uow, username, "user.update")
        await users.apply_profile(uow, user, body)
        return (
            f"{user.username}: email {user.email or '-'}, phone {user.phone or '-'}, "
            f"language {user.language}"
        )

    _do(work)


def register(admin: typer.Typer) -> None:
    for verb in (reset_password, unlock, deactivate, reactivate, set_contact):
        admin.command(verb.__name__.replace("_", "-"))(verb)
