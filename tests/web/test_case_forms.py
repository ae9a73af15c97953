"""Opening a case: the form with the regional centres, the specialties and the due time each
urgency would get (consult's own answer), saved as a draft or submitted, the API's refusals
beside their fields, a retried form opening one case, editing against the version read."""

import html
import re
from typing import Any

from tests.web.clinic import CONSULT, Clinic
from tests.web.conftest import csrf_of

FORM = {
    "patient_reference": "MIS-42-000777",
    "patient_full_name": "Sidorova Maria Petrovna",
    "patient_birth_date": "1958-02-03",
    "patient_sex": "female",
    "patient_insurance_policy": "4250000000000777",
    "specialty": "cardiology",
    "urgency": "urgent",
    "mode": "written",
    "question": "Is an urgent coronary angiography indicated?",
    "present_illness": "Pressing chest pain since the morning.",
    "relevant_history": "Diabetes type 2.",
    "systolic_bp": "160",
    "diastolic_bp": "90",
    "heart_rate": "104",
    "spo2": "94",
    "temperature_c": "36.9",
    "diagnosis_code": "I20.0",
    "diagnosis_text": "Unstable angina",
    "accompanying": "E11.9 Type 2 diabetes\nI10 Hypertension",
    "current_treatment": "Aspirin, nitroglycerin.",
}


def errors_of(page: str, field: str) -> str:
    found = re.search(rf'<ul class="error-message" id="{field}-error">(.*?)</ul>', page, re.S)
    assert found, (field, page)
    return html.unescape(found.group(1))


async def _cases_of(clinic: Clinic) -> list[dict[str, Any]]:
    response = await clinic.stack.client.get(f"{CONSULT}/cases", headers=clinic.medic.headers)
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_the_form_offers_the_centres_specialties_and_the_due_time_of_each_urgency(
    clinic: Clinic,
) -> None:
    async with clinic.browser(clinic.medic) as browser:
        page = await clinic.console.page(browser, "/cases/new")
        fragment = await browser.get(
            f"/cases/new/urgency?target_organization_id={clinic.centre['id']}",
            headers={"HX-Request": "true"},
        )
    text = page.text
    centre = re.search(r'<option value="([^"]+)" selected>([^<]+)</option>', text)
    assert centre
    assert centre.groups() == (clinic.centre["id"], clinic.centre["name"])
    assert clinic.hospital["name"] not in re.findall(r"<option[^>]*>([^<]*)</option>", text)
    assert '<option value="cardiology">Cardiology</option>' in text  # the specialty list
    hints = re.findall(r'id="urgency-(\w+)-hint">If submitted now, due ([^<]+)\.<', text)
    assert [urgency for urgency, _ in hints] == ["emergency", "urgent", "planned"]
    assert all("(Novokuznetsk)" in due for _, due in hints)
    assert 'hx-get="/cases/new/urgency"' in text  # another centre redraws the hints
    assert fragment.text.lstrip().startswith('<div id="urgency">')
    assert "If submitted now, due" in fragment.text
    assert "<html" not in fragment.text
    assert 'name="mode" value="written" checked' in text


async def test_a_draft_is_saved_edited_and_submitted(clinic: Clinic) -> None:
    async with clinic.browser(clinic.medic) as browser:
        page = await clinic.console.page(browser, "/cases/new")
        saved = await browser.post(
            "/cases/new",
            data={
                "csrf_token": csrf_of(page),
                "target_organization_id": clinic.centre["id"],
                "form_key": "k1",
                "action": "draft",
                **FORM,
            },
        )
        assert saved.status_code == 303
        case_id = re.fullmatch(r"/cases/([0-9a-f-]+)\?saved=draft", saved.headers["location"])[1]  # type: ignore[index]
        shown = await clinic.console.page(browser, saved.headers["location"])
        assert "The draft is saved." in shown.text
        stored = await clinic.read(clinic.medic, case_id)
        assert stored["status"] == "draft"
        assert stored["patient"]["full_name"] == "Sidorova Maria Petrovna"
        assert stored["summary"]["vital_signs"] == {
            "systolic_bp": 160,
            "diastolic_bp": 90,
            "heart_rate": 104,
            "respiratory_rate": None,
            "temperature_c": 36.9,
            "spo2": 94,
        }
        assert stored["summary"]["accompanying_diagnoses"] == [
            {"code": "E11.9", "text": "Type 2 diabetes"},
            {"code": "I10", "text": "Hypertension"},
        ]

        edit = await clinic.console.page(browser, f"/cases/{case_id}/edit")
        assert 'value="Sidorova Maria Petrovna"' in edit.text
        assert f'name="version" value="{stored["version"]}"' in edit.text
        submitted = await browser.post(
            f"/cases/{case_id}/edit",
            data={
                "csrf_token": csrf_of(edit),
                "target_organization_id": clinic.centre["id"],
                "version": str(stored["version"]),
                "action": "submit",
                **(FORM | {"question": "Angiography today or tomorrow?"}),
            },
        )
        assert submitted.status_code == 303
        assert submitted.headers["location"] == f"/cases/{case_id}?saved=submitted"
    stored = await clinic.read(clinic.medic, case_id)
    assert stored["status"] == "submitted"
    assert stored["question"] == "Angiography today or tomorrow?"


async def test_refusals_are_said_beside_their_fields_and_the_answers_stay(clinic: Clinic) -> None:
    async with clinic.browser(clinic.medic) as browser:
        page = await clinic.console.page(browser, "/cases/new")
        wrong = FORM | {
            "patient_full_name": "",
            "diagnosis_code": "heart",
            "spo2": "140",
            "patient_birth_date": "2999-01-01",
        }
        refused = await browser.post(
            "/cases/new",
            data={
                "csrf_token": csrf_of(page),
                "target_organization_id": clinic.centre["id"],
                "action": "submit",
                **wrong,
            },
        )
    assert refused.status_code == 422
    assert errors_of(refused.text, "patient_full_name").strip() == "<li>Enter this.</li>"
    assert "not in the expected format" in errors_of(refused.text, "diagnosis_code")
    assert "outside the range" in errors_of(refused.text, "spo2")
    assert "birth date must be a past date" in errors_of(refused.text, "patient_birth_date")
    assert re.search(r'id="spo2"[^>]*value="140"[^>]*aria-invalid="true"', refused.text)
    assert 'value="Unstable angina"' in refused.text  # the rest as typed
    assert 'class="error-summary" role="alert"' in refused.text
    assert await _cases_of(clinic) == []


async def test_a_form_sent_twice_opens_one_case(clinic: Clinic) -> None:
    async with clinic.browser(clinic.medic) as browser:
        page = await clinic.console.page(browser, "/cases/new")
        form = {
            "csrf_token": csrf_of(page),
            "target_organization_id": clinic.centre["id"],
            "form_key": re.search(r'name="form_key" value="(\w+)"', page.text)[1],  # type: ignore[index]
            "action": "submit",
            **FORM,
        }
        first = await browser.post("/cases/new", data=form)
        second = await browser.post("/cases/new", data=form)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert len(await _cases_of(clinic)) == 1


async def test_a_form_without_its_csrf_token_is_refused(clinic: Clinic) -> None:
    async with clinic.browser(clinic.medic) as browser:
        forged = await browser.post(
            "/cases/new",
            data={"target_organization_id": clinic.centre["id"], "action": "submit", **FORM},
        )
        wrong = await browser.post(
            "/cases/new",
            data={"csrf_token": "guess", "target_organization_id": clinic.centre["id"], **FORM},
        )
    assert forged.status_code == wrong.status_code == 403
    assert "Not allowed" in forged.text
    assert await _cases_of(clinic) == []


async def test_an_edit_made_meanwhile_is_not_overwritten(clinic: Clinic) -> None:
    case = await clinic.case()
    async with clinic.browser(clinic.medic) as browser:
        edit = await clinic.console.page(browser, f"/cases/{case['id']}/edit")
        await clinic.stack.client.patch(
            f"{CONSULT}/cases/{case['id']}",
            json={"question": "Changed by a colleague."},
            headers=clinic.medic.headers,
        )
        late = await browser.post(
            f"/cases/{case['id']}/edit",
            data={
                "csrf_token": csrf_of(edit),
                "target_organization_id": clinic.centre["id"],
                "version": str(case["version"]),
                "action": "save",
                **FORM,
            },
        )
    assert late.status_code == 412
    assert "Someone changed this case since you opened the form" in html.unescape(late.text)
    assert (await clinic.read(clinic.medic, case["id"]))["question"] == "Changed by a colleague."


async def test_the_register_is_searched_where_the_role_may_and_a_choice_fills_the_form(
    clinic: Clinic,
) -> None:
    async with clinic.browser(clinic.medic) as browser:
        page = await clinic.console.page(browser, "/cases/new?patient_q=Sidorova")
    # District medics may not search the directory's register (docs/api.md): they are told,
    # and enter the patient by hand.
    assert "may not search the patient register" in html.unescape(page.text)
    registrar = await clinic.stack.actor("registrar", clinic.hospital)
    registered = await clinic.stack.client.post(
        "/api/directory/patients",
        json={
            "full_name": "Sidorova Maria Petrovna",
            "birth_date": "1958-02-03",
            "sex": "female",
            "policy_number": "4250000000000777",
        },
        headers=registrar.headers,
    )
    assert registered.status_code == 201, registered.text
    patient_id = registered.json()["id"]
    coordinator = await clinic.stack.actor("coordinator", clinic.hospital)
    async with clinic.browser(coordinator) as browser:
        found = await clinic.console.page(browser, "/cases/new?patient_q=sidorova")
        assert f'href="/cases/new?patient={patient_id}"' in found.text
        chosen = await clinic.console.page(browser, f"/cases/new?patient={patient_id}")
    assert 'value="Sidorova Maria Petrovna"' in chosen.text
    assert 'value="1958-02-03"' in chosen.text
    assert 'value="4250000000000777"' in chosen.text
    assert f'id="patient_reference" name="patient_reference" type="text" value="{patient_id}"' in (
        chosen.text
    )
