"""The video screens in process: the case's specialist starts a video consultation from the
case page, the requesting medic finds it on theirs and in their visits; each video page holds
only that person's short-lived join token, never an access token; recording and closing are
POSTs that need the page's CSRF token; another organisation's room is the 404 page."""

import html
import json
import re
from typing import Any

import httpx
import jwt

from tests.web.clinic import Clinic
from tests.web.conftest import csrf_of

CONFIG = re.compile(r'<script type="application/json" id="video-config">(.*?)</script>', re.S)
JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*")


def config_of(page: httpx.Response) -> dict[str, Any]:
    found = CONFIG.search(page.text)
    assert found, page.text
    config: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return config


def only_join_tokens(page: httpx.Response) -> None:
    """Every JWT in the page is a room join token (the video service's `typ`)."""
    tokens = JWT.findall(page.text)
    assert tokens
    assert {jwt.get_unverified_header(token)["typ"] for token in tokens} == {"join+jwt"}


async def test_a_case_consultation_from_start_to_close(clinic: Clinic) -> None:
    case = await clinic.case(submit=True)
    await clinic.act(clinic.cardiologist, case["id"], "accept")
    path = f"/cases/{case['id']}"
    async with (
        clinic.browser(clinic.cardiologist) as specialist,
        clinic.browser(clinic.medic) as medic,
    ):
        before = await clinic.console.page(medic, path)
        assert "Join the video consultation" not in before.text
        forged = await specialist.post(f"{path}/video", data={"csrf_token": "forged"})
        assert forged.status_code == 403
        started = await clinic.post(specialist, path, f"{path}/video")
        assert started.status_code == 303, started.text
        room_page = started.headers["location"]
        room_id = room_page.removeprefix("/video/")

        host = await clinic.console.page(specialist, room_page)
        only_join_tokens(host)
        hosting = config_of(host)
        assert hosting["room_id"] == room_id
        assert hosting["admits"]
        assert hosting["records"]
        assert "/join/call.js" in host.text
        assert "Waiting room" in host.text
        # The page's token is the video API's join token for this room, and nothing else.
        view = await clinic.stack.client.get(
            f"/api/video/rooms/{room_id}",
            headers={"Authorization": f"Bearer {hosting['token']}"},
        )
        assert view.status_code == 200, view.text
        refused = await clinic.stack.client.get(
            "/api/directory/me", headers={"Authorization": f"Bearer {hosting['token']}"}
        )
        assert refused.status_code == 401

        for page in (
            await clinic.console.page(medic, path),
            await clinic.console.page(specialist, path),
        ):
            assert f'href="/video/{room_id}"' in page.text
        assert (
            "Start a video consultation" not in (await clinic.console.page(specialist, path)).text
        )
        visits = await clinic.console.page(medic, "/visits")
        assert f'href="/video/{room_id}"' in visits.text
        hosted = await clinic.console.page(specialist, "/visits")
        assert f'href="/video/{room_id}"' in hosted.text
        assert "Waiting now" in hosted.text

        guest = await clinic.console.page(medic, room_page)
        only_join_tokens(guest)
        invited = config_of(guest)
        assert not invited["admits"]
        assert not invited["records"]
        assert invited["token"] != hosting["token"]
        assert "Close the room for everyone" not in guest.text

        # Recording and closing: the CSRF token first, then the API's own rules.
        for action in ("recording/start", "recording/stop", "close"):
            no_csrf = await specialist.post(f"{room_page}/{action}", data={})
            assert no_csrf.status_code == 403
        nobody = await specialist.post(
            f"{room_page}/recording/start",
            data={"csrf_token": csrf_of(host)},
            headers={"Sec-Fetch-Mode": "cors"},
        )
        # Asked by the page's script: the API's refusal comes back for the page to say.
        assert nobody.status_code == 409
        assert "not connected" in nobody.json()["detail"]
        not_hers = await medic.post(
            f"{room_page}/close", data={"csrf_token": csrf_of(guest)},
            headers={"Sec-Fetch-Mode": "cors"},
        )  # fmt: skip
        assert not_hers.status_code == 403
        assert "detail" in not_hers.json()
        closed = await specialist.post(f"{room_page}/close", data={"csrf_token": csrf_of(host)})
        assert closed.status_code == 303
        gone = await specialist.get(room_page)
        assert gone.status_code == 410
        assert "The room is closed" in gone.text
        after = await clinic.console.page(medic, path)
        assert f'href="/video/{room_id}"' not in after.text


async def test_another_organisations_room_is_not_found(clinic: Clinic) -> None:
    case = await clinic.case(submit=True)
    await clinic.act(clinic.cardiologist, case["id"], "accept")
    async with clinic.browser(clinic.cardiologist) as specialist:
        started = await clinic.post(
            specialist, f"/cases/{case['id']}", f"/cases/{case['id']}/video"
        )
        room_page = started.headers["location"]
    async with clinic.browser(clinic.other_medic) as stranger:
        page = await stranger.get(room_page)
        assert page.status_code == 404
        assert "video-config" not in page.text
        visits = await clinic.console.page(stranger, "/visits")
        assert room_page not in visits.text


async def test_the_visits_list_speaks_russian(clinic: Clinic) -> None:
    async with clinic.browser(clinic.cardiologist, "ru") as specialist:
        page = await clinic.console.page(specialist, "/visits")
        assert "Видеоприёмы" in page.text
        assert 'href="/visits"' in page.text  # in the navigation
