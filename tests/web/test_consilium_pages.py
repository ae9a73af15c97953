"""The consilium screens in process: the case's cardiologist convenes one from the case page,
inviting the neurologist by name; the neurologist finds the invitation, accepts it and signs an
opinion; the chair opens the video room, which the neurologist joins, and signs the protocol,
which concludes the case; the medic reads and prints it. Refusals: no one invited, a form
without its CSRF token, an opinion not confirmed or by a specialist not invited, the room to a
specialist not a member, another region's specialist (the 404 page)."""

import re
from typing import Any

from tests.web.clinic import CONSULT, Clinic
from tests.web.conftest import csrf_of
from tests.web.test_case_steps import CONCLUSION, text_of

OPINION = {
    "assessment": "Three-vessel disease with diabetes: SYNTAX 34 favours surgery.",
    "opinion_codes": "I25.1, E11",
    "opinion_recommendations": "CABG after stabilisation.",
    "confirm": "yes",
}


async def in_progress(clinic: Clinic) -> dict[str, Any]:
    case = await clinic.case(submit=True)
    await clinic.act(clinic.cardiologist, case["id"], "accept")
    await clinic.act(clinic.cardiologist, case["id"], "start")
    return case


async def invitation_id(clinic: Clinic, case_id: str) -> str:
    """The consilium's one invitation, as the chair reads it through the API."""
    response = await clinic.stack.client.get(
        f"{CONSULT}/cases/{case_id}/consilium", headers=clinic.cardiologist.headers
    )
    (invitation,) = response.json()["invitations"]
    found: str = invitation["id"]
    return found


async def test_a_consilium_from_convening_to_the_signed_protocol(clinic: Clinic) -> None:
    case = await in_progress(clinic)
    path = f"/cases/{case['id']}"
    here = f"{path}/consilium"
    neurologist = str(clinic.neurologist.id)
    second_cardiologist = await clinic.stack.actor("specialist", clinic.centre, "cardiology")
    async with (
        clinic.browser(clinic.cardiologist) as chair,
        clinic.browser(clinic.neurologist) as member,
        clinic.browser(clinic.medic) as medic,
        clinic.browser(second_cardiologist) as outsider,
    ):
        page = await clinic.console.page(chair, path)
        assert f'href="{here}/new"' in page.text
        form = await clinic.console.page(chair, f"{here}/new")
        assert f'value="{neurologist}"' in form.text  # the directory lists region colleagues
        nobody = await clinic.post(chair, f"{here}/new", here, agenda="CABG or PCI?")
        assert nobody.status_code == 422
        assert "Choose at least one specialty or specialist." in nobody.text
        assert "CABG or PCI?" in nobody.text  # what was typed stays
        convened = await clinic.post(
            chair, f"{here}/new", here, agenda="CABG or PCI?", invitee=neurologist
        )
        assert convened.headers["location"] == f"{here}?saved=convened"
        summary = text_of((await clinic.console.page(chair, path)).text)
        assert "The consilium's page" in summary
        assert "Sign and issue the conclusion" not in summary  # the protocol concludes it

        invitations = await clinic.console.page(member, "/consilia")
        assert f'href="{here}"' in invitations.text
        invited = f"{here}/invitations/{await invitation_id(clinic, case['id'])}"
        assert f'action="{invited}/accept"' in (await clinic.console.page(member, here)).text
        accepted = await clinic.post(member, here, f"{invited}/accept")
        assert accepted.headers["location"] == f"{here}?saved=accept"
        opinion_path = f"{invited}/opinion"
        unconfirmed = await clinic.post(member, here, opinion_path, **(OPINION | {"confirm": ""}))
        assert unconfirmed.status_code == 422
        assert "Confirm that you sign this opinion." in unconfirmed.text
        assert "CABG after stabilisation." in unconfirmed.text
        given = await clinic.post(member, here, opinion_path, **OPINION)
        assert given.headers["location"] == f"{here}?saved=opinion"

        shown = text_of((await clinic.console.page(chair, here)).text)
        assert "Opinion given" in shown
        assert "SYNTAX 34 favours surgery." in shown
        assert "Signed when given; the signature is verified now." in shown
        room = await clinic.post(chair, here, f"{here}/room")
        assert room.status_code == 303
        room_page = room.headers["location"]
        assert re.fullmatch(r"/video/[0-9a-f-]{36}", room_page)
        seated = text_of((await clinic.console.page(member, here)).text)
        assert "Join the consilium's video room" in seated
        assert "You wait in the room until the chair admits you." in seated
        assert 'id="video-config"' in (await clinic.console.page(member, room_page)).text
        # Sees the consilium (their specialty at their centre), but sits on it not.
        onlooker = await clinic.console.page(outsider, here)
        assert room_page not in onlooker.text
        assert "The consilium's chair and members meet in its video room." in text_of(onlooker.text)
        shut_out = await outsider.get(room_page)
        assert shut_out.status_code == 404
        assert "Page not found" in shut_out.text
        assert "video-config" not in shut_out.text
        again = await clinic.post(chair, here, f"{here}/room")  # the chair's button stays
        assert again.headers["location"] == room_page

        decision = {key: value for key, value in CONCLUSION.items() if key != "confirm"}
        unsigned = await clinic.post(chair, here, f"{here}/protocol", **decision)
        assert unsigned.status_code == 422
        assert "Confirm that you sign this protocol." in unsigned.text
        signed = await clinic.post(chair, here, f"{here}/protocol", **CONCLUSION)
        assert signed.headers["location"] == f"{here}?saved=protocol"

        assert (await clinic.read(clinic.medic, case["id"]))["status"] == "concluded"
        case_page = text_of((await clinic.console.page(medic, path)).text)
        assert "Concluded by the protocol" in case_page
        printed = text_of((await clinic.console.page(medic, f"{here}/protocol")).text)
    assert "Protocol of the consilium" in printed
    assert "SYNTAX 34 favours surgery." in printed
    assert "Acute subendocardial myocardial infarction" in printed
    assert "the signature and the opinions it cites verify" in printed


async def test_refusals_are_the_apis_own(clinic: Clinic) -> None:
    case = await in_progress(clinic)
    path = f"/cases/{case['id']}"
    here = f"{path}/consilium"
    convened = await clinic.stack.client.post(
        f"{CONSULT}/cases/{case['id']}/consilium",
        json={"agenda": "CABG or PCI?", "invitations": [{"user_id": str(clinic.neurologist.id)}]},
        headers=clinic.cardiologist.headers,
    )
    assert convened.status_code == 201, convened.text
    invited = f"{here}/invitations/{await invitation_id(clinic, case['id'])}"
    far_centre = await clinic.stack.organization(
        kind="regional_centre", region="27", timezone="Asia/Vladivostok"
    )
    far_cardiologist = await clinic.stack.actor("specialist", far_centre, "cardiology")
    second_cardiologist = await clinic.stack.actor("specialist", clinic.centre, "cardiology")
    async with clinic.browser(clinic.neurologist) as member:
        await clinic.console.page(member, here)
        forged = await member.post(f"{invited}/opinion", data=OPINION)
        assert forged.status_code == 403
        assert "did not come from this site" in forged.text
    async with clinic.browser(far_cardiologist) as far:
        for url in (here, f"{here}/new", f"{here}/protocol"):
            answer = await far.get(url)
            assert answer.status_code == 404, url
            assert "Page not found" in answer.text
            assert "CABG or PCI?" not in answer.text
    async with clinic.browser(second_cardiologist) as outsider:
        # Sees the case (their specialty at their centre), but was not invited.
        page = await clinic.console.page(outsider, here)
        assert "Your opinion" not in page.text
        refused = await outsider.post(
            f"{invited}/opinion", data={"csrf_token": csrf_of(page), **OPINION}
        )
        assert refused.status_code == 403
        assert "Only the specialist invited can answer this invitation." in refused.text
    consilium = await clinic.stack.client.get(
        f"{CONSULT}/cases/{case['id']}/consilium", headers=clinic.cardiologist.headers
    )
    assert consilium.json()["opinions"] == []
