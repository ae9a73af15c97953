"""The consilium screens in Chromium against the real processes of `telemed run`, with the
demo's people: the cardiologist convenes a consilium from the case page and invites the
neurologist by name; the neurologist finds the invitation, accepts it and signs an opinion; the
cardiologist signs the protocol and opens it to print. axe-core on every consilium screen."""

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from telemed.samples import sample_case
from tests.e2e.system import login
from tests.web.browser import (
    CHROMIUM,
    System,
    assert_accessible,
    running_console,
    sign_in,
)

MEDIC, CHAIR, MEMBER = "medic.tashtagol", "cardiologist.kuzbass", "neurologist.kuzbass"
CENTRE, MEMBER_NAME = "Kuzbass Regional Clinical Hospital", "Pavel Andreevich Belov"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's Chromium is needed")


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    with running_console(tmp_path_factory.mktemp("consilium")) as running:
        yield running


def case_in_progress(system: System) -> str:
    """The medic's case, taken and started by the cardiologist, through the API."""
    (centre,) = [org["id"] for org in system.accounts["organizations"] if org["name"] == CENTRE]
    with httpx.Client(base_url=system.url, timeout=30) as api:
        medic, chair = login(api, system.accounts, MEDIC), login(api, system.accounts, CHAIR)
        opened = api.post(
            "/api/consult/cases", json=sample_case(centre, submit=True), headers=medic
        )
        assert opened.status_code == 201, opened.text
        case_id: str = opened.json()["id"]
        for action in ("accept", "start"):
            done = api.post(f"/api/consult/cases/{case_id}/{action}", headers=chair)
            assert done.status_code == 200, done.text
    return case_id


def signed_in(chromium: Browser, system: System, username: str, path: str) -> Page:
    page = chromium.new_context(base_url=system.url).new_page()
    page.goto(path)
    sign_in(page, system, username)
    expect(page).to_have_url(system.url + path)
    return page


def submit(page: Page, action_ending: str, saved: str) -> None:
    page.click(f"form[action$='{action_ending}'] button[type=submit]")
    expect(page).to_have_url(re.compile(rf"/consilium\?saved={saved}$"))


def test_a_consilium_in_the_browser(chromium: Browser, system: System) -> None:
    case_id = case_in_progress(system)
    here = f"/cases/{case_id}/consilium"
    chair = signed_in(chromium, system, CHAIR, f"/cases/{case_id}")
    chair.click(f"a[href='{here}/new']")
    assert_accessible(chair, "convene a consilium")
    chair.fill("#agenda", "CABG or PCI for three-vessel disease with diabetes?")
    chair.get_by_label(re.compile(MEMBER_NAME)).check()
    submit(chair, "/consilium", "convened")
    assert_accessible(chair, "consilium page, the chair's")

    member = signed_in(chromium, system, MEMBER, "/consilia")
    assert_accessible(member, "consilium invitations")
    member.click(f"a[href='{here}']")
    submit(member, "/accept", "accept")
    member.fill("#assessment", "SYNTAX score 34; diabetes favours surgery.")
    member.fill("#opinion_codes", "I25.1")
    member.fill("#opinion_recommendations", "CABG after stabilisation.")
    member.check("#confirm")
    submit(member, "/opinion", "opinion")
    assert_accessible(member, "consilium page, a member's, with the opinion")

    chair.reload()
    chair.fill("#findings", "Three-vessel disease; the consilium favours surgery.")
    chair.fill("#diagnosis_text", "Chronic ischaemic heart disease")
    chair.fill("#diagnosis_codes", "I25.1")
    chair.fill("#recommendations", "CABG after stabilisation.")
    chair.check("#confirm")
    submit(chair, "/protocol", "protocol")
    expect(chair.locator(".signature-valid").first).to_be_visible()
    assert_accessible(chair, "consilium page with the protocol")
    chair.click(f"a[href='{here}/protocol']")
    expect(chair.locator("article.document")).to_contain_text("CABG after stabilisation.")
    assert_accessible(chair, "the protocol to print")
    chair.goto(f"/cases/{case_id}")
    expect(chair.locator(f"a[href='{here}']")).to_be_visible()
    assert_accessible(chair, "case page with its consilium")
