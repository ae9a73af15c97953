"""The administrator's screens in process: organisations, users (invitation, reset link, unlock,
deactivation), API clients and webhook subscriptions (their secret shown once), the delivery
log's replay, the audit chains' status; a form without its CSRF token and a coordinator are
refused by the API's rules, shown as the console's pages."""

import contextlib
import html
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx

from gateway.notify.enums import Template
from tests.conftest import TEST_PASSWORD, Stack
from tests.gateway.accounts import messages
from tests.web.conftest import Console, csrf_of
from tests.webhooks.receiver import event, relay
from web.admin.labels import CLIENT_SCOPES, SERVICE_SCOPES

USERS = "/api/directory/users"


def text_of(page: httpx.Response) -> str:
    return html.unescape(re.sub(r"\s+", " ", page.text))


@contextlib.asynccontextmanager
async def signed_in(console: Console, username: str) -> AsyncIterator[httpx.AsyncClient]:
    async with console.browser() as browser:
        signed = await console.sign_in(browser, username, TEST_PASSWORD)
        assert signed.status_code == 303, signed.text
        page = await console.page(browser, "/profile")
        await console.post(browser, page, "/language", language="en")
        yield browser


async def submit(
    console: Console, browser: httpx.AsyncClient, page_path: str, action: str, form: Any
) -> httpx.Response:
    """Opens `page_path` and posts `form` (pairs, so a checkbox group repeats its name)."""
    page = await console.page(browser, page_path)
    data: dict[str, list[str]] = {"csrf_token": [csrf_of(page)]}
    for name, value in form.items() if isinstance(form, dict) else form:
        data.setdefault(name, []).append(value)
    return await browser.post(action, data=data)


def admin_headers(stack: Stack) -> dict[str, str]:
    assert stack.admin is not None
    return stack.admin.headers


def saved_id(response: httpx.Response, prefix: str) -> str:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(prefix), location
    return location.removeprefix(prefix).split("?")[0]


def test_the_scopes_offered_are_the_gateways_allow_list() -> None:
    from gateway.scopes import CLIENT_SCOPES as ALLOWED
    from gateway.scopes import SERVICE_SCOPES as SERVICE_ONLY

    assert set(CLIENT_SCOPES) == ALLOWED
    assert set(SERVICE_SCOPES) == SERVICE_ONLY


async def test_an_organisation_registered_then_changed(stack: Stack, console: Console) -> None:
    hospital = await stack.organization()
    new = "/admin/organizations/new"
    form = [
        ("name", "Kuzbass hotline"),
        ("kind", "hotline"),
        ("region", "42"),
        ("timezone", "Asia/Novokuznetsk"),
        ("hours_0_opens", "08:00"),
        ("hours_0_closes", "20:00"),
        ("served", hospital["id"]),
    ]
    form += [(f"hours_{day}_{end}", "") for day in range(1, 7) for end in ("opens", "closes")]
    async with signed_in(console, "root.admin") as admin:
        created = await submit(console, admin, new, new, form)
        organization_id = saved_id(created, "/admin/organizations/")
        page = await console.page(admin, created.headers["location"])
        assert "Kuzbass hotline" in page.text
        assert hospital["name"] in page.text  # served
        assert "Closed" in page.text  # Tuesday to Sunday
        stored = await stack.client.get(
            f"/api/directory/organizations/{organization_id}", headers=admin_headers(stack)
        )
        assert stored.json()["serves"] == [hospital["id"]]
        assert [hours["weekday"] for hours in stored.json()["working_hours"]] == [0]

        edit = f"/admin/organizations/{organization_id}/edit"
        wrong = dict(form) | {"name": "", "hours_1_opens": "20:00", "hours_1_closes": "08:00"}
        refused = await submit(console, admin, edit, edit, wrong)
        assert refused.status_code == 422
        assert re.search(r'id="name-error".*?Enter this', refused.text, re.S)
        assert re.search(
            r'id="hours_1_closes-error".*?opens must be before closes', refused.text, re.S
        )
        assert 'value="20:00"' in refused.text  # what was typed is kept

        unserved = [(name, value) for name, value in form if name != "served"]
        changed = await submit(console, admin, edit, edit, unserved)
        assert changed.headers["location"].endswith("?saved=edited")
        stored = await stack.client.get(
            f"/api/directory/organizations/{organization_id}", headers=admin_headers(stack)
        )
        assert stored.json()["serves"] == []


async def test_a_person_registered_invited_and_changed(stack: Stack, console: Console) -> None:
    hospital = await stack.organization()
    new = "/admin/users/new"
    form = {
        "username": "sidorova.medic",
        "full_name": "Мария Сидорова",
        "role": "district_medic",
        "organization_id": hospital["id"],
        "specialty": "",
        "email": "sidorova@hospital.example",
        "phone": "",
        "language": "ru",
    }
    async with signed_in(console, "root.admin") as admin:
        created = await submit(console, admin, new, new, form)
        user_id = saved_id(created, "/admin/users/")
        page = await console.page(admin, created.headers["location"])
        assert "An invitation to choose a password went to the person by email." in text_of(page)
        assert "Not chosen yet" in page.text
        assert len(await messages(stack, Template.ACCOUNT_INVITATION)) == 1

        found = await console.page(admin, "/admin/users?q=sidorova&role=district_medic")
        assert f'href="/admin/users/{user_id}"' in found.text
        other = await console.page(admin, "/admin/users?q=sidorova&role=specialist")
        assert user_id not in other.text

        edit = f"/admin/users/{user_id}/edit"
        wrong = {k: v for k, v in form.items() if k != "username"} | {"email": "not an address"}
        refused = await submit(console, admin, edit, edit, wrong)
        assert refused.status_code == 422
        assert 'id="email-error"' in refused.text
        assert 'value="not an address"' in refused.text
        changed = await submit(
            console, admin, edit, edit, wrong | {"email": "", "phone": "89131234567"}
        )
        assert changed.headers["location"].endswith("?saved=edited")
        account = await stack.client.get(f"{USERS}/{user_id}/account", headers=admin_headers(stack))
        assert (account.json()["email"], account.json()["phone"]) == (None, "+79131234567")

        taken = await submit(console, admin, new, new, form)  # the same username again
        assert taken.status_code == 409
        assert "already exists" in taken.text


async def test_reset_link_unlock_and_the_last_administrator(stack: Stack, console: Console) -> None:
    assert stack.admin is not None
    medic = await stack.actor("district_medic", await stack.organization())
    await stack.client.patch(
        f"{USERS}/{medic.id}",
        json={"email": "medic@hospital.example"},
        headers=admin_headers(stack),
    )
    path = f"/admin/users/{medic.id}"
    async with signed_in(console, "root.admin") as admin:
        page = await console.page(admin, path)
        assert "Direct sign-in" in page.text or "Signed in" in page.text  # the actor's sign-in
        sent = await submit(console, admin, path, f"{path}/password-reset", {})
        assert sent.headers["location"] == f"{path}?saved=password-reset&channels=email"
        told = await console.page(admin, sent.headers["location"])
        assert (
            "A password reset link went to the person by email. It is not shown here."
            in text_of(told)
        )
        (reset,) = await messages(stack, Template.ACCOUNT_PASSWORD_RESET)
        token = str(reset.params["link"]).split("token=")[1]
        assert token not in told.text

        unlocked = await submit(console, admin, path, f"{path}/unlock", {})
        assert unlocked.headers["location"] == f"{path}?saved=unlock"
        off = await submit(console, admin, path, f"{path}/deactivate", {})
        assert off.headers["location"] == f"{path}?saved=deactivate"
        assert "Reactivate the person" in (await console.page(admin, path)).text
        on = await submit(console, admin, path, f"{path}/reactivate", {})
        assert on.headers["location"] == f"{path}?saved=reactivate"

        own = f"/admin/users/{stack.admin.id}"
        last = await submit(console, admin, own, f"{own}/deactivate", {})
        assert last.status_code == 409
        assert "the only active administrator" in text_of(last)


async def test_an_api_clients_secret_is_shown_once(stack: Stack, console: Console) -> None:
    hospital = await stack.organization()
    new = "/admin/api-clients/new"
    form = [
        ("name", "Kuzbass regional MIS"),
        ("organization_id", hospital["id"]),
        ("scopes", "consult:read"),
        ("scopes", "webhooks:manage"),
        ("form_key", uuid.uuid4().hex),
    ]
    async with signed_in(console, "root.admin") as admin:
        wrong = await submit(console, admin, new, new, [*form[:2], ("scopes", "video:rooms")])
        assert wrong.status_code == 422
        assert 'id="scopes-error"' in wrong.text

        created = await submit(console, admin, new, new, form)
        assert created.status_code == 201
        secret = re.search(r'id="secret-value"[^>]*value="([^"]+)"', created.text)
        assert secret
        assert "this is the only time it is shown" in created.text
        listed = await console.page(admin, "/admin/api-clients")
        assert "Kuzbass regional MIS" in listed.text
        assert secret.group(1) not in listed.text
        again = await submit(console, admin, new, new, form)  # a reload of the answer
        assert again.status_code == 410
        assert secret.group(1) not in again.text

        clients = await stack.client.get(
            "/api/directory/api-clients",
            headers=admin_headers(stack),
        )
        (client,) = clients.json()
        edit = f"/admin/api-clients/{client['id']}/edit"
        changed = await submit(
            console, admin, edit, edit, [("name", "Kuzbass MIS"), ("scopes", "consult:read")]
        )
        assert changed.headers["location"] == "/admin/api-clients?saved=edited"
        revoked = await submit(
            console, admin, "/admin/api-clients", f"/admin/api-clients/{client['id']}/revoke", {}
        )
        assert revoked.headers["location"] == "/admin/api-clients?saved=revoked"
        stored = (
            await stack.client.get("/api/directory/api-clients", headers=admin_headers(stack))
        ).json()
        assert (stored[0]["scopes"], stored[0]["is_active"]) == (["consult:read"], False)


async def test_a_subscription_its_secret_and_a_replayed_delivery(
    stack: Stack, console: Console
) -> None:
    new = "/admin/webhooks/new"
    form = [
        ("url", "http://127.0.0.1:9/hooks/mis"),
        ("description", "Regional MIS"),
        ("event_types", "case.submitted"),
    ]
    async with signed_in(console, "root.admin") as admin:
        empty = await submit(console, admin, new, new, form[:2])
        assert empty.status_code == 422
        assert 'id="event_types-error"' in empty.text

        created = await submit(console, admin, new, new, form)
        assert created.status_code == 201
        secret = re.search(r'id="secret-value"[^>]*value="([^"]+)"', created.text)
        assert secret
        subscription_id = re.search(r'href="/admin/webhooks/([0-9a-f-]{36})"', created.text)
        assert subscription_id
        path = f"/admin/webhooks/{subscription_id.group(1)}"
        await relay(stack, event([uuid.uuid4()]))
        page = await console.page(admin, path)
        assert secret.group(1) not in page.text
        replay = re.search(rf'action="({path}/deliveries/[0-9a-f-]{{36}}/replay)"', page.text)
        assert replay
        replayed = await submit(console, admin, path, replay.group(1), {})
        assert replayed.headers["location"] == f"{path}?saved=replayed"
        log = await console.page(admin, replayed.headers["location"])
        assert log.text.count('/replay"') == 2
        assert "replay</span>" in log.text

        paused = await submit(console, admin, path, f"{path}/pause", {})
        assert paused.headers["location"] == f"{path}?saved=paused"
        refused = await submit(console, admin, path, replay.group(1), {})
        assert refused.status_code == 409
        assert "The subscription is paused" in refused.text


async def test_the_audit_chains_status(stack: Stack, console: Console) -> None:
    async with signed_in(console, "root.admin") as admin:
        page = await console.page(admin, "/admin/audit")
        assert text_of(page).count("records intact") == 5
        fragment = await admin.get("/admin/audit", headers={"HX-Request": "true"})
        assert fragment.text.lstrip().startswith('<section id="audit-reports"')


async def test_forms_without_their_csrf_token_are_refused(stack: Stack, console: Console) -> None:
    async with signed_in(console, "root.admin") as admin:
        forged = await admin.post(
            "/admin/users/new", data={"username": "forged.user", "full_name": "F", "role": "admin"}
        )
        assert forged.status_code == 403
    listed = await stack.client.get(USERS, params={"q": "forged"}, headers=admin_headers(stack))
    assert listed.json() == []


async def test_a_coordinator_is_refused_by_the_api(stack: Stack, console: Console) -> None:
    assert stack.admin is not None
    coordinator = await stack.actor("coordinator", await stack.organization())
    async with signed_in(console, coordinator.username) as browser:
        for path in (
            "/admin/api-clients",
            "/admin/webhooks",
            "/admin/audit",
            f"/admin/users/{stack.admin.id}",
        ):
            refused = await browser.get(path)
            assert refused.status_code == 403, path
            assert "Not allowed" in refused.text
        unknown = await browser.get(f"/admin/organizations/{uuid.uuid4()}")
        assert unknown.status_code == 404
        assert "Page not found" in unknown.text
        new = "/admin/organizations/new"
        form = {"name": "Mine", "kind": "hotline", "region": "42", "timezone": "Asia/Omsk"}
        created = await submit(
            console,
            browser,
            new,
            new,
            form | {f"hours_{d}_{e}": "" for d in range(7) for e in ("opens", "closes")},
        )
        assert created.status_code == 403
        assert "Only administrators manage the directory." in created.text
        assert "/admin/" not in (await console.page(browser, "/")).text  # no such navigation
