"""The ICU monitoring screens in process: a hospital's coordinator adds a ward watched by the
regional centre (mistakes said beside their fields, what was typed kept), adds its beds, issues
a bedside tablet's link shown once, sets a bed's patient, revokes the link and removes a bed;
the ward's alarm shows in its history and on the overview; the centre's intensivist opens the
overview with a watch token in the page and none in a URL. From the overview she records a
consenting patient's bed whose tablet publishes (the tile says so; the file is hers in the files
service) and is told why a bed without consent may not be. Another region's specialist and a
patient find no ward; a forged form is refused."""

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Actor, Stack, running_stack
from tests.video.peers import until
from tests.video.wards.bots import Bedside
from tests.web.browser import TOKEN_IN_URL
from tests.web.conftest import PUBLIC, Console, csrf_of
from tests.web.test_appeal_pages import text_of
from web.sessions import COOKIE

CAMERA = "rtsp://icu:secret@10.12.0.31:554/Streaming/Channels/102"
URLS = re.compile(r'(?:href|src|action)="([^"]*)"')


@dataclass
class Hospital:
    console: Console
    centre: dict[str, Any]
    coordinator: Actor  # the district hospital's
    intensivist: Actor  # the regional centre's, which watches the ward
    stranger: Actor  # a specialist of another region's centre
    patient: Actor  # the hospital's

    @asynccontextmanager
    async def browser(self, actor: Actor) -> AsyncIterator[httpx.AsyncClient]:
        async with self.console.browser("en") as browser:
            signed = await self.console.sign_in(browser, actor.username)
            assert signed.status_code == 303, signed.text
            page = await self.console.page(browser, "/profile")
            await self.console.post(browser, page, "/language", language="en")
            yield browser

    async def post(
        self, browser: httpx.AsyncClient, path: str, action: str, **fields: Any
    ) -> httpx.Response:
        """A form of the page at `path`, sent as the page sends it."""
        return await self.console.post(browser, await self.console.page(browser, path), action,
                                       **fields)  # fmt: skip


@pytest.fixture
async def hospital(clean_databases: dict[str, str], tmp_path: Path) -> AsyncIterator[Hospital]:
    """A short alarm threshold, so a bed that never sent a picture raises one at once."""
    overrides = {"video": {"ward_alarm_after": 1.0}}
    async with running_stack(clean_databases, tmp_path, overrides) as stack:
        yield await _hospital(stack)


async def _hospital(stack: Stack) -> Hospital:
    from telemed.console import register_console

    gateway, web = stack.apps["gateway"], stack.apps["web"]
    await register_console(gateway.state.settings, web.state.settings)
    stack.transport.mount("127.0.0.1", gateway)
    district = await stack.organization()
    centre = await stack.organization(kind="regional_centre")
    far = await stack.organization(kind="regional_centre", region="54", timezone="Asia/Novosibirsk")
    return Hospital(
        Console(stack),
        centre,
        await stack.actor("coordinator", district),
        await stack.actor("specialist", centre, "anesthesiology"),
        await stack.actor("specialist", far, "anesthesiology"),
        await stack.actor("patient", district),
    )


def ward_path(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    found = re.match(r"(/wards/[0-9a-f-]{36}/manage)\?saved=", response.headers["location"])
    assert found, response.headers["location"]
    return found.group(1)


def bed_ids(page: httpx.Response) -> dict[str, str]:
    """The beds of a manage page by their labels."""
    found = re.findall(r'<h3 id="bed-([0-9a-f-]{36})-heading" class="case-title">([^<]+)</h3>',
                       page.text)  # fmt: skip
    return {label: bed for bed, label in found}


async def test_a_coordinator_sets_up_a_ward_the_centre_watches(hospital: Hospital) -> None:
    async with hospital.browser(hospital.coordinator) as browser:
        listed = await hospital.console.page(browser, "/wards")
        assert "ICU monitoring" in text_of(listed.text)
        assert 'href="/wards/new"' in listed.text
        form = await hospital.console.page(browser, "/wards/new")
        assert hospital.centre["name"] in text_of(form.text)  # a regional centre to pick
        centre = hospital.centre["id"]
        refused = await hospital.post(browser, "/wards/new", "/wards/new", name="",
                                      watcher_ids=centre)  # fmt: skip
        assert refused.status_code == 422, refused.text
        assert 'id="name-error"' in refused.text
        assert f'value="{centre}" checked' in refused.text  # what was ticked stays
        created = await hospital.post(browser, "/wards/new", "/wards/new", name="ICU, Belovo",
                                      watcher_ids=centre)  # fmt: skip
        path = ward_path(created)
        said = text_of((await hospital.console.page(browser, created.headers["location"])).text)
        assert "The ward is added." in said

        no_url = await hospital.post(browser, path, path.replace("manage", "beds"),
                                     label="Bed 2", source="rtsp", rtsp_url="")  # fmt: skip
        assert no_url.status_code == 422, no_url.text
        assert 'id="rtsp_url-error"' in no_url.text
        assert 'value="Bed 2"' in no_url.text
        beds = path.replace("manage", "beds")
        added = await hospital.post(browser, path, beds, label="Bed 1", source="tablet",
                                    patient_ref="IB 2026/1142")  # fmt: skip
        assert added.status_code == 303, added.text
        twice = await hospital.post(browser, path, beds, label="Bed 1", source="tablet")
        assert twice.status_code == 409
        assert "already has a bed" in text_of(twice.text)
        camera = await hospital.post(browser, path, beds, label="Bed 2", source="rtsp",
                                     rtsp_url=CAMERA)  # fmt: skip
        assert camera.status_code == 303, camera.text
        page = await hospital.console.page(browser, path)
        assert CAMERA not in page.text  # the camera's password is never shown back
        ids = bed_ids(page)
        assert sorted(ids) == ["Bed 1", "Bed 2"]

        consent = await hospital.post(browser, path, f"{beds}/{ids['Bed 2']}/patient",
                                      patient_ref="", recording_consent="yes")  # fmt: skip
        assert consent.status_code == 303  # no patient: the consent goes with them
        after = await hospital.console.page(browser, path)
        assert (
            f'id="recording_consent-{ids["Bed 2"]}" name="recording_consent" value="yes">'
            in after.text
        )

        issued = await hospital.post(browser, path, f"{beds}/{ids['Bed 1']}/device")
        assert issued.status_code == 201, issued.text
        link = re.search(r'id="secret-value"[^>]*value="([^"]+)"', issued.text)
        assert link, issued.text
        assert "/bedside#ward=" in link.group(1)
        assert "Copy the link" in text_of(issued.text)
        again = await hospital.console.page(browser, path)
        assert link.group(1) not in again.text  # shown once
        assert "credential issued" in text_of(again.text)

        # The tablet never published: after the threshold the bed's alarm is on record.
        async def alarmed() -> bool:
            return '<tr class="late">' in (await hospital.console.page(browser, path)).text

        await until(alarmed, within=20)

        renamed = await hospital.post(browser, path, path, name="ICU, Belovo District Hospital",
                                      recording_allowed="yes", watcher_ids=centre)  # fmt: skip
        assert renamed.status_code == 303, renamed.text
        revoked = await hospital.post(browser, path, f"{beds}/{ids['Bed 1']}/device/revoke")
        assert revoked.status_code == 303, revoked.text
        removed = await hospital.post(browser, path, f"{beds}/{ids['Bed 2']}/delete")
        assert removed.status_code == 303, removed.text
        after = await hospital.console.page(browser, removed.headers["location"])
        said = text_of(after.text)
        assert "The bed is removed." in said
        assert "ICU, Belovo District Hospital" in said
        assert "no credential issued" in said
        assert "Bed 2" not in said
        # Revoked, the tablet's bed is no longer watched for pictures: its alarm is cleared.
        assert "none since the service started" in said

        async def cleared() -> bool:
            return '<tr class="late">' not in (await hospital.console.page(browser, path)).text

        await until(cleared)

    ward_id = path.split("/")[2]
    async with hospital.browser(hospital.intensivist) as browser:
        wards = text_of((await hospital.console.page(browser, "/wards")).text)
        assert "ICU, Belovo District Hospital · beds: 1, occupied: 1" in wards
        overview = await hospital.console.page(browser, f"/wards/overview?ward={ward_id}")
        assert re.search(r'data-token="[^"]{20,}"', overview.text)
        assert "data-ice=" in overview.text
        assert not [url for url in URLS.findall(overview.text) if TOKEN_IN_URL.search(url)]
        assert "Bed 1" in text_of(overview.text)
        manage = await browser.get(path)
        assert manage.status_code == 403  # the centre watches; the hospital manages


def tile_of(page: httpx.Response, bed: str) -> str:
    """The overview's `<li>` of a bed: its data attributes and tile."""
    found = re.search(rf'<li data-bed="{bed}".*?</li>', page.text, re.S)
    assert found, page.text
    return found.group(0)


async def test_the_intensivist_records_a_consenting_patients_bed(hospital: Hospital) -> None:
    stack = hospital.console.stack
    api = "/api/video/wards"
    coordinator = hospital.coordinator.headers
    body = {"name": "ICU", "recording_allowed": True, "watcher_ids": [hospital.centre["id"]]}
    ward = (await stack.client.post(api, json=body, headers=coordinator)).json()
    beds = {}
    for bed in ({"label": "Bed 1", "patient_ref": "IB 1", "recording_consent": True},
                {"label": "Bed 2", "patient_ref": "IB 2"}):  # fmt: skip
        added = await stack.client.post(f"{api}/{ward['id']}/beds", json=bed, headers=coordinator)
        assert added.status_code == 201, added.text
        beds[bed["label"]] = added.json()["id"]
    issued = await stack.client.post(f"{api}/{ward['id']}/beds/{beds['Bed 1']}/device",
                                     headers=coordinator)  # fmt: skip
    tablet = httpx.AsyncClient(transport=stack.transport, base_url=PUBLIC)
    bedside = Bedside(tablet, ward["id"], bed_id=beds["Bed 1"],
                      credential=issued.json()["credential"])  # fmt: skip
    try:
        assert (await bedside.connect()).status_code == 201
        wards = stack.apps["video"].state.wards
        await until(lambda: wards.last_frame_at(uuid.UUID(beds["Bed 1"])) is not None, within=20)
        overview = f"/wards/overview?ward={ward['id']}"
        async with hospital.browser(hospital.intensivist) as browser:
            page = await hospital.console.page(browser, overview)
            assert "data-no-record" not in tile_of(page, beds["Bed 1"])
            said = "Recording: the patient has not consented."
            assert f'data-no-record="{said}"' in tile_of(page, beds["Bed 2"])
            form = {"csrf_token": csrf_of(page)}
            recording = f"/wards/{ward['id']}/beds/{beds['Bed 1']}/recording"
            forged = await browser.post(f"{recording}/start", data={})
            assert forged.status_code == 403
            started = await browser.post(f"{recording}/start", data=form)
            assert started.status_code == 200, started.text
            assert started.json() == {"recording": True}
            twice = await browser.post(f"{recording}/start", data=form)
            assert twice.status_code == 409
            assert twice.json()["detail"] == "The bed is already being recorded."
            shown = tile_of(await hospital.console.page(browser, overview), beds["Bed 1"])
            assert 'data-recording="true"' in shown
            assert '<span class="bed-recording">Recording</span>' in shown

            monitor = stack.apps["video"].state.ward_monitor
            await until(lambda: monitor.recordings.active[uuid.UUID(beds["Bed 1"])].fed > 5)
            stopped = await browser.post(f"{recording}/stop", data=form)
            assert stopped.status_code == 200, stopped.text
            answer = stopped.json()
            assert answer["recording"] is False
            assert answer["frames"] > 5
            file = await stack.client.get(f"/api/files/files/{answer['file_id']}",
                                          headers=hospital.intensivist.headers)  # fmt: skip
            assert file.status_code == 200, file.text  # the doctor's own file
            again = await browser.post(f"{recording}/stop", data=form)
            assert again.status_code == 404
            assert again.json()["detail"] == "The bed is not being recorded."
            shown = tile_of(await hospital.console.page(browser, overview), beds["Bed 1"])
            assert 'data-recording="false"' in shown

            refused = await browser.post(
                f"/wards/{ward['id']}/beds/{beds['Bed 2']}/recording/start", data=form
            )
            assert refused.status_code == 409
            assert refused.json()["detail"] == "The bed's patient has not consented to recording."
        forbidding = await stack.client.patch(f"{api}/{ward['id']}",
                                              json={"recording_allowed": False},
                                              headers=coordinator)  # fmt: skip
        assert forbidding.status_code == 200
        async with hospital.browser(hospital.intensivist) as browser:
            page = await hospital.console.page(browser, overview)
            said = "Recording: the ward does not allow it."
            assert f'data-no-record="{said}"' in tile_of(page, beds["Bed 1"])
            refused = await browser.post(f"{recording}/start", data={"csrf_token": csrf_of(page)})
            assert refused.status_code == 409
            assert refused.json()["detail"] == "The ward does not allow recording."
    finally:
        await bedside.close()
        await tablet.aclose()


async def test_another_regions_specialist_and_a_patient_find_no_ward(hospital: Hospital) -> None:
    async with hospital.browser(hospital.coordinator) as browser:
        created = await hospital.post(browser, "/wards/new", "/wards/new", name="ICU",
                                      watcher_ids=hospital.centre["id"])  # fmt: skip
        path = ward_path(created)
        beds = path.replace("manage", "beds")
        await hospital.post(browser, path, beds, label="Bed 1", patient_ref="IB 1")
        await hospital.post(browser, path, beds, label="Bed 2", patient_ref="")
    ward_id = path.split("/")[2]
    async with hospital.browser(hospital.intensivist) as browser:
        grid = await hospital.console.page(browser, f"/wards/overview?ward={ward_id}")
        said = text_of(grid.text)
        assert "Bed 2 No patient — nothing shown" in said  # an empty bed shows nothing
        assert said.count("No patient") == 1
    async with hospital.browser(hospital.stranger) as browser:
        assert "No wards yet." in text_of((await hospital.console.page(browser, "/wards")).text)
        for url in (f"/wards/overview?ward={ward_id}", path):
            assert (await browser.get(url)).status_code == 404, url
    async with hospital.browser(hospital.patient) as browser:
        home = await hospital.console.page(browser, "/")
        assert 'href="/wards"' not in home.text
        for url in ("/wards", "/wards/new", f"/wards/overview?ward={ward_id}", path):
            assert (await browser.get(url)).status_code == 404, url


async def test_a_form_without_its_token_is_refused(hospital: Hospital) -> None:
    async with hospital.browser(hospital.coordinator) as browser:
        assert browser.cookies.get(COOKIE)
        forged = await browser.post("/wards/new", data={"name": "ICU"})
        assert forged.status_code == 403
        listed = await hospital.console.page(browser, "/wards")
        assert "No wards yet." in text_of(listed.text)
