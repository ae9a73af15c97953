"""The administrator's screens in Chromium against the real processes of `telemed run`: the
administrator registers a person (invited by email), sends a medic a password reset link (never
shown), registers an API client (its secret shown once), subscribes an address to case events
and replays a delivery of a case the medic submits; every screen passes axe-core."""

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from telemed.samples import sample_case
from tests.web.browser import (
    CHROMIUM,
    System,
    assert_accessible,
    headless_chromium,
    running_console,
    sign_in,
)

ADMIN, MEDIC = "admin", "medic.tashtagol"
SUBMIT = "main button[type=submit]"
# Nothing listens on port 9 (discard): every attempt fails, and the log shows it.
HOOK_URL = "http://127.0.0.1:9/hooks/mis"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's Chromium is needed")


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    with running_console(tmp_path_factory.mktemp("admin")) as running:
        yield running


@pytest.fixture(scope="module")
def admin(system: System) -> Iterator[Page]:
    with headless_chromium() as chromium:
        yield _signed_in(chromium, system)


def _signed_in(chromium: Browser, system: System) -> Page:
    page = chromium.new_context(locale="en-GB", base_url=system.url).new_page()
    page.goto("/admin/users/new")
    sign_in(page, system, ADMIN)
    expect(page).to_have_url(system.url + "/admin/users/new")
    page.click("form.language button[value=en]")  # the administrator's own language is Russian
    expect(page.locator("h1")).to_have_text("Register a person")
    return page


def _submit_a_case(system: System) -> None:
    """The medic submits a case through the API, so consult announces `case.submitted`."""
    with httpx.Client(base_url=system.url, timeout=30) as client:
        tokens = client.post(
            "/api/auth/token",
            data={
                "grant_type": "password",
                "username": MEDIC,
                "password": system.password(MEDIC),
            },
        )
        assert tokens.status_code == 200, tokens.text
        headers = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
        organizations = client.get("/api/directory/organizations", headers=headers).json()
        centre = next(each for each in organizations if each["kind"] == "regional_centre")
        case = client.post(
            "/api/consult/cases", json=sample_case(centre["id"], submit=True), headers=headers
        )
        assert case.status_code == 201, case.text


def test_people_clients_and_webhooks(admin: Page, system: System) -> None:
    assert_accessible(admin, "new person")
    admin.fill("#username", "petrova.medic")
    admin.fill("#full_name", "Anna Petrova")
    admin.select_option("#role", "district_medic")
    admin.select_option("#organization_id", index=1)
    admin.fill("#email", "petrova@hospital.example")
    admin.click(SUBMIT)
    expect(admin.locator(".notice")).to_contain_text("invitation")
    assert "saved=invite&channels=email" in admin.url
    assert_accessible(admin, "a person")

    admin.goto(f"/admin/users?q={MEDIC}")
    assert_accessible(admin, "users")
    admin.click("main a:has-text('Ivan Petrovich Kuznetsov')")
    admin.click("form[action$='/password-reset'] button")
    expect(admin.locator(".notice")).to_contain_text("It is not shown here.")
    assert "token=" not in admin.content()

    admin.goto("/admin/api-clients/new")
    assert_accessible(admin, "new API client")
    admin.fill("#name", "Kuzbass regional MIS")
    admin.check("input[name=scopes][value='consult:read']")
    admin.click(SUBMIT)
    secret = admin.input_value("#secret-value")
    assert len(secret) >= 32
    assert_accessible(admin, "API client's secret")
    admin.click("main a.button")
    expect(admin.locator("h1")).to_have_text("API clients")
    assert secret not in admin.content()
    assert_accessible(admin, "API clients")

    admin.goto("/admin/webhooks/new")
    assert_accessible(admin, "new subscription")
    admin.fill("#url", HOOK_URL)
    admin.check("input[name=event_types][value='case.submitted']")
    admin.click(SUBMIT)
    webhook_secret = admin.input_value("#secret-value")
    admin.click("main a.button")
    _submit_a_case(system)
    replay = admin.locator("form[action$='/replay'] button")
    deadline = time.monotonic() + 30
    while replay.count() == 0:  # the relay brings the event within seconds
        assert time.monotonic() < deadline, "no delivery in the log"
        admin.wait_for_timeout(500)
        admin.reload()
    assert webhook_secret not in admin.content()
    replay.first.click()
    expect(admin.locator(".notice")).to_contain_text("sent again")
    expect(admin.locator("form[action$='/replay']")).to_have_count(2)
    assert_accessible(admin, "a subscription's delivery log")


def test_organisations_and_the_audit_chains(admin: Page) -> None:
    admin.goto("/admin/organizations")
    assert_accessible(admin, "organisations")
    admin.goto("/admin/organizations/new")
    assert_accessible(admin, "new organisation")
    admin.goto("/admin/audit")
    expect(admin.locator("#audit-reports li")).to_have_count(5)
    expect(admin.locator("#audit-reports")).not_to_contain_text("Broken")
    admin.click("main form[action='/admin/audit'] button")
    expect(admin.locator("#audit-reports li")).to_have_count(5)
    assert_accessible(admin, "audit chains")
