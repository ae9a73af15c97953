"""The home-visit screens in process: an operator calls a nurse to a disabled woman's home (the
polyclinic and the window shown before saving, mistakes beside their fields, the confirmation
with the window to read out, a form sent twice filing one call), the polyclinic's coordinator
sends the nurse from the day's list, she marks it done there, the figures count it; a call
cancelled with its reason on the visit's page and said on the list; another region's operator
sees nothing."""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import Actor, Stack
from tests.consult.home_visits.conftest import KUZBASS, NOW, TASHTAGOL
from tests.scheduling.conftest import Clock
from tests.web.conftest import Console, csrf_of
from tests.web.test_appeal_pages import text_of

CONSULT = "/api/consult"
HX = {"HX-Request": "true"}
CALL = {
    "caller_name": "Kovaleva Irina Pavlovna",
    "phone": "+7 913 555-01-23",
    "patient_name": "Kovaleva Antonina Semyonovna",
    "territory": TASHTAGOL,
    "settlement": "Tashtagol",
    "street": "",
    "address": "Lenina 12, flat 4, 3rd floor, no lift",
    "reason": "Blood draw at home: a disabled woman, bedridden after a stroke.",
    "urgency": "planned",
    "patient_id": "",
}
VISIT_LINK = re.compile(r'id="filed">.*?href="/home-visits/([0-9a-f-]{36})"', re.S)


@dataclass
class Polyclinics:
    """Tashtagol's district hospital serving the Tashtagol district on region 42's catchment,
    its coordinator and nurse, an insurer's hotline operator, and another region's operator;
    the clock stands at Monday 20 October 2025, 10:00 in Tashtagol."""

    stack: Stack
    console: Console
    clock: Clock
    tashtagol: dict[str, Any]
    operator: Actor
    coordinator: Actor
    nurse: Actor
    far_operator: Actor

    @asynccontextmanager
    async def browser(
        self, actor: Actor | None = None, language: str = "en"
    ) -> AsyncIterator[httpx.AsyncClient]:
        async with self.console.browser(language) as browser:
            signed = await self.console.sign_in(browser, (actor or self.operator).username)
            assert signed.status_code == 303, signed.text
            page = await self.console.page(browser, "/profile")
            await self.console.post(browser, page, "/language", language=language)
            yield browser

    async def form(self, browser: httpx.AsyncClient, **fields: str) -> dict[str, str]:
        page = await self.console.page(browser, "/home-visits/new")
        key = re.search(r'name="form_key" value="([^"]+)"', page.text)
        assert key, page.text
        return {"csrf_token": csrf_of(page), "form_key": key.group(1), **CALL, **fields}

    async def visits(self, actor: Actor, **params: Any) -> list[dict[str, Any]]:
        response = await self.stack.client.get(
            f"{CONSULT}/home-visits",
            params={"organization_id": self.tashtagol["id"], **params},
            headers=actor.headers,
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items


@pytest.fixture
async def polyclinics(stack: Stack, console: Console) -> Polyclinics:
    clock = Clock(NOW)
    stack.apps["consult"].state.clock = clock
    tashtagol = await stack.organization(kind="district_hospital", timezone=KUZBASS)
    insurer = await stack.organization(kind="insurer", timezone=KUZBASS)
    far = await stack.organization(kind="polyclinic", region="27", timezone="Asia/Vladivostok")
    operator = await stack.actor("coordinator", insurer)
    for path, body in (
        (f"/appeal-territories/42/{TASHTAGOL}", {"name": "Tashtagol district"}),
        ("/home-visit-catchment", {"region": "42", "territory": TASHTAGOL}),
    ):
        method = stack.client.put if path.startswith("/appeal") else stack.client.post
        response = await method(
            f"{CONSULT}{path}",
            json=body | {"organization_id": tashtagol["id"]},
            headers=operator.headers,
        )
        assert response.status_code in (200, 201), response.text
    return Polyclinics(
        stack,
        console,
        clock,
        tashtagol,
        operator,
        await stack.actor("coordinator", tashtagol),
        await stack.actor("district_medic", tashtagol),
        await stack.actor("coordinator", far),
    )


async def test_an_operator_sees_the_polyclinic_and_window_before_saving_and_reads_it_out(
    polyclinics: Polyclinics,
) -> None:
    async with polyclinics.browser() as browser:
        page = await polyclinics.console.page(browser, "/home-visits/new")
        assert f"Tashtagol district ({TASHTAGOL})" in page.text
        assert re.search(r'id="caller_name"[^>]*autofocus', page.text)
        preview = await browser.get(
            "/home-visits/new/preview",
            params={"territory": TASHTAGOL, "settlement": "Tashtagol"},
            headers=HX,
        )
        assert preview.status_code == 200, preview.text
        assert "<html" not in preview.text  # the fragment alone
        said = text_of(preview.text)
        assert f"{polyclinics.tashtagol['name']} serves this address." in said
        assert "Booked now, the visit is on 20 October (Monday), 12:00–18:00" in said
        unknown = await browser.get(
            "/home-visits/new/preview", params={"territory": "32701000"}, headers=HX
        )
        assert "No polyclinic serves this address" in text_of(unknown.text)

        # After the cut-off (12:00 local) the call is the next working day's.
        polyclinics.clock.advance(hours=3)
        form = await polyclinics.form(browser)
        filed = await browser.post("/home-visits/new", data=form)
        again = await browser.post("/home-visits/new", data=form)  # a double Ctrl+Enter
    assert filed.status_code == again.status_code == 200, filed.text
    found, repeated = VISIT_LINK.search(filed.text), VISIT_LINK.search(again.text)
    assert found
    assert repeated
    assert found.group(1) == repeated.group(1)
    said = text_of(filed.text)
    assert f"Home visit {found.group(1)[:8]} is booked." in said
    window = "on 21 October (Tuesday) between 12:00 and 18:00."
    assert f"Read this out: A doctor or nurse will come {window}" in said
    assert 'value="Kovaleva' not in filed.text  # an empty form for the next caller
    (visit,) = await polyclinics.visits(polyclinics.operator, day="2025-10-21")
    assert (visit["id"], visit["status"]) == (found.group(1), "requested")
    assert visit["patient_name"] == CALL["patient_name"]


async def test_mistakes_are_said_beside_their_fields_and_what_was_typed_stays(
    polyclinics: Polyclinics,
) -> None:
    async with polyclinics.browser() as browser:
        form = await polyclinics.form(browser, caller_name="", phone="call me", territory="")
        refused = await browser.post("/home-visits/new", data=form)
    assert refused.status_code == 422, refused.text
    for field in ("caller_name", "phone", "territory"):
        assert f'id="{field}-error"' in refused.text, field
    assert 'value="Lenina 12, flat 4, 3rd floor, no lift"' in refused.text
    assert not await polyclinics.visits(polyclinics.operator)


async def test_the_coordinator_sends_the_nurse_from_the_day_list_and_she_marks_it_done(
    polyclinics: Polyclinics,
) -> None:
    async with polyclinics.browser() as browser:
        filed = await browser.post("/home-visits/new", data=await polyclinics.form(browser))
        found = VISIT_LINK.search(filed.text)
        assert found, filed.text
    visit_id = found.group(1)
    nurse, organization = polyclinics.nurse, polyclinics.tashtagol["id"]

    async with polyclinics.browser(polyclinics.coordinator) as browser:
        day = await polyclinics.console.page(browser, "/home-visits")
        said = text_of(day.text)
        assert f"{polyclinics.tashtagol['name']}, 20 October (Monday)" in said
        assert "Kovaleva Antonina Semyonovna · Planned · Requested: nobody sent yet" in said
        assert f'<option value="{nurse.id}"' in day.text  # the polyclinic's own nurse
        back = f"/home-visits?organization_id={organization}&day=2025-10-20"
        sent = await polyclinics.console.post(
            browser, day, f"/home-visits/{visit_id}/assign", assignee_id=str(nurse.id), back=back
        )
        assert sent.status_code == 303, sent.text
        assert sent.headers["location"] == back
        day = await polyclinics.console.page(browser, back)
        assert "Goes: Test district_medic" in text_of(day.text)
        assert f'action="/home-visits/{visit_id}/done"' in day.text

    polyclinics.clock.advance(hours=4)  # 14:00, the same local day
    async with polyclinics.browser(nurse) as browser:
        day = await polyclinics.console.page(browser, "/home-visits")
        empty = await polyclinics.console.post(
            browser, day, f"/home-visits/{visit_id}/done", note="", back="/home-visits"
        )
        assert empty.status_code == 422, empty.text  # said on the visit's page
        assert 'id="note-error"' in empty.text
        done = await polyclinics.console.post(
            browser, day, f"/home-visits/{visit_id}/done",
            note="Blood drawn at 13:10; samples in the laboratory by 14:00.", back="/home-visits",
        )  # fmt: skip
        assert done.status_code == 303, done.text
        page = text_of((await polyclinics.console.page(browser, f"/home-visits/{visit_id}")).text)
        assert "Status Done" in page
        assert "samples in the laboratory by 14:00" in page
        figures = await polyclinics.console.page(
            browser, f"/home-visits/figures?organization_id={organization}"
        )
        # A day no one computes with in the address is today's (year 1 once was a 500).
        far = await polyclinics.console.page(
            browser, f"/home-visits/figures?organization_id={organization}&to=0001-01-05"
        )
    row = re.search(r"<tr>\s*<th scope=\"row\">2025-10-20</th>(.*?)</tr>", figures.text, re.S)
    assert row, figures.text
    # Calls, done, done the same day, cancelled, median hours to done (4 h).
    assert re.findall(r"<td>([^<]*)</td>", row.group(1)) == ["1", "1", "1", "0", "4.0"]
    assert far.status_code == 200
    assert '<th scope="row">2025-10-20</th>' in far.text


async def test_a_visit_is_cancelled_with_its_reason_in_russian(polyclinics: Polyclinics) -> None:
    async with polyclinics.browser() as browser:
        filed = await browser.post("/home-visits/new", data=await polyclinics.form(browser))
        found = VISIT_LINK.search(filed.text)
        assert found, filed.text
    path = f"/home-visits/{found.group(1)}"
    async with polyclinics.browser(polyclinics.operator, "ru") as browser:
        page = await polyclinics.console.page(browser, path)
        said = text_of(page.text)
        assert "20 октября (понедельник), 12:00–18:00" in said
        no_reason = await polyclinics.console.post(browser, page, f"{path}/cancel", reason="")
        assert no_reason.status_code == 422, no_reason.text
        assert 'id="reason-error"' in no_reason.text
        cancelled = await polyclinics.console.post(
            browser, page, f"{path}/cancel", reason="ambulance_called", note="Worse at 11:20."
        )
        assert cancelled.status_code == 303, cancelled.text
        shown = text_of((await polyclinics.console.page(browser, path)).text)
        day = f"/home-visits?organization_id={polyclinics.tashtagol['id']}"
        listed = text_of((await polyclinics.console.page(browser, day)).text)
    assert f"Поликлиника {polyclinics.tashtagol['name']}" in shown
    assert "Ухудшение: вызвана скорая — Worse at 11:20." in shown
    assert "Отменён" in listed
    assert "Ухудшение: вызвана скорая — Worse at 11:20." in listed
    (visit,) = await polyclinics.visits(polyclinics.operator)
    assert (visit["status"], visit["cancel_reason"]) == ("cancelled", "ambulance_called")


async def test_another_regions_operator_sees_no_visit_and_a_forged_form_is_refused(
    polyclinics: Polyclinics,
) -> None:
    async with polyclinics.browser() as browser:
        filed = await browser.post("/home-visits/new", data=await polyclinics.form(browser))
        found = VISIT_LINK.search(filed.text)
        assert found, filed.text
        forged = await browser.post(
            f"/home-visits/{found.group(1)}/cancel", data={"reason": "duplicate"}
        )
        assert forged.status_code == 403, forged.text
    organization = polyclinics.tashtagol["id"]
    async with polyclinics.browser(polyclinics.far_operator) as browser:
        hidden = await browser.get(f"/home-visits/{found.group(1)}")
        assert hidden.status_code == 404, hidden.text
        day = await polyclinics.console.page(
            browser, f"/home-visits?organization_id={organization}"
        )
        assert "No home-visit list of this organisation is yours to see" in text_of(day.text)
        assert "Kovaleva" not in day.text
    (visit,) = await polyclinics.visits(polyclinics.operator)
    assert visit["status"] == "requested"
