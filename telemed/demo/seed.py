"""Demo directory for trying telemed: a Kuzbass regional centre, its districts, and their staff,
the hotline's territory map of the region and its knowledge base, a district hospital's ICU
ward the centre watches, and Khabarovsk Krai's medical chat (telemed/demo/chats.py)."""

import json
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import select

from gateway.accounts.passwords import PasswordRules, Passwords
from gateway.auth import SecretHasher, new_client_credentials
from gateway.directory.service import create_user
from gateway.directory.serving import replace_served
from gateway.models import ApiClient, Organization, User, kernel_tables
from gateway.schemas import OrganizationCreate, OrganizationKind, UserCreate
from gateway.schemas import User as UserView
from gateway.settings import GatewaySettings
from services.common.auth import Role
from services.common.db import Database
from services.common.keys import load_or_create_secret
from services.common.settings import ServiceSettings
from services.common.uow import UnitOfWork, standalone_unit_of_work
from services.consult.appeals.routing import merge_territories
from services.consult.appeals.schemas import TerritoryFileEntry
from services.consult.db import KERNEL_TABLES as CONSULT_TABLES
from services.consult.home_visits.catchment import merge_lines
from services.scheduling.settings import SchedulingSettings
from services.video.service import ROOM_SCHEDULER_SCOPE
from telemed.demo import chats
from telemed.demo.knowledge import seed_knowledge
from telemed.demo.wards import seed_ward

ORGANIZATIONS = [
    ("Kuzbass Regional Clinical Hospital", OrganizationKind.REGIONAL_CENTRE, "42",
     "Asia/Novokuznetsk"),
    ("Tashtagol District Hospital", OrganizationKind.DISTRICT_HOSPITAL, "42", "Asia/Novokuznetsk"),
    ("Mariinsk District Hospital", OrganizationKind.DISTRICT_HOSPITAL, "42", "Asia/Novokuznetsk"),
    ("Kemerovo City Polyclinic No. 5", OrganizationKind.POLYCLINIC, "42", "Asia/Novokuznetsk"),
    ("Khabarovsk Territorial Telemedicine Centre", OrganizationKind.REGIONAL_CENTRE, "27",
     "Asia/Vladivostok"),
    ("Kuzbass Patient Call Centre", OrganizationKind.CALL_CENTRE, "42", "Asia/Novokuznetsk"),
    # Open 08:00-20:00 Monday to Saturday (the directory's default hours), in Khabarovsk's zone.
    (chats.CHAT_ORGANIZATION, OrganizationKind.CALL_CENTRE, chats.REGION, "Asia/Vladivostok"),
]  # fmt: skip
CENTRE, TASHTAGOL, MARIINSK = (
    "Kuzbass Regional Clinical Hospital",
    "Tashtagol District Hospital",
    "Mariinsk District Hospital",
)
CALL_CENTRE = "Kuzbass Patient Call Centre"
KEMEROVO_POLYCLINIC = "Kemerovo City Polyclinic No. 5"
SCHEDULING_CLIENT_NAME = "Scheduling service"
MIS_CLIENT_NAME = "Kuzbass regional MIS"
USERS: list[tuple[str, str, Role, str | None, str | None]] = [
    ("admin", "Directory Administrator", Role.ADMIN, None, None),
    ("coordinator.kuzbass", "Olga Sergeevna Lapina", Role.COORDINATOR, CENTRE, None),
    ("medic.tashtagol", "Ivan Petrovich Kuznetsov", Role.DISTRICT_MEDIC, TASHTAGOL, None),
    ("feldsher.mariinsk", "Nadezhda Ilyinichna Orlova", Role.DISTRICT_MEDIC, MARIINSK, None),
    ("cardiologist.kuzbass", "Elena Viktorovna Sokolova", Role.SPECIALIST, CENTRE, "cardiology"),
    ("neurologist.kuzbass", "Pavel Andreevich Belov", Role.SPECIALIST, CENTRE, "neurology"),
    ("obstetrician.kuzbass", "Marina Olegovna Frolova", Role.SPECIALIST, CENTRE, "obstetrics"),
    # Registered by his district hospital, which books his visits and opens his episodes.
    ("patient.petrov", "Sergei Nikolaevich Petrov", Role.PATIENT, TASHTAGOL, None),
    # Takes the calls of Tashtagol's and the polyclinic's patients: registers and books them.
    ("registrar.callcentre", "Anna Igorevna Smirnova", Role.REGISTRAR, CALL_CENTRE, None),
    # Manages Tashtagol's ICU ward (telemed/demo/wards.py): its beds, patients, tablet links.
    ("coordinator.tashtagol", "Irina Pavlovna Guseva", Role.COORDINATOR, TASHTAGOL, None),
    # The district nurse Tashtagol's polyclinic sends to homes (a blood draw, an injection).
    ("nurse.tashtagol", "Svetlana Nikolaevna Vasilieva", Role.DISTRICT_MEDIC, TASHTAGOL, None),
    # Works Khabarovsk Krai's medical chat: its appeals, their conversations and answers.
    ("coordinator.khabarovsk", "Tatiana Viktorovna Kim", Role.COORDINATOR,
     chats.CHAT_ORGANIZATION, None),
]  # fmt: skip
# The call centre serves these: its registrar acts for their patients as for its own.
SERVED_BY_CALL_CENTRE = (TASHTAGOL, KEMEROVO_POLYCLINIC)
# The hotline's territory map of region 42 (OKTMO codes, the names its operators hear): which
# organisation answers each territory's callers. The demo has no hospital in Novokuznetsk, so
# the regional centre answers its callers.
TERRITORIES = [
    ("32628000", "Таштагольский район", TASHTAGOL),
    ("32701000", "Кемерово", KEMEROVO_POLYCLINIC),
    ("32731000", "Новокузнецк", CENTRE),
]
# How the demo's people are reached: addresses at a domain reserved for examples (RFC 2606), so
# nothing sent to them can reach anyone (`telemed run --mail-catcher` keeps it on this machine),
# and numbers +7 900 000-00-NN, one per user. One reads English, to show both languages.
DEMO_MAIL_DOMAIN = "demo.example.org"
ENGLISH_READERS = frozenset({"neurologist.kuzbass"})


def demo_contact(index: int, username: str) -> dict[str, str]:
    return {
        "email": f"{username}@{DEMO_MAIL_DOMAIN}",
        "phone": f"+7900000{index:04d}",
        "language": "en" if username in ENGLISH_READERS else "ru",
    }


def _database(settings: GatewaySettings) -> Database:
    """The gateway's database with its audit key, as the running gateway writes the chain."""
    key = load_or_create_secret(settings.resolved_audit_key_path())
    return Database(settings.resolved_database_url(), audit_key=key)


def _hasher(settings: GatewaySettings) -> SecretHasher:
    return SecretHasher(time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib)


def _passwords(settings: GatewaySettings, hasher: SecretHasher) -> Passwords:
    """Users' passwords are held to the rules (gateway/accounts/passwords.py) here too."""
    return Passwords(PasswordRules.from_settings(settings), hasher)


async def create_users(settings: GatewaySettings, bodies: list[UserCreate]) -> list[UserView]:
    database = _database(settings)
    try:
        async with standalone_unit_of_work(database, kernel_tables.audit) as uow:
            passwords = _passwords(settings, _hasher(settings))
            return [await create_user(uow, passwords, body) for body in bodies]
    finally:
        await database.dispose()


async def _organization(uow: UnitOfWork, body: OrganizationCreate) -> Organization:
    existing = await uow.session.scalar(select(Organization).where(Organization.name == body.name))
    if existing:
        return existing
    organization = Organization(**body.model_dump(mode="json"))
    uow.session.add(organization)
    await uow.session.flush()
    uow.audit.record("organization.create", "organization", organization.id)
    return organization


async def _api_client(
    uow: UnitOfWork,
    hasher: SecretHasher,
    name: str,
    organization: Organization,
    scopes: list[str],
    *,
    is_service: bool = False,
) -> tuple[ApiClient, str]:
    """The demo API client of this name, registered once; seeding again gives it a fresh secret
    (only the hash is stored, so an old secret cannot be printed again)."""
    client = await uow.session.scalar(select(ApiClient).where(ApiClient.name == name))
    client_id, secret = new_client_credentials()
    if client is None:
        client = ApiClient(
            client_id=client_id, secret_hash="", name=name, organization_id=organization.id,
            scopes=scopes,
        )  # fmt: skip
        uow.session.add(client)
    client.scopes, client.is_service = scopes, is_service  # an older seed's row is brought up
    client.secret_hash = await hasher.hash(secret)
    await uow.session.flush()
    uow.audit.record("api_client.create", "api_client", client.id)
    return client, secret


async def _scheduling_client(
    uow: UnitOfWork, hasher: SecretHasher, centre: Organization, var_dir: Path
) -> None:
    """Registers the API client scheduling sets up video rooms as and leaves its credentials
    where the scheduling service looks for them (on every call, so a new secret is taken up)."""
    client, secret = await _api_client(
        uow, hasher, SCHEDULING_CLIENT_NAME, centre, [ROOM_SCHEDULER_SCOPE], is_service=True
    )
    path = SchedulingSettings(var_dir=var_dir).resolved_video_client_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps({"client_id": client.client_id, "client_secret": secret}))


async def _territory_map(consult: ServiceSettings, organizations: dict[str, Organization]) -> None:
    """The demo's territories on consult's map, written into its database as the map's file
    is at consult's start (so seeding before `telemed run` works too); again, they are
    replaced, and territories drawn through the API stay."""
    key = load_or_create_secret(consult.resolved_audit_key_path())
    database = Database(consult.resolved_database_url(), audit_key=key)
    entries = [
        TerritoryFileEntry(
            region="42", code=code, name=name, organization_id=organizations[organization].id
        )
        for code, name, organization in TERRITORIES
    ]
    chat = organizations[chats.CHAT_ORGANIZATION].id
    entries += [
        TerritoryFileEntry(region=chats.REGION, code=code, name=name, organization_id=chat)
        for code, name in chats.TERRITORIES
    ]
    # Home visits: the same territories, each served by the organisation's own polyclinic.
    lines = [("42", code, organizations[name].id) for code, _, name in TERRITORIES]
    try:
        await merge_territories(database, CONSULT_TABLES.audit, entries, "the demo's seed")
        await merge_lines(database, CONSULT_TABLES.audit, lines)
    finally:
        await database.dispose()


async def seed_demo(
    settings: GatewaySettings, consult: ServiceSettings, video: ServiceSettings
) -> dict[str, Any]:
    """Creates what is missing, so seeding again is safe: nothing is duplicated, and demo users
    and API clients that exist get a new password or secret so the output is valid. `consult`
    and `video`: those services' settings, whose databases get the territory map and the ICU
    ward."""
    hasher = _hasher(settings)
    database = _database(settings)
    result: dict[str, Any] = {"organizations": [], "users": [], "api_clients": []}
    try:
        async with standalone_unit_of_work(database, kernel_tables.audit) as uow:
            organizations = {}
            for name, kind, region, zone in ORGANIZATIONS:
                body = OrganizationCreate(name=name, kind=kind, region=region, timezone=zone)
                organization = await _organization(uow, body)
                organizations[name] = organization
                result["organizations"].append(
                    {"id": str(organization.id), "name": name, "kind": kind.value,
                     "region": region, "timezone": zone}
                )  # fmt: skip
            for index, (username, full_name, role, organization_name, specialty) in enumerate(
                USERS, start=1
            ):
                password = secrets.token_urlsafe(12)
                contact = demo_contact(index, username)
                organization_id = organizations[organization_name].id if organization_name else None
                user = await uow.session.scalar(select(User).where(User.username == username))
                if user is None:
                    await create_user(uow, _passwords(settings, hasher), UserCreate(
                        username=username, password=password, full_name=full_name, role=role,
                        organization_id=organization_id, specialty=specialty, **contact,
                    ))  # fmt: skip
                else:
                    user.password_hash = await hasher.hash(password)
                    user.organization_id = organization_id  # as the demo has it now
                    user.email, user.phone = contact["email"], contact["phone"]
                    user.language = contact["language"]
                result["users"].append(
                    {"username": username, "password": password, "role": role.value,
                     "organization_id": str(organization_id) if organization_id else None,
                     "specialty": specialty, **contact}
                )  # fmt: skip
            served = [organizations[name].id for name in SERVED_BY_CALL_CENTRE]
            await replace_served(uow, organizations[CALL_CENTRE].id, served)
            await _scheduling_client(uow, hasher, organizations[CENTRE], settings.var_dir)
            mis, secret = await _api_client(
                uow, hasher, MIS_CLIENT_NAME, organizations[TASHTAGOL],
                ["consult:read", "consult:write"],
            )  # fmt: skip
            result["api_clients"].append(
                {"client_id": mis.client_id, "client_secret": secret,
                 "organization_id": str(organizations[TASHTAGOL].id)}
            )  # fmt: skip
            # Consult reads the chat's hours as this client (no scopes: the directory alone).
            chat_client, chat_secret = await _api_client(
                uow, hasher, chats.CHAT_CLIENT_NAME, organizations[chats.CHAT_ORGANIZATION], []
            )
            chats.write_chat_client(consult, chat_client.client_id, chat_secret)
            # The knowledge base's articles are written in the administrator's name.
            author = await uow.session.scalar(select(User.id).where(User.username == "admin"))
    finally:
        await database.dispose()
    await _territory_map(consult, organizations)
    assert author is not None  # the first of USERS
    await chats.bind_bot(consult, author)
    await seed_ward(video, organizations[TASHTAGOL].id, organizations[CENTRE].id)
    result["knowledge_articles"] = await seed_knowledge(consult, author, "admin")
    return result
