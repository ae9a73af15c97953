"""FHIR R4 that resolves: the directory's types (Patient, Practitioner, PractitionerRole,
Organization) with the directory's access rules, every reference a test case's resources hold
read back with the reader's token, 406 for formats not offered, configured code systems."""

from typing import Any

from services.common.fhir import FhirTerms
from services.common.fhir_terms import FhirSettings
from tests.conftest import Actor, Stack
from tests.fhir.conftest import FHIR, PUBLIC_FHIR, Region, ids, validated

NSI_SPECIALTIES = "urn:oid:1.2.643.5.1.13.13.11.1066"
NSI_ICD10 = "urn:oid:1.2.643.5.1.13.13.11.1005"


def _references(value: Any) -> list[str]:
    """Every literal `reference` anywhere in a resource."""
    if isinstance(value, dict):
        found = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return found + [ref for item in value.values() for ref in _references(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in _references(item)]
    return []


async def _resolve_all(region: Region, reader: Actor, resources: list[dict[str, Any]]) -> int:
    """GETs every reference of `resources` as `reader`: each is 200 and of the type named."""
    seen = {ref for resource in resources for ref in _references(resource)}
    for ref in sorted(seen):
        resource_type, _, resource_id = ref.partition("/")
        found = await region.read(reader, ref)
        assert (found["resourceType"], found["id"]) == (resource_type, resource_id), ref
    return len(seen)


async def test_every_reference_resolves_with_the_readers_token(region: Region) -> None:
    medic, cardiologist, case_id = region.medic, region.cardiologist, region.case["id"]
    for reader, paths in [
        (medic, [
            f"ServiceRequest/{case_id}", f"Task/{case_id}", f"Appointment/{region.remote['id']}",
            f"Appointment/{region.in_person['id']}", f"Schedule/{region.schedule['id']}",
            f"DocumentReference/{region.attachment['id']}",
        ]),
        (region.operator, [f"Observation/{region.check_in['id']}"]),
    ]:  # fmt: skip
        resources = [await region.read(reader, path) for path in paths]
        for search in ("DiagnosticReport", "DocumentReference?related=ServiceRequest/" + case_id):
            resource_type, _, query = search.partition("?")
            params = dict([query.split("=", 1)]) if query else {}
            bundle = await region.search(reader, resource_type, **params)
            resources += [entry["resource"] for entry in bundle.get("entry", [])]
        assert await _resolve_all(region, reader, resources) >= 3
    # The specialist's own work: the report they signed and its task.
    own = [await region.read(cardiologist, f"Task/{case_id}")]
    own += [e["resource"] for e in (await region.search(cardiologist, "DiagnosticReport"))["entry"]]
    assert await _resolve_all(region, cardiologist, own) >= 3


async def test_directory_types_follow_the_directorys_rules(region: Region) -> None:
    patient, medic, other_medic = region.patient, region.medic, region.other_medic
    me = await region.read(patient, f"Patient/{patient.id}")
    assert me["managingOrganization"] == {"reference": f"Organization/{patient.organization_id}"}
    assert "birthDate" not in me  # the registry's data is for staff
    assert ids(await region.search(patient, "Patient")) == [str(patient.id)]
    assert (await region.get(patient, f"Patient/{region.other_patient.id}")).status_code == 404
    assert (await region.get(patient, f"Practitioner/{medic.id}")).status_code == 404
    # A doctor sees their organisation's patients; another hospital's doctor does not.
    theirs = await region.search(medic, "Patient", organization=str(patient.organization_id))
    assert set(ids(theirs)) == {str(patient.id), str(region.other_patient.id)}
    assert (await region.get(other_medic, f"Patient/{patient.id}")).status_code == 404
    mine = await region.read(medic, f"Patient/{patient.id}")
    assert ids(await region.search(medic, "Patient", name=mine["name"][0]["text"])) == [mine["id"]]
    assert ids(await region.search(other_medic, "Patient", name=mine["name"][0]["text"])) == []
    # A search finds exactly what reads by id show.
    for reader in (medic, other_medic, region.operator, region.cardiologist, patient):
        for resource_type in ("Patient", "Practitioner", "PractitionerRole"):
            found = ids(await region.search(reader, resource_type, _count="200"))
            for resource_id in found:
                assert (
                    await region.get(reader, f"{resource_type}/{resource_id}")
                ).status_code == 200
    role = await region.read(medic, f"PractitionerRole/{region.cardiologist.id}")
    assert role["practitioner"]["reference"] == f"Practitioner/{region.cardiologist.id}"
    assert role["specialty"][0]["coding"][0]["code"] == "cardiology"
    by_specialty = await region.search(medic, "PractitionerRole", specialty="cardiology")
    assert str(region.cardiologist.id) in ids(by_specialty)
    organization = await region.read(patient, f"Organization/{medic.organization_id}")
    assert organization["name"]
    named = await region.search(patient, "Organization", name=organization["name"])
    assert ids(named) == [organization["id"]]


async def test_formats_other_than_json_are_a_406(stack: Stack) -> None:
    hospital = await stack.organization(kind="district_hospital")
    medic = await stack.actor("district_medic", hospital)
    asks: list[tuple[str, dict[str, str], dict[str, str]]] = [
        ("metadata", {"_format": "xml"}, {}),
        ("Task", {"_format": "application/fhir+xml"}, {}),
        (f"Patient/{medic.id}", {}, {"Accept": "application/fhir+xml"}),
        ("Appointment", {}, {"Accept": "text/html"}),
        ("Practitioner", {}, {"Accept": "application/json;q=0, application/xml"}),
    ]
    for path, params, headers in asks:
        response = await stack.client.get(
            f"{FHIR}/{path}", params=params, headers=medic.headers | headers
        )
        assert response.status_code == 406, (path, params, headers, response.text)
        assert response.headers["content-type"] == "application/fhir+json"
        (issue,) = validated(response.json())["issue"]
        assert issue["code"] == "not-supported"
    fine: list[tuple[dict[str, str], dict[str, str]]] = [
        ({"_format": "json"}, {}),
        ({"_format": "application/fhir+json"}, {}),
        ({}, {"Accept": "application/json"}),
        ({}, {"Accept": "application/fhir+json; fhirVersion=4.0"}),
        ({}, {"Accept": "application/fhir+xml;q=0.9, */*;q=0.1"}),
    ]
    for params, headers in fine:
        response = await stack.client.get(
            f"{FHIR}/Practitioner/{medic.id}", params=params, headers=medic.headers | headers
        )
        assert response.status_code == 200, (params, headers, response.text)
        assert response.json()["resourceType"] == "Practitioner"
    bundle = await stack.client.get(f"{FHIR}/Organization", headers=medic.headers)
    assert bundle.json()["link"][0]["url"] == f"{PUBLIC_FHIR}/Organization"


def test_code_systems_are_configured() -> None:
    default = FhirTerms()
    assert default.specialty("cardiology") == {
        "coding": [{"system": "https://telemed.example/fhir/CodeSystem/specialty",
                    "code": "cardiology"}],
        "text": "cardiology",
    }  # fmt: skip
    terms = FhirTerms.from_settings(
        FhirSettings(
            public_url="https://mis.region.example/",
            fhir_system_base="https://fhir.region.example/",
            fhir_icd10_system=NSI_ICD10,
            fhir_specialty_system=NSI_SPECIALTIES,
            fhir_specialty_codes={"cardiology": "27"},
        )
    )
    assert terms.base == "https://mis.region.example/api/fhir"
    assert terms.icd10("I21.4") == {"system": NSI_ICD10, "code": "I21.4"}
    codings = terms.specialty("cardiology")["coding"]
    assert codings[1] == {"system": NSI_SPECIALTIES, "code": "27"}
    assert codings[0]["system"] == "https://fhir.region.example/CodeSystem/specialty"
    assert len(terms.specialty("neurology")["coding"]) == 1  # no code mapped: ours alone
    assert terms.patient_reference_system == "https://fhir.region.example/sid/mis-patient-reference"
