"""Attachments: a case lists only complete files of the requester's organisation, with their
metadata, and whoever may read the case may download them."""

from tests.consult.conftest import CONSULT, World
from tests.files import samples

FILES = "/api/files"


async def test_a_case_lists_its_attachments_and_its_readers_may_download_them(
    world: World,
) -> None:
    scan = samples.dicom_bytes(pixel_bytes_len=1024)
    study = await world.upload(scan, "CT chest.dcm", "imaging")
    ecg = await world.upload(samples.pdf_bytes(), "ECG.pdf", "ecg")
    case = await world.create(attachment_ids=[study["id"], ecg["id"]], submit=True)
    assert case["attachment_ids"] == [study["id"], ecg["id"]]
    listed = {item["id"]: item for item in case["attachments"]}
    assert listed[study["id"]]["modality"] == "CR"
    assert listed[study["id"]]["sha256"] == study["sha256"]
    assert listed[ecg["id"]]["media_type"] == "application/pdf"

    downloaded = await world.stack.client.get(
        f"{FILES}/files/{study['id']}/content", headers=world.cardiologist.headers
    )
    assert downloaded.status_code == 200
    assert downloaded.content == scan
    by_case = await world.stack.client.get(
        f"{FILES}/files", params={"case_id": case["id"]}, headers=world.cardiologist.headers
    )
    assert {item["id"] for item in by_case.json()["items"]} == {study["id"], ecg["id"]}
    for outsider in (world.neurologist, world.other_medic, world.far_coordinator):
        response = await world.stack.client.get(
            f"{FILES}/files/{study['id']}/content", headers=outsider.headers
        )
        assert response.status_code == 404, outsider.username


async def test_only_complete_files_of_the_requesters_organisation_can_be_attached(
    world: World,
) -> None:
    foreign = await world.upload(samples.pdf_bytes(), "x.pdf", "other", actor=world.other_medic)
    response = await world.stack.client.post(
        f"{CONSULT}/cases",
        json=world.case_body(attachment_ids=[foreign["id"]]),
        headers=world.medic.headers,
    )
    assert response.status_code == 422
    assert response.json()["file_id"] == foreign["id"]
    missing = await world.stack.client.post(
        f"{CONSULT}/cases",
        json=world.case_body(attachment_ids=["6f1c1f4e-0000-4000-8000-000000000000"]),
        headers=world.medic.headers,
    )
    assert missing.status_code == 422


async def test_a_file_belongs_to_one_case(world: World) -> None:
    ecg = await world.upload(samples.pdf_bytes(), "ECG.pdf", "ecg")
    await world.create(attachment_ids=[ecg["id"]])
    second = await world.stack.client.post(
        f"{CONSULT}/cases",
        json=world.case_body(attachment_ids=[ecg["id"]]),
        headers=world.medic.headers,
    )
    assert second.status_code == 409
