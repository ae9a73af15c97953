"""The `telemed` verbs against a real database: create-user, re-seeding, bad input."""

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.consult.settings import ConsultSettings
from services.scheduling.settings import SchedulingSettings
from telemed.cli import app as cli
from tests.conftest import TEST_PASSWORD, Stack

runner = CliRunner()


async def invoke(*args: str) -> tuple[int, str]:
    # The CLI runs its own event loop, so it is invoked from a worker thread.
    result = await asyncio.to_thread(runner.invoke, cli, list(args))
    return result.exit_code, result.output


@pytest.fixture
def gateway_database(
    clean_databases: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> str:
    monkeypatch.setenv("TELEMED_GATEWAY_DATABASE_URL", clean_databases["gateway"])
    monkeypatch.setenv("TELEMED_GATEWAY_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("TELEMED_GATEWAY_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("TELEMED_GATEWAY_ARGON2_MEMORY_KIB", "64")
    # The demo's territory map goes into consult's database, its ICU ward into video's.
    monkeypatch.setenv("TELEMED_CONSULT_DATABASE_URL", clean_databases["consult"])
    monkeypatch.setenv("TELEMED_CONSULT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("TELEMED_VIDEO_DATABASE_URL", clean_databases["video"])
    monkeypatch.setenv("TELEMED_VIDEO_VAR_DIR", str(tmp_path))
    return clean_databases["gateway"]


async def test_admin_create_user_can_then_sign_in(stack: Stack, gateway_database: str) -> None:
    code, output = await invoke(
        "admin", "create-user", "first.admin", "admin", "--full-name", "First Admin",
        "--password", "a long enough password",
    )  # fmt: skip
    assert code == 0, output
    assert "created admin first.admin" in output
    tokens = await stack.login("first.admin", "a long enough password")
    assert tokens["token_type"] == "Bearer"


async def test_admin_create_user_rejects_bad_input(stack: Stack, gateway_database: str) -> None:
    code, output = await invoke(
        "admin", "create-user", "spec.x", "specialist", "--full-name", "S",
        "--password", "a long enough password",
    )  # fmt: skip
    assert code == 2
    assert "specialty" in output


async def test_reseeding_gives_fresh_passwords_that_work(
    stack: Stack, gateway_database: str
) -> None:
    first_code, first = await invoke("seed", "--demo", "--json")
    second_code, second = await invoke("seed", "--demo", "--json")
    assert first_code == second_code == 0
    before, after = json.loads(first), json.loads(second)
    assert [org["id"] for org in before["organizations"]] == [
        org["id"] for org in after["organizations"]
    ]
    medic_before = next(u for u in before["users"] if u["username"] == "medic.tashtagol")
    medic_after = next(u for u in after["users"] if u["username"] == "medic.tashtagol")
    assert medic_before["password"] != medic_after["password"]
    tokens = await stack.login("medic.tashtagol", medic_after["password"])
    assert tokens["access_token"]


async def test_seeding_registers_the_client_scheduling_sets_up_video_rooms_as(
    stack: Stack, gateway_database: str, tmp_path: Path
) -> None:
    settings = SchedulingSettings(var_dir=tmp_path)
    assert settings.video_client_credentials() is None
    assert (await invoke("seed", "--demo"))[0] == 0
    assert settings.resolved_video_client_file().stat().st_mode & 0o777 == 0o600
    first = settings.video_client_credentials()
    assert first is not None

    async def token(client_id: str, secret: str) -> dict[str, object]:
        response = await stack.client.post(
            "/api/auth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
        )
        body: dict[str, object] = response.json()
        return body

    granted = await token(first[0], first[1].get_secret_value())
    assert granted["scope"] == "video:rooms"
    # Seeding again gives the same client a new secret; the old one stops working.
    assert (await invoke("seed", "--demo"))[0] == 0
    second = settings.video_client_credentials()
    assert second is not None
    assert second[0] == first[0]
    assert "access_token" in await token(second[0], second[1].get_secret_value())
    assert "access_token" not in await token(first[0], first[1].get_secret_value())


async def test_seeding_maps_the_hotlines_territories_to_the_demo_organisations(
    stack: Stack, gateway_database: str
) -> None:
    assert (await invoke("seed", "--demo"))[0] == 0
    code, output = await invoke("seed", "--demo", "--json")  # again: replaced, not doubled
    assert code == 0
    seeded = json.loads(output)
    ids = {organization["name"]: organization["id"] for organization in seeded["organizations"]}
    (operator,) = [u for u in seeded["users"] if u["username"] == "coordinator.kuzbass"]
    tokens = await stack.login("coordinator.kuzbass", operator["password"])
    response = await stack.client.get(
        "/api/consult/appeal-territories",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert response.status_code == 200, response.text
    assert [(item["code"], item["name"], item["organization_id"]) for item in response.json()] == [
        ("32628000", "Таштагольский район", ids["Tashtagol District Hospital"]),
        ("32701000", "Кемерово", ids["Kemerovo City Polyclinic No. 5"]),
        ("32731000", "Новокузнецк", ids["Kuzbass Regional Clinical Hospital"]),
    ]


async def test_seeding_puts_the_territories_on_the_home_visit_catchment_with_a_nurse(
    stack: Stack, gateway_database: str
) -> None:
    assert (await invoke("seed", "--demo"))[0] == 0
    code, output = await invoke("seed", "--demo", "--json")  # again: nothing doubles
    assert code == 0
    seeded = json.loads(output)
    ids = {organization["name"]: organization["id"] for organization in seeded["organizations"]}
    (operator,) = [u for u in seeded["users"] if u["username"] == "coordinator.kuzbass"]
    tokens = await stack.login("coordinator.kuzbass", operator["password"])
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    response = await stack.client.get("/api/consult/home-visit-catchment", headers=headers)
    assert response.status_code == 200, response.text
    assert [(line["territory_code"], line["organization_id"]) for line in response.json()] == [
        ("32628000", ids["Tashtagol District Hospital"]),
        ("32701000", ids["Kemerovo City Polyclinic No. 5"]),
        ("32731000", ids["Kuzbass Regional Clinical Hospital"]),
    ]
    (nurse,) = [u for u in seeded["users"] if u["username"] == "nurse.tashtagol"]
    assert nurse["role"] == "district_medic"
    assert nurse["organization_id"] == ids["Tashtagol District Hospital"]


async def test_seeding_gives_tashtagol_an_icu_ward_the_centre_watches(
    stack: Stack, gateway_database: str
) -> None:
    assert (await invoke("seed", "--demo"))[0] == 0
    code, output = await invoke("seed", "--demo", "--json")  # again: nothing doubles
    assert code == 0
    seeded = json.loads(output)
    ids = {organization["name"]: organization["id"] for organization in seeded["organizations"]}
    passwords = {user["username"]: user["password"] for user in seeded["users"]}
    (coordinator,) = [u for u in seeded["users"] if u["username"] == "coordinator.tashtagol"]
    assert coordinator["role"] == "coordinator"
    assert coordinator["organization_id"] == ids["Tashtagol District Hospital"]
    for username, manages in (("coordinator.tashtagol", True), ("cardiologist.kuzbass", False)):
        tokens = await stack.login(username, passwords[username])
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        wards = (await stack.client.get("/api/video/wards", headers=headers)).json()
        (ward,) = wards
        assert ward["name"] == "ICU, Tashtagol District Hospital"
        assert ward["organization_id"] == ids["Tashtagol District Hospital"]
        assert ward["watcher_ids"] == [ids["Kuzbass Regional Clinical Hospital"]]
        assert ward["recording_allowed"]
        assert ward["may_manage"] is manages
        beds = [(bed["label"], bed["occupied"], bed["recording_consent"], bed["source"])
                for bed in ward["beds"]]  # fmt: skip
        assert beds == [
            ("Bed 1", True, True, "tablet"), ("Bed 2", True, False, "tablet"),
            ("Bed 3", True, False, "tablet"), ("Bed 4", False, False, "tablet"),
        ]  # fmt: skip


def test_seed_without_demo_flag_is_refused() -> None:
    result = runner.invoke(cli, ["seed"])
    assert result.exit_code == 2


async def test_reseeding_registers_each_api_client_once_with_a_fresh_secret(
    stack: Stack, gateway_database: str
) -> None:
    first = json.loads((await invoke("seed", "--demo", "--json"))[1])["api_clients"][0]
    second = json.loads((await invoke("seed", "--demo", "--json"))[1])["api_clients"][0]
    assert first["client_id"] == second["client_id"]
    assert stack.admin is not None
    listed = await stack.client.get("/api/directory/api-clients", headers=stack.admin.headers)
    names = [client["name"] for client in listed.json()]
    assert names.count("Kuzbass regional MIS") == names.count("Scheduling service") == 1

    async def signs_in(client: dict[str, str]) -> bool:
        response = await stack.client.post(
            "/api/auth/token",
            data={"grant_type": "client_credentials"},
            auth=(client["client_id"], client["client_secret"]),
        )
        return response.status_code == 200

    assert await signs_in(second)
    assert not await signs_in(first)


def test_demo_against_another_machine_needs_its_credentials() -> None:
    result = runner.invoke(cli, ["demo", "--url", "https://telemed.example.org"])
    assert result.exit_code == 2
    words = " ".join(result.output.replace("│", " ").split())  # unwrapped from its box
    assert "https://telemed.example.org is not this machine: pass --credentials" in words


async def test_admin_account_verbs_run_the_directorys_rules(
    stack: Stack, gateway_database: str
) -> None:
    """set-contact, reset-password (the link goes out, never to the screen), unlock,
    deactivate and reactivate; refusals exit 1 naming why, bad input exits 2."""
    from sqlalchemy import select

    from gateway.models import kernel_tables
    from gateway.notify.enums import Template
    from tests.gateway.accounts import link_token, messages

    medic = await stack.actor("district_medic", await stack.organization())
    assert (await invoke("admin", "reset-password", medic.username))[0] == 1  # nowhere to send
    code, output = await invoke(
        "admin", "set-contact", medic.username, "--email", "ivan.kuznetsov@Hospital.Example",
        "--phone", "8 913 123-45-67", "--language", "en",
    )  # fmt: skip
    assert code == 0, output
    assert "ivan.kuznetsov@hospital.example" in output
    assert "+79131234567" in output
    assert (await invoke("admin", "set-contact", medic.username, "--email", "nope"))[0] == 2

    code, output = await invoke("admin", "reset-password", medic.username)
    assert code == 0, output
    assert "email to i***v@hospital.example" in output
    (message,) = await messages(stack, Template.ACCOUNT_PASSWORD_RESET)
    assert link_token(message) not in output

    for _ in range(5):
        await stack.client.post(
            "/api/auth/token",
            data={"grant_type": "password", "username": medic.username, "password": "wrong-pw"},
        )
    code, output = await invoke("admin", "unlock", medic.username)
    assert (code, "5 failed sign-in(s) forgotten" in output) == (0, True), output
    await stack.login(medic.username)

    assert (await invoke("admin", "deactivate", medic.username))[0] == 0
    refused = await stack.client.post(
        "/api/auth/token",
        data={"grant_type": "password", "username": medic.username, "password": TEST_PASSWORD},
    )
    assert refused.status_code == 400
    code, output = await invoke("admin", "reactivate", medic.username)
    assert (code, output.strip()) == (0, f"reactivated {medic.username}")
    await stack.login(medic.username)

    code, output = await invoke("admin", "deactivate", "root.admin")
    assert code == 1
    assert "only active administrator" in output
    code, output = await invoke("admin", "unlock", "nobody.here")
    assert code == 1
    assert "No user named 'nobody.here'" in output
    records = kernel_tables.audit.records
    async with stack.apps["gateway"].state.database.sessionmaker() as session:
        rows = await session.execute(
            select(records.c.action, records.c.outcome).where(records.c.actor_id.is_(None))
        )
        audited = {(action, outcome) for action, outcome in rows}
    assert {
        ("user.update", "success"),
        ("user.password_reset", "failed"),
        ("user.password_reset", "success"),
        ("user.unlock", "success"),
        ("user.deactivate", "success"),
        ("user.reactivate", "success"),
        ("user.deactivate", "failed"),
        ("user.unlock", "denied"),
    } <= audited


async def test_admin_reset_password_reaches_a_phone_only_person_by_sms(
    stack: Stack, gateway_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With an SMS provider configured, the verb plans the SMS as the API does, and names the
    masked phone it went to."""
    from sqlalchemy import select

    from gateway.notify.enums import Channel, Template
    from gateway.notify.models import Delivery
    from tests.gateway.accounts import messages

    monkeypatch.setenv("TELEMED_GATEWAY_SMS_PROVIDER", "smsc")
    medic = await stack.actor("district_medic", await stack.organization())
    code, output = await invoke("admin", "set-contact", medic.username, "--phone", "+79131234567")
    assert code == 0, output

    code, output = await invoke("admin", "reset-password", medic.username)
    assert code == 0, output
    assert "sms to +7******4567" in output
    (message,) = await messages(stack, Template.ACCOUNT_PASSWORD_RESET)
    async with stack.apps["gateway"].state.database.sessionmaker() as session:
        channels = await session.scalars(
            select(Delivery.channel).where(Delivery.message_id == message.id)
        )
        assert list(channels) == [Channel.SMS]


async def test_seeding_writes_the_hotlines_knowledge_base_once(
    stack: Stack, gateway_database: str
) -> None:
    from telemed.demo.knowledge import demo_articles

    code, output = await invoke("seed", "--demo", "--json")
    assert code == 0, output
    assert json.loads(output)["knowledge_articles"] == len(demo_articles()) >= 25
    code, output = await invoke("seed", "--demo", "--json")  # again: nothing doubles
    seeded = json.loads(output)
    assert seeded["knowledge_articles"] == 0
    (operator,) = [u for u in seeded["users"] if u["username"] == "coordinator.kuzbass"]
    tokens = await stack.login("coordinator.kuzbass", operator["password"])
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    articles = "/api/consult/knowledge/articles"

    found = await stack.client.get(articles, params={"q": "полис"}, headers=headers)
    assert found.status_code == 200, found.text
    policy = [
        data.title
        for data in demo_articles()
        if data.categories == ["oms_policy"] and data.language == "ru"
    ]
    assert set(policy) <= {item["title"] for item in found.json()["items"]}
    every = await stack.client.get(articles, params={"limit": 100}, headers=headers)
    khabarovsk = [data for data in demo_articles() if data.regions == ["27"]]
    assert len(every.json()["items"]) == len(demo_articles()) - len(khabarovsk)


async def test_seeding_sets_up_khabarovsks_medical_chat(
    stack: Stack, gateway_database: str, tmp_path: Path
) -> None:
    """Its territories on region 27's map, the bot bound to the city, its coordinator, and the
    client consult reads the directory as (owner-only, as consult looks for it)."""
    assert (await invoke("seed", "--demo"))[0] == 0
    code, output = await invoke("seed", "--demo", "--json")  # again: nothing doubles
    assert code == 0
    seeded = json.loads(output)
    ids = {organization["name"]: organization["id"] for organization in seeded["organizations"]}
    (chat,) = [o for o in seeded["organizations"] if o["name"] == "Khabarovsk Krai Medical Chat"]
    assert (chat["region"], chat["timezone"]) == ("27", "Asia/Vladivostok")
    (operator,) = [u for u in seeded["users"] if u["username"] == "coordinator.khabarovsk"]
    assert (operator["role"], operator["organization_id"]) == ("coordinator", chat["id"])
    tokens = await stack.login("coordinator.khabarovsk", operator["password"])
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    territories = await stack.client.get("/api/consult/appeal-territories", headers=headers)
    assert [(item["code"], item["organization_id"]) for item in territories.json()] == [
        ("08701000", ids["Khabarovsk Krai Medical Chat"]),
        ("08709000", ids["Khabarovsk Krai Medical Chat"]),
    ]
    bindings = await stack.client.get("/api/consult/chat-bindings", headers=headers)
    assert [
        (each["bot"], each["chat_id"], each["region"], each["territory_code"])
        for each in bindings.json()
    ] == [("khabarovsk", "*", "27", "08701000")]
    settings = ConsultSettings(var_dir=tmp_path)
    assert settings.resolved_chat_client_file().stat().st_mode & 0o777 == 0o600
    credentials = settings.chat_client_credentials()
    assert credentials is not None
    client_id, secret = credentials
    token = await stack.client.post(
        "/api/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret.get_secret_value()),
    )
    assert token.status_code == 200, token.text
    hours = await stack.client.get(
        f"/api/directory/organizations/{chat['id']}",
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
    )
    assert hours.status_code == 200, hours.text
    assert [
        (day["weekday"], day["opens"], day["closes"]) for day in hours.json()["working_hours"]
    ] == [(day, "08:00:00", "20:00:00") for day in range(6)]
