"""The hotline operator's screens in process: an appeal filed on a live call (the organisation
and deadline shown before saving, an excluded topic's answer to read out, a dropped call filed
with its callback, mistakes beside their fields), the queue by deadline with its filters, an
appeal reassigned and resolved with what was done (a formulaic answer explained on the page,
the resolution counted in the figures), the callbacks worked to failed; a forged form and
another region's appeal refused."""

import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import Actor, Stack
from tests.consult.appeals.conftest import KEMEROVO, NOVOKUZNETSK, NOW
from tests.scheduling.conftest import Clock
from tests.web.conftest import Console, csrf_of

CONSULT = "/api/consult"
HX = {"HX-Request": "true"}


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def filed_id(response: httpx.Response) -> str:
    """The appeal the filing confirms: the answer is the confirmation above the next empty
    form itself, no redirect."""
    assert response.status_code == 200, response.text
    found = re.search(r'id="filed">.*?href="/appeals/([0-9a-f-]{36})"', response.text, re.S)
    assert found, response.text
    return found.group(1)


@dataclass
class Desk:
    """A hotline: a contact centre's operator, the Novokuznetsk polyclinic and the Kemerovo
    hospital on the region's territory map, and an operator of another region."""

    stack: Stack
    console: Console
    polyclinic: dict[str, Any]
    hospital: dict[str, Any]
    operator: Actor
    far_operator: Actor

    @asynccontextmanager
    async def browser(self, actor: Actor | None = None) -> AsyncIterator[httpx.AsyncClient]:
        async with self.console.browser("en") as browser:
            signed = await self.console.sign_in(browser, (actor or self.operator).username)
            assert signed.status_code == 303, signed.text
            page = await self.console.page(browser, "/profile")
            await self.console.post(browser, page, "/language", language="en")
            yield browser

    async def form(self, browser: httpx.AsyncClient, **fields: str) -> dict[str, str]:
        """The live-call form as the page gives it (its CSRF token, key and time), filled in."""
        page = await self.console.page(browser, "/appeals/new")
        given = dict(re.findall(r'name="(form_key|opened_at)" value="([^"]+)"', page.text))
        assert given.keys() == {"form_key", "opened_at"}, page.text
        values = {
            "contact_name": "Sidorova Maria Petrovna",
            "contact_phone": "+7 913 123-45-67",
            "channel": "phone",
            "territory": NOVOKUZNETSK,
            "topic": "paid_service_imposition",
            "text": "The polyclinic asks 3,500 roubles for a repeat histology.",
            "action": "file",
        }
        return {"csrf_token": csrf_of(page), **given, **values, **fields}

    async def file(self, browser: httpx.AsyncClient, **fields: str) -> httpx.Response:
        return await browser.post("/appeals/new", data=await self.form(browser, **fields))

    async def api(self, path: str, **params: Any) -> Any:
        response = await self.stack.client.get(
            f"{CONSULT}{path}", params=params, headers=self.operator.headers
        )
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
async def desk(stack: Stack, console: Console) -> Desk:
    centre = await stack.organization(kind="insurer")
    polyclinic = await stack.organization(kind="polyclinic")
    hospital = await stack.organization(kind="district_hospital")
    far = await stack.organization(kind="polyclinic", region="27", timezone="Asia/Vladivostok")
    operator = await stack.actor("coordinator", centre)
    for code, organization, name in (
        (NOVOKUZNETSK, polyclinic, "Novokuznetsk"),
        (KEMEROVO, hospital, "Kemerovo"),
    ):
        response = await stack.client.put(
            f"{CONSULT}/appeal-territories/42/{code}",
            json={"name": name, "organization_id": organization["id"]},
            headers=operator.headers,
        )
        assert response.status_code == 200, response.text
    far_operator = await stack.actor("coordinator", far)
    return Desk(stack, console, polyclinic, hospital, operator, far_operator)


async def test_an_appeal_is_filed_and_the_form_is_empty_for_the_next_caller(desk: Desk) -> None:
    async with desk.browser() as browser:
        form = await desk.console.page(browser, "/appeals/new")
        assert "Novokuznetsk (32731000)" in form.text
        assert 'id="contact_name" name="contact_name" type="text" value=""' in form.text
        after = await desk.file(browser)
        appeal_id = filed_id(after)
    shown = text_of(after.text)
    assert f"Appeal {appeal_id[:8]} is filed." in shown
    assert f"{desk.polyclinic['name']} answers it, due" in shown
    assert 'value="Sidorova' not in after.text  # an empty form: the next caller
    assert re.search(r'id="contact_name"[^>]*autofocus', after.text)
    appeal = await desk.api(f"/appeals/{appeal_id}")
    assert (appeal["status"], appeal["organization_id"]) == ("routed", desk.polyclinic["id"])
    assert appeal["contact"]["phone"] == "+7 913 123-45-67"


async def test_the_organisation_and_deadline_show_before_saving(desk: Desk) -> None:
    async with desk.browser() as browser:
        preview = await browser.get(
            "/appeals/new/preview",
            params={"territory": KEMEROVO, "channel": "phone", "topic": "hospital_bed"},
            headers=HX,
        )
        excluded = await browser.get(
            "/appeals/new/preview",
            params={"territory": KEMEROVO, "topic": "excluded:emergency_care"},
            headers=HX,
        )
        unknown = await browser.get(
            "/appeals/new/preview", params={"territory": "32719000"}, headers=HX
        )
    shown = text_of(preview.text)
    assert f"{desk.hospital['name']} answers callers of Kemerovo." in shown
    assert "Open Mon\N{EN DASH}Sat 08:00\N{EN DASH}20:00 (Novokuznetsk)." in shown
    assert "Filed now, it is due" in shown
    assert "Read this out" not in shown
    assert "<html" not in preview.text  # a fragment
    read_out = re.search(
        r'<div id="topic-answer" hx-swap-oob="innerHTML">(.*?)</div>', excluded.text
    )
    assert read_out
    assert "call 103 (ambulance) or 112 now" in read_out.group(1)
    assert "Filed now" not in excluded.text  # answered at once: no deadline
    assert "not on the map" in unknown.text


async def test_an_excluded_topic_is_answered_at_once(desk: Desk) -> None:
    async with desk.browser() as browser:
        after = await desk.file(browser, topic="excluded:diagnosis_or_treatment", channel="chat")
        appeal_id = filed_id(after)
    assert "It is answered at once with where to go: A diagnosis, treatment" in text_of(after.text)
    appeal = await desk.api(f"/appeals/{appeal_id}")
    assert (appeal["status"], appeal["category"]) == ("redirected", "other")
    assert appeal["redirect_topic"] == "diagnosis_or_treatment"


async def test_mistakes_are_said_beside_their_fields_and_what_was_typed_stays(desk: Desk) -> None:
    async with desk.browser() as browser:
        refused = await desk.file(browser, contact_phone="", topic="", text="", territory="")
        no_phone = await desk.file(browser, contact_phone="")
    assert refused.status_code == 422
    assert 'value="Sidorova Maria Petrovna"' in refused.text
    for name in ("topic", "text", "territory"):
        assert f'id="{name}-error"' in refused.text, name
    assert no_phone.status_code == 422
    assert "A phone appeal needs the number to call the caller back on." in no_phone.text
    assert 'id="contact_phone-error"' in no_phone.text
    assert (await desk.api("/appeals", status="routed"))["items"] == []


async def test_a_dropped_call_is_filed_with_a_callback_due_now(desk: Desk) -> None:
    async with desk.browser() as browser:
        after = await desk.file(browser, action="dropped")
        appeal_id = filed_id(after)
        assert "A callback to +7 913 123-45-67 is due now and kept for you" in text_of(after.text)
        due = await desk.console.page(browser, "/callbacks")
    assert f"/appeals/{appeal_id}" in due.text
    (callback,) = await desk.api(f"/appeals/{appeal_id}/callbacks")
    assert (callback["reason"], callback["assignee_id"]) == ("dropped_call", str(desk.operator.id))


async def test_a_reload_of_the_answer_files_nothing_twice(desk: Desk) -> None:
    """The filing is answered with the page itself (no redirect), so a reload sends the form
    again: the same key, so the same appeal and callback are confirmed, nothing new filed."""
    async with desk.browser() as browser:
        form = await desk.form(browser, action="dropped")
        first = await browser.post("/appeals/new", data=form)
        reloaded = await browser.post("/appeals/new", data=form)
        ordinary = await desk.form(browser, contact_name="Petrov Ivan")
        once = filed_id(await browser.post("/appeals/new", data=ordinary))
        again = await browser.post("/appeals/new", data=ordinary)
    appeal_id = filed_id(first)
    assert filed_id(reloaded) == appeal_id
    assert "A callback to +7 913 123-45-67 is due now" in text_of(reloaded.text)
    assert "No callback is scheduled" not in reloaded.text
    assert form["form_key"] not in reloaded.text  # the next caller's form has a key of its own
    assert filed_id(again) == once
    appeals = (await desk.api("/appeals", status="routed"))["items"]
    assert sorted(appeal["id"] for appeal in appeals) == sorted([appeal_id, once])
    assert len(await desk.api(f"/appeals/{appeal_id}/callbacks")) == 1


async def test_the_callbacks_are_worked_to_failed_after_the_last_attempt(desk: Desk) -> None:
    async with desk.browser() as browser:
        appeal_id = filed_id(await desk.file(browser, action="dropped"))
        (callback,) = await desk.api(f"/appeals/{appeal_id}/callbacks")
        path = f"/callbacks/{callback['id']}/attempts"
        page = await desk.console.page(browser, "/callbacks")
        assert "Due " in page.text
        assert "3 attempts allowed" in page.text
        # Without JavaScript: the page again, the call recorded above the list.
        plain = await desk.console.post(browser, page, path, outcome="no_answer", form_key="a1")
        assert plain.status_code == 200
        assert "The call you recorded" in plain.text
        assert "next attempt" in plain.text
        assert "(attempt 2 of 3)" in plain.text
        # With htmx: the row alone, redrawn.
        busy = await browser.post(
            path,
            data={"csrf_token": csrf_of(page), "outcome": "busy", "form_key": "a2"},
            headers=HX,
        )
        assert "<html" not in busy.text
        assert "Busy" in busy.text
        assert "(attempt 3 of 3)" in busy.text
        again = await browser.post(
            path,
            data={"csrf_token": csrf_of(page), "outcome": "busy", "form_key": "a2"},
            headers=HX,
        )
        assert "(attempt 3 of 3)" in again.text  # the same click retried: one attempt
        failed = await browser.post(
            path,
            data={"csrf_token": csrf_of(page), "outcome": "no_answer", "form_key": "a3"},
            headers=HX,
        )
        assert "Failed: every attempt unanswered" in text_of(failed.text)
        assert 'name="outcome"' not in failed.text
        late = await browser.post(
            path,
            data={"csrf_token": csrf_of(page), "outcome": "reached", "form_key": "a4"},
            headers=HX,
        )
        assert "This call was not recorded: The callback is failed." in text_of(late.text)
    (stored,) = await desk.api(f"/appeals/{appeal_id}/callbacks")
    assert (stored["status"], stored["attempts"]) == ("failed", 3)


async def test_the_queue_puts_the_overdue_first_and_filters(desk: Desk) -> None:
    clock = Clock(NOW)  # Monday 10:00 in Novokuznetsk
    desk.stack.apps["consult"].state.clock = clock
    async with desk.browser() as browser:
        complaint = filed_id(await desk.file(browser, topic="complaint"))
        question = filed_id(await desk.file(browser, topic="question"))
        bed = filed_id(await desk.file(browser, topic="hospital_bed", territory=KEMEROVO))
        clock.advance(hours=3)  # the bed (2 working hours) is overdue, the question not
        queue = await desk.console.page(browser, "/appeals")
        order = re.findall(r'href="/appeals/([0-9a-f-]{36})"', queue.text)
        assert order == [bed, question, complaint]
        overdue = re.search(r'<li class="case-row overdue">.*?</li>', queue.text, re.S)
        assert overdue
        assert bed in overdue.group(0)
        assert "overdue by" in overdue.group(0)
        hospital = await desk.console.page(browser, f"/appeals?organization={desk.hospital['id']}")
        assert re.findall(r'href="/appeals/([0-9a-f-]{36})"', hospital.text) == [bed]
        resolved = await desk.console.page(browser, "/appeals?status=resolved")
        assert "No appeals match." in resolved.text
        digest = re.search(r"since=([0-9a-f]+)", queue.text)
        assert digest
        unchanged = await browser.get(
            f"/appeals?status=open&organization=&since={digest.group(1)}", headers=HX
        )
        assert unchanged.status_code == 204


async def test_reassign_with_a_reason_kept_in_the_history(desk: Desk) -> None:
    async with desk.browser() as browser:
        appeal_id = filed_id(await desk.file(browser))
        path = f"/appeals/{appeal_id}"
        page = await desk.console.page(browser, path)
        assert desk.hospital["name"] in page.text  # a target of the region
        assert f"Novokuznetsk ({NOVOKUZNETSK})" in page.text  # the territory by its name
        no_reason = await desk.console.post(
            browser, page, f"{path}/reassign", organization_id=desk.hospital["id"], reason=""
        )
        assert no_reason.status_code == 422
        assert "Say why the appeal goes to this organisation." in no_reason.text
        moved = await desk.console.post(
            browser, page, f"{path}/reassign", organization_id=desk.hospital["id"],
            reason="The caller lives in Kemerovo.",
        )  # fmt: skip
        assert moved.headers["location"] == f"{path}?saved=reassign"
        after = text_of((await desk.console.page(browser, f"{path}?saved=reassign")).text)
    assert "The appeal is passed to the other organisation." in after
    assert f"From {desk.polyclinic['name']} to {desk.hospital['name']}." in after
    assert "The caller lives in Kemerovo." in after


async def test_a_resolution_says_what_was_done_and_a_formulaic_answer_is_explained(
    desk: Desk,
) -> None:
    answer = (
        "We called the head of the polyclinic: the histology is free under the OMS policy; "
        "you are booked for it on Thursday at 10:00, room 214."
    )
    form = {
        "actions": ["called_head", "arranged_free_care"],
        "done_by_organization_id": desk.polyclinic["id"],
        "done_by_name": "Petrova Anna Sergeevna",
        "done_by_position": "Head of the polyclinic",
        "result": "resolved",
        "answer": answer,
        "first_contact_resolution": "yes",
    }
    async with desk.browser() as browser:
        appeal_id = filed_id(await desk.file(browser))
        path = f"/appeals/{appeal_id}"
        page = await desk.console.page(browser, path)
        # The actions for a payment asked for free care, not those for a hospital bed.
        assert 'id="actions-refunded_payment"' in page.text
        assert 'id="actions-arranged_hospital_bed"' not in page.text
        dry = await desk.console.post(
            browser, page, f"{path}/resolve",
            **form | {"answer": "Your appeal has been processed and resolved."},
        )  # fmt: skip
        assert dry.status_code == 422
        shown = text_of(dry.text)
        assert "This answer only says that the appeal was processed or looked into." in shown
        assert "A good answer names who was called, what they agreed" in shown
        assert "Your appeal has been processed and resolved." in shown  # kept as typed
        assert 'value="arranged_free_care" checked' in dry.text  # and the actions ticked
        refused = await desk.console.post(
            browser, page, f"{path}/resolve", **form | {"result": "refused"}
        )
        assert refused.status_code == 422
        assert re.search(r'id="result_reason-error">\s*<li>Enter this.', refused.text)
        done = await desk.console.post(browser, page, f"{path}/resolve", **form)
        assert done.headers["location"] == f"{path}?saved=resolve"
        after = text_of((await desk.console.page(browser, f"{path}?saved=resolve")).text)
        figures = await desk.console.page(browser, "/figures")
    assert "The appeal is resolved." in after
    assert answer in after
    assert "Resolved at the first contact." in after
    assert "Called the organisation's head Arranged the care free under OMS" in after
    assert f"Petrova Anna Sergeevna, Head of the polyclinic ({desk.polyclinic['name']})" in after
    assert "Result Resolved" in after
    # The figures count it, for the polyclinic responsible.
    done_table = re.search(r'<table id="table-resolutions">.*?</table>', figures.text, re.S)
    assert done_table
    headers = re.findall(r'<th scope="col">(.*?)</th>', done_table.group(0))
    column = headers.index(html.escape(desk.polyclinic["name"]))
    head = re.search(r"Called the organisation&#39;s head</th>(.*?)</tr>", done_table.group(0))
    assert head
    assert re.findall(r"<td>(\d+)</td>", head.group(1))[column - 1] == "1"


async def test_a_forged_form_and_another_regions_appeal_are_refused(desk: Desk) -> None:
    async with desk.browser() as browser:
        appeal_id = filed_id(await desk.file(browser))
        forged = await browser.post(
            "/appeals/new", data={"csrf_token": "forged", "contact_name": "X", "action": "file"}
        )
        assert forged.status_code == 403
    assert len((await desk.api("/appeals"))["items"]) == 1
    async with desk.browser(desk.far_operator) as far:
        page = await far.get(f"/appeals/{appeal_id}")
        assert page.status_code == 404
        assert "Page not found" in page.text
        form = await desk.console.page(far, "/appeals/new")
        step = await desk.console.post(far, form, f"/appeals/{appeal_id}/take")
        assert step.status_code == 404
