"""FHIR R4 that resolves: the directory's types (Patient, Practitioner, PractitionerRole,
Organization) with the directory's access rules, and 406 for formats not offered (every
reference read back with the reader's token: `test_references_resolve.py`; code systems and the
public base: `test_settings.py`)."""

from tests.conftest import Stack
from tests.fhir.conftest import FHIR, PUBLIC_FHIR, Region, ids, validated


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
