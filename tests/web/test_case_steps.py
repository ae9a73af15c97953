"""The case page and the steps taken from it: the specialist takes the case, asks, the medic
answers, the specialist concludes (signed by consult) and amends; the medic reads the signed
conclusion and prints it; refusals beside the step's form; another organisation's case, or
another specialty's, is the console's 404 page."""

import html
import re

from tests.web.clinic import Clinic
from tests.web.conftest import csrf_of

CONCLUSION = {
    "findings": "NSTEMI, high GRACE risk.",
    "diagnosis_text": "Acute subendocardial myocardial infarction",
    "diagnosis_codes": "I21.4, I10",
    "recommendations": "Transfer to the PCI centre within 24 hours.",
    "recommended_tests": "Troponin in 3 hours\nEchocardiography",
    "hospitalisation_needed": "yes",
    "confirm": "yes",
}


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", page))


async def test_a_case_from_question_to_signed_conclusion(clinic: Clinic) -> None:
    case = await clinic.case(submit=True)
    path = f"/cases/{case['id']}"
    async with (
        clinic.browser(clinic.cardiologist) as specialist,
        clinic.browser(clinic.medic) as medic,
    ):
        await clinic.console.page(medic, path)  # the medic's last look: as submitted
        page = await clinic.console.page(specialist, path)
        assert "Take this case" in page.text
        assert "Decline the case" in page.text
        taken = await clinic.post(specialist, path, f"{path}/accept")
        assert taken.headers["location"] == f"{path}?saved=accept"
        started = await clinic.post(specialist, path, f"{path}/start")
        assert started.status_code == 303
        asked = await clinic.post(
            specialist, path, f"{path}/request-info", message="Please attach the admission ECG."
        )
        assert asked.status_code == 303

        waiting = await clinic.console.page(medic, path)
        assert "Information requested" in waiting.text
        asked_event = re.search(
            r'<li class="event event-info_request event-new">.*?</li>', waiting.text, re.S
        )
        assert asked_event
        assert "Please attach the admission ECG." in asked_event.group(0)
        answered = await clinic.post(
            medic, path, f"{path}/answer", message="ECG attached: ST depression V4-V6."
        )
        assert answered.headers["location"] == f"{path}?saved=answer"
        assert (await clinic.read(clinic.medic, case["id"]))["status"] == "in_progress"

        page = await clinic.console.page(specialist, path)
        assert "Sign and issue the conclusion" in page.text
        concluded = await clinic.post(
            specialist, path, f"{path}/conclusions", step="conclude", **CONCLUSION
        )
        assert concluded.headers["location"] == f"{path}?saved=conclude"

        shown = text_of((await clinic.console.page(medic, path)).text)
        assert "Signed by the consultation service when issued; the signature is verified now." in (
            shown
        )
        assert "Acute subendocardial myocardial infarction (I21.4, I10)" in shown
        assert "Hospitalisation is needed." in shown
        printable = await clinic.console.page(medic, f"{path}/conclusion")
        printed = text_of(printable.text)
        assert "Conclusion of a remote consultation" in printed
        assert "Troponin in 3 hours" in printed
        assert "SHA-256:" in printed
        assert "the signature verifies" in printed
        assert 'class="breadcrumb no-print"' in printable.text  # the print stylesheet hides it

        amend_page = await clinic.console.page(specialist, path)
        assert "Amend the conclusion" in amend_page.text
        assert "Transfer to the PCI centre within 24 hours." in amend_page.text  # filled in
        amended = await clinic.post(
            specialist,
            path,
            f"{path}/conclusions",
            step="amend",
            **(
                CONCLUSION
                | {"amendment_reason": "Echo result added.", "findings": "NSTEMI; EF 45%."}
            ),
        )
        assert amended.headers["location"] == f"{path}?saved=amend"
        latest = text_of((await clinic.console.page(medic, path)).text)
        assert "Conclusion (version 2)" in latest
        assert "NSTEMI; EF 45%." in latest
        assert "Echo result added." in latest
        first = text_of((await clinic.console.page(medic, f"{path}/conclusion?version=1")).text)
        assert "NSTEMI, high GRACE risk." in first
        assert "NSTEMI; EF 45%." not in first


async def test_a_conclusion_is_signed_only_once_confirmed(clinic: Clinic) -> None:
    case = await clinic.case(submit=True)
    await clinic.act(clinic.cardiologist, case["id"], "accept")
    await clinic.act(clinic.cardiologist, case["id"], "start")
    path = f"/cases/{case['id']}"
    async with clinic.browser(clinic.cardiologist) as browser:
        unconfirmed = await clinic.post(
            browser, path, f"{path}/conclusions", step="conclude", **(CONCLUSION | {"confirm": ""})
        )
        assert unconfirmed.status_code == 422
        assert "Confirm that you sign this conclusion." in unconfirmed.text
        assert 'value="Acute subendocardial myocardial infarction"' in unconfirmed.text
        wrong = await clinic.post(
            browser,
            path,
            f"{path}/conclusions",
            step="conclude",
            **(CONCLUSION | {"diagnosis_codes": "heart"}),
        )
        assert wrong.status_code == 422
        assert re.search(
            r'id="diagnosis_codes-error">\s*<li>This is not in the expected format', wrong.text
        )
    assert (await clinic.read(clinic.medic, case["id"]))["status"] == "in_progress"


async def test_refused_steps_are_said_beside_their_forms(clinic: Clinic) -> None:
    case = await clinic.case(submit=True)
    path = f"/cases/{case['id']}"
    async with clinic.browser(clinic.cardiologist) as browser:
        no_reason = await clinic.post(browser, path, f"{path}/decline", reason="  ")
        assert no_reason.status_code == 422
        assert re.search(r'<details class="step" open>\s*<summary>Decline the case', no_reason.text)
        assert re.search(r'id="reason-error">\s*<li>Enter this.', no_reason.text)
        # A step the case's state does not allow: the API's 409, said on the page.
        too_early = await clinic.post(browser, path, f"{path}/start")
        assert too_early.status_code == 409
        assert "Cannot start a case that is submitted." in too_early.text
        forged = await browser.post(f"{path}/accept", data={})
        assert forged.status_code == 403
    assert (await clinic.read(clinic.medic, case["id"]))["status"] == "submitted"


async def test_the_medic_cancels_and_the_thread_carries_messages(clinic: Clinic) -> None:
    case = await clinic.case(submit=True)
    path = f"/cases/{case['id']}"
    async with clinic.browser(clinic.medic) as medic, clinic.browser(clinic.cardiologist) as spec:
        await clinic.console.page(spec, path)
        wrote = await clinic.post(medic, path, f"{path}/messages", text="Troponin 2.1 ng/ml.")
        assert wrote.headers["location"] == f"{path}?saved=messages"
        seen = await clinic.console.page(spec, path)
        message = re.search(r'<li class="event event-comment event-new">.*?</li>', seen.text, re.S)
        assert message
        assert "Troponin 2.1 ng/ml." in message.group(0)
        page = await clinic.console.page(medic, path)
        assert "Take this case" not in page.text  # the specialist's steps are not the medic's
        cancelled = await clinic.post(
            medic, path, f"{path}/cancel", reason="Transferred by ambulance."
        )
        assert cancelled.status_code == 303
        shown = text_of((await clinic.console.page(medic, path)).text)
    assert "Cancelled." in shown
    assert "Transferred by ambulance." in shown
    assert (await clinic.read(clinic.medic, case["id"]))["status"] == "cancelled"


async def test_another_organisations_or_specialtys_case_is_the_not_found_page(
    clinic: Clinic,
) -> None:
    case = await clinic.case(submit=True)
    path = f"/cases/{case['id']}"
    async with clinic.browser(clinic.other_medic) as other:
        for url in (path, f"{path}/edit", f"{path}/conclusion"):
            answer = await other.get(url)
            assert answer.status_code == 404, url
            assert "Page not found" in answer.text
            assert "Petrov" not in answer.text
        page = await clinic.console.page(other, "/cases")
        post = await other.post(f"{path}/cancel", data={"csrf_token": csrf_of(page)})
        assert post.status_code == 404
    async with clinic.browser(clinic.neurologist) as neurologist:
        assert (await neurologist.get(path)).status_code == 404
        page = await clinic.console.page(neurologist, "/cases")
        assert case["id"] not in page.text
    assert (await clinic.read(clinic.medic, case["id"]))["status"] == "submitted"


async def test_the_case_page_speaks_russian(clinic: Clinic) -> None:
    case = await clinic.case(submit=True)
    async with clinic.browser(clinic.cardiologist, "ru") as browser:
        page = await clinic.console.page(browser, f"/cases/{case['id']}")
        queue = await clinic.console.page(browser, "/cases")
    assert '<html lang="ru">' in page.text
    assert "Взять случай" in page.text
    assert "Кардиология" in page.text
    assert "(Новокузнецк)" in page.text
    assert "<h1>Очередь</h1>" in queue.text
    assert "осталось" in queue.text
