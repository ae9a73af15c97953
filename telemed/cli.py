"""`telemed`: the operational verbs — run, migrate, seed, demo, admin, audit."""

import asyncio
import json
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gateway.settings import GatewaySettings
from services.common.audit import ChainReport, define_audit_tables, verify_chain
from services.common.db import Database, new_metadata
from services.common.migrations import upgrade
from telemed import accounts
from telemed.registry import SERVICES, spec

if TYPE_CHECKING:
    from gateway.oauth.schemas import OAuthClientCreate, OAuthClientCreated

app = typer.Typer(help="Operate telemed: run, migrate, seed, demo and audit it.")
admin_app = typer.Typer(help="Administration of the directory.")
audit_app = typer.Typer(help="The audit trail of each service.")
app.add_typer(admin_app, name="admin")
app.add_typer(audit_app, name="audit")
accounts.register(admin_app)  # reset-password, unlock, deactivate, reactivate, set-contact

ServiceOption = Annotated[
    list[str] | None, typer.Option("--service", "-s", help="Limit to these services.")
]


def _selected(names: list[str] | None) -> list[str]:
    chosen = names or [service.name for service in SERVICES]
    unknown = sorted(set(chosen) - {service.name for service in SERVICES})
    if unknown:
        raise typer.BadParameter(f"unknown service(s): {', '.join(unknown)}")
    return chosen


@app.command()
def migrate(service: ServiceOption = None) -> None:
    """Apply every pending migration of each service's database."""
    for name in _selected(service):
        target = spec(name)
        url = target.settings().resolved_database_url()
        upgrade(target.migrations_dir, url)
        typer.echo(f"{name}: migrated")


@app.command()
def run(
    var_dir: Annotated[Path, typer.Option(help="Where SQLite files and keys live.")] = Path("var"),
    base_port: Annotated[
        int, typer.Option(help="Gateway port; each service takes the next one in turn.")
    ] = 8000,
    mail_catcher: Annotated[
        bool,
        typer.Option(
            "--mail-catcher",
            help="Keep email and SMS on this machine: a local SMTP server and SMS API store "
            "each message under <var-dir>/catcher/ (telemed/catcher.py) instead of sending it.",
        ),
    ] = False,
) -> None:
    """Start the gateway and every service on localhost until Ctrl-C."""
    from telemed.catcher import Catcher
    from telemed.launcher import Launcher, say

    ports = {service.name: base_port + index for index, service in enumerate(SERVICES)}
    with Catcher(var_dir) if mail_catcher else nullcontext() as catcher:
        env = catcher.gateway_env() if catcher else {}
        if catcher:
            say(f"email goes to SMTP 127.0.0.1:{catcher.smtp_port}, kept in {catcher.mail.folder}")
            say(f"SMS go to the SMS API {catcher.sms_url}, kept in {catcher.sms.folder}")
        code = Launcher(var_dir=var_dir, ports=ports, extra_env=env).run_forever()
    raise typer.Exit(code)


@app.command()
def seed(
    demo: Annotated[bool, typer.Option("--demo", help="Demo organisations and users.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the credentials as JSON.")] = False,
) -> None:
    """Create demo organisations and users (existing demo users get fresh passwords), a
    district hospital's ICU ward, and register the web console at the gateway (with a new
    secret, written for web)."""
    if not demo:
        raise typer.BadParameter("nothing to seed; pass --demo")
    from telemed.console import register_console
    from telemed.demo.seed import seed_demo
    from web.settings import WebSettings

    consult, video = spec("consult").settings(), spec("video").settings()
    accounts = asyncio.run(seed_demo(GatewaySettings(), consult, video))
    asyncio.run(register_console(GatewaySettings(), WebSettings()))
    if as_json:
        typer.echo(json.dumps(accounts, indent=2, ensure_ascii=False))
        return
    for account in accounts["users"]:
        typer.echo(f"{account['role']:<15} {account['username']:<28} {account['password']}")


@app.command()
def demo(
    url: Annotated[str, typer.Option(help="The gateway of the running system.")] = (
        "http://127.0.0.1:8000"
    ),
    var_dir: Annotated[
        Path | None,
        typer.Option(help="The local system's var/ (default: as `telemed run`), to seed."),
    ] = None,
    credentials: Annotated[
        Path | None,
        typer.Option(
            help="The JSON `telemed seed --demo --json` printed; required unless the system "
            "runs on this machine."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON report (progress goes to stderr).")
    ] = False,
) -> None:
    """Run the whole story against a running system (`make run`), step by step: a district
    medic's urgent case with a lab PDF and a DICOM image sent resumably, a cardiologist's signed
    conclusion, an in-person first visit, two remote follow-ups (the patient's invitation email
    shown as the local mail catcher of `telemed run --mail-catcher` keeps it), the first held
    over video with a bot patient, and the webhook deliveries. Exits 1 at the first step that
    fails.

    Its users: with --credentials, those of the file. Without, the system must
    run on this machine: the demo seeds its directory as `telemed seed --demo`
    does (safe to repeat; the demo users get fresh passwords, kept in
    <var-dir>/demo/credentials.json). It sets the cardiologist's schedule up for
    visits starting now (short visits, no notice, extra hours) and cancels the
    visits an earlier run left unheld.
    """
    from telemed.demo.story import credential_source, run_story

    try:
        source = credential_source(url, credentials, var_dir)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    ok, report = asyncio.run(run_story(url, source, as_json=as_json, var_dir=var_dir))
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    raise typer.Exit(0 if ok else 1)


@admin_app.command("create-user")
def create_user(
    username: str,
    role: str,
    full_name: Annotated[str, typer.Option(help="Shown to colleagues.")],
    organization_id: Annotated[str | None, typer.Option(help="Required for staff.")] = None,
    specialty: Annotated[str | None, typer.Option(help="Required for specialists.")] = None,
    password: Annotated[
        str | None, typer.Option(help="Prompted for when omitted; never echoed.")
    ] = None,
) -> None:
    """Create a user in the directory (for example the first administrator)."""
    from pydantic import ValidationError

    from gateway.schemas import UserCreate
    from telemed.demo.seed import create_users

    secret = password or typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        body = UserCreate(
            username=username,
            password=secret,
            full_name=full_name,
            role=role,
            organization_id=organization_id,
            specialty=specialty,
        )
    except ValidationError as exc:
        raise typer.BadParameter(str(exc)) from exc
    (user,) = asyncio.run(create_users(GatewaySettings(), [body]))
    typer.echo(f"created {user.role} {user.username} ({user.id})")


async def _register_oauth_client(
    settings: GatewaySettings, body: "OAuthClientCreate", client_id: str | None
) -> "OAuthClientCreated":
    from sqlalchemy.exc import IntegrityError

    from gateway.auth import SecretHasher
    from gateway.models import kernel_tables
    from gateway.oauth.clients import register
    from services.common.keys import load_or_create_secret
    from services.common.uow import standalone_unit_of_work

    hasher = SecretHasher(
        time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib
    )
    key = load_or_create_secret(settings.resolved_audit_key_path())
    database = Database(settings.resolved_database_url(), audit_key=key)
    try:
        async with standalone_unit_of_work(database, kernel_tables.audit) as uow:
            return await register(uow, hasher, body, client_id=client_id)
    except IntegrityError as exc:
        raise typer.BadParameter(f"an OAuth client {client_id!r} exists already") from exc
    finally:
        await database.dispose()


@admin_app.command("create-oauth-client")
def create_oauth_client(
    name: str,
    redirect_uri: Annotated[
        list[str], typer.Option("--redirect-uri", help="Exact URI codes go back to; repeatable.")
    ],
    client_id: Annotated[str | None, typer.Option(help="Default: a new tmo_... id.")] = None,
    confidential: Annotated[
        bool, typer.Option(help="Keeps a secret (printed once); else public, with PKCE.")
    ] = False,
    first_party: Annotated[bool, typer.Option(help="Telemed's own: no consent page.")] = False,
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="openid, profile, email, offline_access.")
    ] = None,
    post_logout_redirect_uri: Annotated[list[str] | None, typer.Option()] = None,
) -> None:
    """Register an OAuth client people sign in to (as POST /api/directory/oauth-clients)."""
    from pydantic import ValidationError

    from gateway.oauth.schemas import OAuthClientCreate

    try:
        body = OAuthClientCreate(
            name=name,
            redirect_uris=redirect_uri,
            post_logout_redirect_uris=post_logout_redirect_uri or [],
            confidential=confidential,
            first_party=first_party,
            scopes=scope or ["openid", "profile"],
        )
    except ValidationError as exc:
        raise typer.BadParameter(str(exc)) from exc
    created = asyncio.run(_register_oauth_client(GatewaySettings(), body, client_id))
    typer.echo(f"created OAuth client {created.client_id} ({created.id})")
    if created.client_secret:
        typer.echo(f"client secret (shown once): {created.client_secret}")


@admin_app.command("register-console")
def register_console_command(
    public_url: Annotated[
        str | None,
        typer.Option(help="The portal as browsers reach it; default: TELEMED_WEB_PUBLIC_URL."),
    ] = None,
) -> None:
    """Register the web console as the gateway's confidential OAuth client (again: a new
    secret, the old one stops working) and print its secret, for TELEMED_WEB_OAUTH_CLIENT_SECRET
    where the console runs apart (docker-compose.yml, deploy/k8s). Run it beside the gateway."""
    from telemed.console import register_console
    from web.settings import WebSettings

    web = WebSettings(public_url=public_url) if public_url else WebSettings()
    typer.echo(asyncio.run(register_console(GatewaySettings(), web)))


async def _verify(name: str, key: bytes) -> ChainReport:
    database = Database(spec(name).settings().resolved_database_url(), audit_key=key)
    try:
        async with database.sessionmaker() as session:
            return await verify_chain(session, define_audit_tables(new_metadata()))
    finally:
        await database.dispose()


@audit_app.command("verify")
def audit_verify(service: ServiceOption = None) -> None:
    """Recompute each audit chain under the service's audit key (`<var_dir>/<service>/audit.key`
    unless set); exit 1 naming the first record that was tampered with."""
    broken = False
    for name in _selected(service):
        key_path = spec(name).settings().resolved_audit_key_path()
        if not key_path.is_file():
            broken = True
            typer.echo(f"{name}: no audit key at {key_path}; run this beside the service", err=True)
            continue
        report = asyncio.run(_verify(name, key_path.read_bytes()))
        if report.intact:
            before = f", {report.unkeyed} from before keying" if report.unkeyed else ""
            typer.echo(f"{name}: intact ({report.records} records{before})")
        else:
            broken = True
            where = f"chain {report.broken_chain} record {report.first_broken_seq}"
            typer.echo(f"{name}: BROKEN at {where}: {report.reason}", err=True)
    raise typer.Exit(1 if broken else 0)
