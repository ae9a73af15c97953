"""The case screens in Chromium against the real processes of `telemed run`: a medic opens a
case and attaches a 20 MB file whose upload is cut off (the network taken offline through the
DevTools protocol) and goes on after a page reload; submits; the specialist's open queue shows
the case without a reload; the specialist takes it, concludes and signs; the medic reads the
signed conclusion. axe-core on every screen; no token in any URL."""

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, CDPSession, Page, expect

from tests.web.browser import (
    CHROMIUM,
    TOKEN_IN_URL,
    System,
    assert_accessible,
    running_console,
    sign_in,
)

ATTACHMENT_BYTES = 20 * 1024 * 1024
# The queue asks for changes this often here (15 s by default), so the test waits seconds.
REFRESH_SECONDS = "2"
MEDIC, SPECIALIST = "medic.tashtagol", "cardiologist.kuzbass"
UNTHROTTLED = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's Chromium is needed")


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    with running_console(
        tmp_path_factory.mktemp("cases"), TELEMED_WEB_QUEUE_REFRESH_SECONDS=REFRESH_SECONDS
    ) as running:
        yield running


@pytest.fixture
def attachment(tmp_path: Path) -> Path:
    """A 20 MB PDF (as the files service reads types: from the first bytes)."""
    path = tmp_path / "ECG 12-lead.pdf"
    path.write_bytes(b"%PDF-1.4\n%" + os.urandom(ATTACHMENT_BYTES - 10))
    return path


def signed_in(chromium: Browser, system: System, username: str, urls: list[str]) -> Page:
    context = chromium.new_context(locale="ru-RU", base_url=system.url)
    page = context.new_page()
    context.on("request", lambda request: urls.append(request.url))
    page.goto("/cases")
    sign_in(page, system, username)
    expect(page).to_have_url(system.url + "/cases")
    return page


def network(cdp: CDPSession, **conditions: Any) -> None:
    cdp.send("Network.emulateNetworkConditions", {**UNTHROTTLED, **conditions})


def open_case(medic: Page) -> str:
    """The new-case form filled in and saved as a draft; returns the case's id."""
    medic.click("nav >> text=Новый случай")
    expect(medic.locator("h1")).to_have_text("Новый случай")
    # The due time each urgency would get, from consult, in the organisation's zone.
    expect(medic.locator("#urgency-urgent-hint")).to_contain_text("(Новокузнецк)")
    assert_accessible(medic, "new case (ru)")
    medic.fill("#patient_reference", "MIS-42-000555")
    medic.fill("#patient_full_name", "Petrov Sergei Nikolaevich")
    medic.fill("#patient_birth_date", "1961-04-12")
    medic.check("#patient_sex-male")
    medic.fill("#patient_insurance_policy", "4250000000000555")
    medic.fill("#specialty", "cardiology")
    medic.check("#urgency-urgent")
    medic.fill("#question", "Is transfer for PCI indicated?")
    medic.fill("#present_illness", "Chest pain for 6 hours, ST depression V4-V6.")
    medic.fill("#diagnosis_code", "I21.4")
    medic.fill("#diagnosis_text", "Acute subendocardial MI")
    medic.click("button[name=action][value=draft]")
    expect(medic.locator(".notice")).to_contain_text("Черновик сохранён")
    found = re.search(r"/cases/([0-9a-f-]{36})\?saved=draft", medic.url)
    assert found, medic.url
    return found.group(1)


def upload_cut_and_resumed(medic: Page, attachment: Path) -> None:
    """Half-way offline, then a reload, then the same file chosen again: it goes on from where
    the server has it, not from the start."""
    cdp = medic.context.new_cdp_session(medic)
    cdp.send("Network.enable")
    network(cdp, uploadThroughput=3 * 1024 * 1024)  # bytes per second: some seconds for 20 MB
    medic.set_input_files("#file", str(attachment))
    row = medic.locator("#upload-progress li").first
    expect(row.locator("progress")).to_be_visible()
    assert_accessible(medic, "case page, uploading")
    medic.wait_for_function(
        "() => (document.querySelector('#upload-progress progress') || {}).value >= 20"
    )
    network(cdp, offline=True)
    medic.wait_for_timeout(500)  # the PATCH in flight fails
    network(cdp)
    medic.reload()
    pending = medic.locator("#upload-pending")
    expect(pending).to_contain_text("ECG 12-lead.pdf")  # said after the reload
    medic.set_input_files("#file", str(attachment))
    row = medic.locator("#upload-progress li").first
    expect(row).to_have_attribute("data-resumed-from", re.compile(r"^[1-9]\d{6,}$"))
    resumed_from = int(row.get_attribute("data-resumed-from") or 0)
    assert resumed_from >= 4 * 1024 * 1024, resumed_from  # at least a fifth was kept
    expect(row).to_have_class(re.compile(r"\bdone\b"), timeout=90_000)
    expect(medic.locator("#attachments")).to_contain_text("ECG 12-lead.pdf")
    expect(medic.locator("#attachments")).to_contain_text("20.0 МБ")


def test_a_case_goes_from_a_medic_to_a_specialist_and_back_signed(
    system: System, chromium: Browser, attachment: Path
) -> None:
    urls: list[str] = []
    specialist = signed_in(chromium, system, SPECIALIST, urls)
    medic = signed_in(chromium, system, MEDIC, urls)
    contexts: list[BrowserContext] = [specialist.context, medic.context]
    try:
        expect(specialist.locator("h1")).to_have_text("Очередь")
        assert_accessible(specialist, "queue (ru)")
        specialist.evaluate("() => { window.stillThisPage = true; }")
        expect(medic.locator("h1")).to_have_text("Случаи вашей организации")
        assert_accessible(medic, "the medic's cases (ru)")

        case_id = open_case(medic)
        assert_accessible(medic, "draft case page")
        upload_cut_and_resumed(medic, attachment)
        medic.click("form[action$='/submit'] button")
        expect(medic.locator(".notice")).to_contain_text("Случай отправлен")
        assert_accessible(medic, "submitted case page")

        # The specialist's queue, open all along, shows the case without a reload.
        row = specialist.locator(f"li.case-row:has(a[href='/cases/{case_id}'])")
        expect(row).to_be_visible(timeout=20_000)
        expect(row).to_contain_text("Новый")
        assert specialist.evaluate("() => window.stillThisPage") is True
        assert_accessible(specialist, "queue with the new case")

        row.locator("a").click()
        expect(specialist.locator("h1")).to_contain_text("Petrov Sergei Nikolaevich")
        assert_accessible(specialist, "the specialist's case page")
        specialist.click("a:text('ECG 12-lead.pdf')")
        expect(specialist.locator("h1")).to_have_text("ECG 12-lead.pdf")
        assert_accessible(specialist, "attachment page")
        specialist.go_back()
        specialist.click("text=Взять случай")
        expect(specialist.locator(".notice")).to_contain_text("Вы взяли случай")
        specialist.click("text=Начать работу над случаем")
        specialist.fill("#findings", "NSTEMI, high GRACE risk.")
        specialist.fill("#diagnosis_text", "Acute subendocardial myocardial infarction")
        specialist.fill("#diagnosis_codes", "I21.4")
        specialist.fill("#recommendations", "Transfer to the PCI centre within 24 hours.")
        specialist.check("#hospitalisation_needed")
        specialist.click("text=Подписать и выдать заключение")
        expect(specialist.locator("#confirm-error")).to_be_visible()  # signing is confirmed
        assert_accessible(specialist, "conclusion form with an error")
        specialist.check("#confirm")
        specialist.click("text=Подписать и выдать заключение")
        expect(specialist.locator(".notice")).to_contain_text("Заключение подписано и выдано")
        assert_accessible(specialist, "concluded case page")

        medic.goto(f"/cases/{case_id}")
        expect(medic.locator(".signature-valid")).to_contain_text("подпись проверена")
        expect(medic.locator(".conclusion")).to_contain_text("Нужна госпитализация")
        medic.goto("/cases")
        expect(medic.locator(f"li.case-row:has(a[href='/cases/{case_id}'])")).to_contain_text(
            "Заключение выдано"
        )
        medic.goto(f"/cases/{case_id}/conclusion")
        expect(medic.locator("h1")).to_have_text("Заключение по телемедицинской консультации")
        assert_accessible(medic, "printable conclusion")
        medic.emulate_media(media="print")
        expect(medic.locator("header.site-header")).to_be_hidden()
        medic.emulate_media(media="screen")

        # Phone width: nothing wider than the screen.
        medic.set_viewport_size({"width": 320, "height": 640})
        for path in (f"/cases/{case_id}", "/cases", "/cases/new"):
            medic.goto(path)
            assert medic.evaluate("document.documentElement.scrollWidth") <= 320, path
        assert_accessible(medic, "new case at 320 px")
    finally:
        for context in contexts:
            context.close()
    leaked = [url for url in urls if TOKEN_IN_URL.search(url)]
    assert not leaked, leaked
