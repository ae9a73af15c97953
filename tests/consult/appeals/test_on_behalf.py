"""Appeals filed on callers' behalf: registrars take calls as operators do; a call centre files
for the callers of the organisations it serves, in their region; and a patient named by anyone
but the patient is checked in the directory first."""

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import Actor
from tests.consult.appeals.conftest import (
    KEMEROVO,
    KHABAROVSK,
    KHABAROVSK_ZONE,
    NOVOKUZNETSK,
    Hotline,
)
from tests.scheduling.conftest import assert_problem


@dataclass
class CallCentre:
    hotline: Hotline
    centre: dict[str, Any]  # of Khabarovsk (region 27), serving the Kuzbass polyclinic
    registrar: Actor
    operator: Actor  # the call centre's coordinator
    polyclinic_registrar: Actor
    served_patient: Actor  # the polyclinic's
    hospital_patient: Actor  # the Kemerovo hospital's, which the call centre does not serve
    far_patient: Actor  # of Khabarovsk's polyclinic


@pytest.fixture
async def calls(hotline: Hotline) -> CallCentre:
    stack = hotline.stack
    centre = await stack.call_centre(hotline.polyclinic, region="27", timezone=KHABAROVSK_ZONE)
    return CallCentre(
        hotline=hotline,
        centre=centre,
        registrar=await stack.actor("registrar", centre),
        operator=await stack.actor("coordinator", centre),
        polyclinic_registrar=await stack.actor("registrar", hotline.polyclinic),
        served_patient=await stack.actor("patient", hotline.polyclinic),
        hospital_patient=await stack.actor("patient", hotline.hospital),
        far_patient=await stack.actor("patient", hotline.khabarovsk),
    )


async def test_a_call_centre_files_for_a_served_organisations_caller(calls: CallCentre) -> None:
    hotline = calls.hotline
    patient_id = str(calls.served_patient.id)
    for actor in (calls.registrar, calls.operator):
        appeal = await hotline.filed(actor, region="42", patient_id=patient_id)
        # Routed in the caller's region as any appeal there: the territory map names the
        # polyclinic, whose operators handle it; the call centre is on record as its filer.
        assert (appeal["region"], appeal["status"]) == ("42", "routed")
        assert appeal["organization_id"] == hotline.polyclinic["id"]
        assert appeal["patient_id"] == patient_id
        assert appeal["created_by"] == str(actor.id)
        queue = await hotline.read(hotline.operator, "/appeals")
        assert appeal["id"] in {item["id"] for item in queue["items"]}
        # Filing it makes the call centre no operator of region 42.
        assert_problem(await hotline.get(actor, f"/appeals/{appeal['id']}"), 404)
        assert_problem(await hotline.act(actor, appeal["id"], "take"), 404)
    # Its own region's callers too, without naming the region.
    own = await hotline.filed(calls.registrar, territory=KHABAROVSK)
    assert own["region"] == "27"


async def test_what_a_call_centre_may_not_file(calls: CallCentre) -> None:
    hotline = calls.hotline
    # Registrars take calls: no chat, no web form.
    assert_problem(await hotline.file(calls.registrar, channel="chat", region="42"), 422)
    # Not a region of an organisation it serves.
    assert_problem(await hotline.file(calls.registrar, region="54"), 403)
    # A patient it does not act for, wherever: of a hospital it does not serve, of its own
    # region, a stranger's id, someone who is no patient.
    for patient_id in (
        calls.hospital_patient.id,
        calls.far_patient.id,
        uuid.uuid4(),
        calls.polyclinic_registrar.id,
    ):
        refused = await hotline.file(calls.registrar, region="42", patient_id=str(patient_id))
        problem = assert_problem(refused, 422)
        assert problem["errors"][0]["loc"] == ["body", "patient_id"]


async def test_a_registry_files_by_phone_in_its_own_region(calls: CallCentre) -> None:
    hotline = calls.hotline
    appeal = await hotline.filed(
        calls.polyclinic_registrar, territory=KEMEROVO, patient_id=str(calls.served_patient.id)
    )
    assert (appeal["region"], appeal["organization_id"]) == ("42", hotline.hospital["id"])
    assert_problem(await hotline.file(calls.polyclinic_registrar, region="27"), 403)
    assert_problem(await hotline.get(calls.polyclinic_registrar, "/appeals"), 403)


async def test_a_named_patient_is_checked_in_the_directory(calls: CallCentre) -> None:
    hotline = calls.hotline
    # A region's operator names any patient of the region, and no other.
    for patient in (calls.served_patient, calls.hospital_patient):
        appeal = await hotline.filed(hotline.operator, patient_id=str(patient.id))
        assert appeal["patient_id"] == str(patient.id)
    for patient_id in (calls.far_patient.id, uuid.uuid4(), hotline.medic.id):
        refused = await hotline.file(hotline.operator, patient_id=str(patient_id))
        assert assert_problem(refused, 422)["errors"][0]["loc"] == ["body", "patient_id"]
    # An MIS names its own organisation's patients.
    mis_body = {"channel": "api", "territory": NOVOKUZNETSK}
    own = await hotline.filed(hotline.mis, **mis_body, patient_id=str(calls.served_patient.id))
    assert own["patient_id"] == str(calls.served_patient.id)
    other = await hotline.file(hotline.mis, **mis_body, patient_id=str(calls.hospital_patient.id))
    assert_problem(other, 422)
