"""The monitoring and figures screens in Chromium against the real processes of `telemed run`:
the demo's coordinator enrols a pregnant patient, records a check-in over the threshold, and
finds the ambulance it raised on the escalations screen; then the figures with their charts.
axe-core on every screen."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.web.browser import (
    CHROMIUM,
    System,
    assert_accessible,
    running_console,
    sign_in,
)

COORDINATOR = "coordinator.kuzbass"
ENROL = "form[method=post][action='/monitoring/enrol'] button[type=submit]"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's Chromium is needed")


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    with running_console(tmp_path_factory.mktemp("monitoring")) as running:
        yield running


def test_a_check_in_over_the_threshold_raises_an_ambulance_seen_on_the_escalations_screen(
    chromium: Browser, system: System
) -> None:
    context = chromium.new_context(locale="en-GB", base_url=system.url)
    page = context.new_page()
    page.goto("/monitoring")
    sign_in(page, system, COORDINATOR)
    expect(page).to_have_url(system.url + "/monitoring")
    page.click("form.language button[value=en]")  # the demo's people read Russian
    expect(page.locator("h1")).to_have_text("Monitoring")
    assert_accessible(page, "monitoring")

    page.click("main a[href='/monitoring/enrol']")
    expect(page.locator("h1")).to_have_text("Enrol a patient in monitoring")
    page.click(ENROL)  # empty: each mistake said beside its field
    expect(page.locator("#patient_full_name-error")).to_be_visible()
    assert_accessible(page, "enrolment form with mistakes")
    page.fill("#patient_reference", "MIS-42-000777")
    page.fill("#patient_full_name", "Ivanova Anna Sergeevna")
    page.fill("#patient_birth_date", "1994-06-01")
    page.check("#patient_sex-female")
    page.fill("#patient_insurance_policy", "4250000000000777")
    page.fill("#contact_phone", "+7 913 555-01-23")
    page.select_option("#patient_timezone", "Asia/Novokuznetsk")
    page.select_option("#programme", "pregnancy_high_risk")
    page.fill("#indication", "Week 32, chronic hypertension.")
    page.click(ENROL)
    expect(page.locator("[role=status]")).to_contain_text("The patient is enrolled.")
    expect(page.locator("#systolic_bp-hint")).to_contain_text("≥ 160 (Ambulance)")
    assert_accessible(page, "monitored patient")

    page.fill("#systolic_bp", "172")
    page.fill("#diastolic_bp", "104")
    page.check("#symptom-severe_headache")
    page.check("#wellbeing-worse")
    page.click("text=Record the check-in")
    expect(page.locator(".notice[role=status]")).to_contain_text(
        "Over the threshold: Ambulance arranged."
    )
    expect(page.locator("tr.late").first).to_contain_text("Out of range")
    assert_accessible(page, "check-in over the threshold")

    page.click("text=See the escalations")
    expect(page.locator("h1")).to_have_text("Escalations")
    row = page.locator("li.case-row", has_text="Ivanova Anna Sergeevna")
    expect(row).to_contain_text("Ambulance · To arrange")
    assert_accessible(page, "escalations")

    page.click("nav >> text=Figures")
    expect(page.locator("h1")).to_have_text("Figures")
    expect(page.locator("svg.chart")).to_have_count(4)  # the resolutions by action too
    expect(page.locator("#table-consultations")).to_be_visible()
    assert_accessible(page, "figures")
    context.close()
