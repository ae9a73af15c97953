"""A PBX's calls on the hotline screens, in process: the new-appeal form offers the hotline's
calls with no appeal yet and files the appeal on the one chosen; the appeal's page lists its
calls (time, duration, outcome, operator) and plays or downloads the recording through the
console; a dropped call nobody filed shows on the callbacks screen as the PBX's, and once the
caller is reached the form opens on that call. Another region's operator hears nothing."""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import Actor, Stack
from tests.consult.appeals.conftest import NOVOKUZNETSK, NOW
from tests.consult.appeals.test_calls import RECORDING, TELEPHONY
from tests.consult.conftest import _api_client
from tests.scheduling.conftest import Clock
from tests.web.conftest import Console, csrf_of
from tests.web.test_appeal_pages import filed_id, text_of

CONSULT = "/api/consult"
CALLER = "+7 913 555-02-17"


@dataclass
class Line:
    """A contact centre's hotline with its PBX, the Novokuznetsk polyclinic on the map, and an
    operator of another region."""

    stack: Stack
    console: Console
    clock: Clock  # consult's
    operator: Actor
    far_operator: Actor
    pbx: Actor

    @asynccontextmanager
    async def browser(self, actor: Actor | None = None) -> AsyncIterator[httpx.AsyncClient]:
        async with self.console.browser("en") as browser:
            signed = await self.console.sign_in(browser, (actor or self.operator).username)
            assert signed.status_code == 303, signed.text
            page = await self.console.page(browser, "/profile")
            await self.console.post(browser, page, "/language", language="en")
            yield browser

    async def report(self, call_id: str, event: str, **fields: Any) -> dict[str, Any]:
        """The event, at consult's time."""
        body = {"call_id": call_id, "event": event, "at": self.clock.now.isoformat(),
                "line": "8800", "caller": CALLER} | fields  # fmt: skip
        response = await self.stack.client.post(
            f"{CONSULT}/calls/events", json=body, headers=self.pbx.headers
        )
        assert response.status_code == 200, response.text
        call: dict[str, Any] = response.json()
        return call

    async def recorded(self, call_id: str) -> dict[str, Any]:
        """The PBX's client uploads the call's audio and says it is there."""
        uploaded = await self.stack.client.post(
            "/api/files/files",
            params={"kind": "recording", "name": f"{call_id}.wav"},
            content=RECORDING,
            headers=self.pbx.headers | {"Content-Type": "application/octet-stream"},
        )
        assert uploaded.status_code == 201, uploaded.text
        file_id = uploaded.json()["id"]
        return await self.report(call_id, "recording_available", recording_file_id=file_id)


@pytest.fixture
async def line(stack: Stack, console: Console) -> Line:
    centre = await stack.organization(kind="insurer")
    polyclinic = await stack.organization(kind="polyclinic")
    far = await stack.organization(kind="polyclinic", region="27", timezone="Asia/Vladivostok")
    operator = await stack.actor("coordinator", centre)
    response = await stack.client.put(
        f"{CONSULT}/appeal-territories/42/{NOVOKUZNETSK}",
        json={"name": "Novokuznetsk", "organization_id": polyclinic["id"]},
        headers=operator.headers,
    )
    assert response.status_code == 200, response.text
    far_operator = await stack.actor("coordinator", far)
    pbx = await _api_client(stack, centre, TELEPHONY)
    clock = Clock(NOW)
    stack.apps["consult"].state.clock = clock
    return Line(stack, console, clock, operator, far_operator, pbx)


async def test_an_appeal_filed_on_a_call_lists_it_with_its_recording(line: Line) -> None:
    await line.report("live", "started")
    line.clock.advance(seconds=30)
    call = await line.report("live", "answered", extension="204")
    async with line.browser() as browser:
        form = await line.console.page(browser, "/appeals/new")
        offered = re.search(r'<select id="call_id" name="call_id".*?</select>', form.text, re.S)
        assert offered, form.text
        assert f'value="{call["id"]}"' in offered.group(0)
        assert f"{CALLER}, In conversation, extension 204" in text_of(offered.group(0))
        fields = dict(re.findall(r'name="(form_key|opened_at)" value="([^"]+)"', form.text))
        filing = {
            "csrf_token": csrf_of(form),
            **fields,
            "call_id": call["id"],
            "contact_name": "Belov Aleksei Ivanovich",
            "contact_phone": CALLER,
            "channel": "phone",
            "territory": NOVOKUZNETSK,
            "topic": "appointment_help",
            "text": "No cardiologist appointment for five weeks.",
            "action": "file",
        }
        appeal_id = filed_id(await browser.post("/appeals/new", data=filing))
        line.clock.advance(minutes=4)
        await line.report("live", "ended")
        stored = await line.recorded("live")
        page = await line.console.page(browser, f"/appeals/{appeal_id}")
        source = f"/appeals/{appeal_id}/recordings/{stored['recording']['file_id']}"
        played = await browser.get(source)
        downloaded = await browser.get(source, params={"download": "true"})
        assert 'name="call_id"' not in (await browser.get("/appeals/new")).text  # none left
    calls = re.search(r'<section aria-labelledby="calls-heading">.*?</section>', page.text, re.S)
    assert calls, page.text
    shown = text_of(calls.group(0))
    assert f"{CALLER}, line 8800: Completed, 4:30 in all, 4:00 talking." in shown
    assert "Answered at extension 204." in shown
    assert re.search(r"Linked by Test coordinator \d+\.", shown)
    assert f'<audio controls preload="none" src="{source}"' in calls.group(0)
    assert f'href="{source}?download=true"' in calls.group(0)
    assert "Call linked" in text_of(page.text)  # the history
    assert played.status_code == downloaded.status_code == 200
    assert played.content == downloaded.content == RECORDING
    assert played.headers["content-type"] == "audio/wav"
    assert downloaded.headers["content-disposition"].startswith("attachment")
    assert not played.headers.get("content-disposition", "inline").startswith("attachment")
    async with line.browser(line.far_operator) as browser:
        assert (await browser.get(source)).status_code == 404


async def test_a_dropped_call_nobody_filed_is_called_back_then_filed(line: Line) -> None:
    dropped = await line.report("lost", "dropped")
    line.clock.advance(minutes=15)  # due
    async with line.browser() as browser:
        callbacks = await line.console.page(browser, "/callbacks")
        row = re.search(
            rf'<li id="callback-{dropped["callback_id"]}".*?</li>', callbacks.text, re.S
        )
        assert row, callbacks.text
        assert f"{CALLER} · Dropped call · reported by the PBX, no appeal yet" in text_of(
            row.group(0)
        )
        reached = await browser.post(
            f"/callbacks/{dropped['callback_id']}/attempts",
            data={"csrf_token": csrf_of(callbacks), "outcome": "reached", "form_key": "once"},
        )
        form = await line.console.page(browser, f"/appeals/new?call={dropped['id']}")
    assert reached.status_code == 200, reached.text
    assert f'href="/appeals/new?call={dropped["id"]}"' in reached.text
    assert re.search(rf'<option value="{dropped["id"]}" selected>', form.text)
    assert f'value="{CALLER}"' in form.text  # the number to call back on
