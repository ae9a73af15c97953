"""Attachments: a case lists only complete files of the requester's organisation, with their
metadata; consult pins them to the case in the files service once the case is stored, and
hands whoever may read the case a grant to read them there. No other route binds a file."""

import base64
import uuid
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from services.common.grants import GRANT_HEADER, GrantIssuer
from services.consult.db import KERNEL_TABLES as CONSULT_TABLES
from services.files.models import StoredFile
from tests.conftest import Actor
from tests.consult.conftest import CONSULT, World
from tests.files import samples

FILES = "/api/files"
FHIR = "/api/fhir"


def issue(
    world: World, actor: Actor, purpose: str, case_id: str, *files: str, ttl: int = 300
) -> str:
    """A grant signed with consult's own key, as consult would hand it."""
    token, _ = world.stack.apps["consult"].state.grants.issue(
        audience="files",
        subject=actor.id,
        purpose=purpose,
        case_id=uuid.UUID(case_id),
        file_ids=[uuid.UUID(file_id) for file_id in files],
        ttl_seconds=ttl,
    )
    return str(token)


async def bound_case(world: World, file_id: str) -> str | None:
    """The case the files service has the file pinned to, read from its own table."""
    async with world.stack.apps["files"].state.database.sessionmaker() as session:
        record = await session.get(StoredFile, uuid.UUID(file_id))
    assert record is not None
    return str(record.case_id) if record.case_id else None


async def content(world: World, actor: Actor, file_id: str, grant: str | None) -> httpx.Response:
    headers = actor.headers | ({GRANT_HEADER: grant} if grant else {})
    return await world.stack.client.get(f"{FILES}/files/{file_id}/content", headers=headers)


async def document_ids(world: World, actor: Actor, **params: str) -> list[str]:
    response = await world.stack.client.get(
        f"{FHIR}/DocumentReference", params=params, headers=actor.headers
    )
    assert response.status_code == 200, response.text
    return [entry["resource"]["id"] for entry in response.json().get("entry", [])]


async def test_a_case_lists_its_attachments_and_its_readers_read_them_with_a_grant(
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
    assert listed[study["id"]]["stored_at"] == study["created_at"]
    assert listed[ecg["id"]]["media_type"] == "application/pdf"
    # Pinned once the case was stored, before the answer came back.
    assert [await bound_case(world, file["id"]) for file in (study, ecg)] == [case["id"]] * 2

    reader = world.cardiologist
    answer = await world.stack.client.post(
        f"{CONSULT}/cases/{case['id']}/attachments/grant", headers=reader.headers
    )
    assert answer.status_code == 200, answer.text
    granted = answer.json()
    assert granted["file_ids"] == [study["id"], ecg["id"]]
    assert granted["case_id"] == case["id"]
    grant = granted["grant"]
    assert (await content(world, reader, study["id"], None)).status_code == 404
    downloaded = await content(world, reader, study["id"], grant)
    assert (downloaded.status_code, downloaded.content) == (200, scan)
    in_a_link = await world.stack.client.get(
        f"{FILES}/files/{ecg['id']}/content", params={"grant": grant}, headers=reader.headers
    )
    assert in_a_link.status_code == 200

    for outsider in (world.neurologist, world.other_medic, world.far_coordinator):
        asked = await world.stack.client.post(
            f"{CONSULT}/cases/{case['id']}/attachments/grant", headers=outsider.headers
        )
        assert asked.status_code == 404, outsider.username
        borrowed = await content(world, outsider, study["id"], grant)
        assert borrowed.status_code == 403, outsider.username
        assert (await content(world, outsider, study["id"], None)).status_code == 404
    expired = issue(world, reader, "case.read", case["id"], study["id"], ttl=-120)
    refused = await content(world, reader, study["id"], expired)
    assert refused.status_code == 403
    assert "expired" in refused.json()["detail"]

    records = CONSULT_TABLES.audit.records
    query = select(records.c.outcome, records.c.actor_id).where(
        records.c.action == "case.attachments_grant", records.c.resource_id == case["id"]
    )
    async with world.stack.apps["consult"].state.database.sessionmaker() as session:
        trail = {(row.outcome, row.actor_id) for row in await session.execute(query)}
    assert ("success", str(reader.id)) in trail
    assert ("denied", str(world.neurologist.id)) in trail


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
    assert await bound_case(world, foreign["id"]) is None


async def test_a_file_belongs_to_one_case(world: World) -> None:
    ecg = await world.upload(samples.pdf_bytes(), "ECG.pdf", "ecg")
    first = await world.create(attachment_ids=[ecg["id"]])
    second = await world.stack.client.post(
        f"{CONSULT}/cases",
        json=world.case_body(attachment_ids=[ecg["id"]]),
        headers=world.medic.headers,
    )
    assert second.status_code == 409
    assert await bound_case(world, ecg["id"]) == first["id"]


async def test_a_cases_documents_page_in_the_order_they_were_stored(world: World) -> None:
    stored = [await world.upload(samples.pdf_bytes(), f"{n}.pdf", "ecg") for n in range(5)]
    case = await world.create(attachment_ids=[file["id"] for file in reversed(stored)])
    params = {"related": f"ServiceRequest/{case['id']}", "_count": "2"}
    response = await world.stack.client.get(
        f"{FHIR}/DocumentReference", params=params, headers=world.medic.headers
    )
    found: list[str] = []
    while True:
        assert response.status_code == 200, response.text
        bundle = response.json()
        found += [entry["resource"]["id"] for entry in bundle.get("entry", [])]
        links = {link["relation"]: link["url"] for link in bundle["link"]}
        if "next" not in links:
            break
        # The link is absolute, on the deployment's public address; this client is the
        # gateway in process, so it follows the link's path and query.
        parts = urlsplit(links["next"])
        response = await world.stack.client.get(
            f"{parts.path}?{parts.query}", headers=world.medic.headers
        )
    assert found == [file["id"] for file in stored]
    earlier = await document_ids(world, world.medic, date=f"lt{stored[0]['created_at']}", **params)
    assert earlier == []


async def test_no_route_puts_another_organisations_file_into_a_case(world: World) -> None:
    """Organisation A (the medic's hospital) has a case; organisation B (the other medic's)
    tries every route to make one of its files show among that case's attachments."""
    a, b = world.medic, world.other_medic
    ecg = await world.upload(samples.pdf_bytes(), "ECG.pdf", "ecg")
    case = await world.create(attachment_ids=[ecg["id"]], submit=True)
    case_id = case["id"]
    client = world.stack.client
    data = samples.pdf_bytes()

    # Uploads naming A's case: refused, whatever the route.
    by_query = await client.post(
        f"{FILES}/files", content=data, params={"case_id": case_id}, headers=b.headers
    )
    by_form = await client.post(
        f"{FILES}/files",
        files={"file": ("x.pdf", data, "application/pdf")},
        data={"case_id": case_id},
        headers=b.headers,
    )
    metadata = f"filename {base64.b64encode(b'x.pdf').decode()},case_id " + (
        base64.b64encode(case_id.encode()).decode()
    )
    by_tus = await client.post(
        f"{FILES}/uploads",
        headers=b.headers
        | {"Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)), "Upload-Metadata": metadata},
    )
    for refused in (by_query, by_form, by_tus):
        assert refused.status_code == 422, refused.text
        assert refused.json()["parameter"] == "case_id"

    # B's own file, pinned by hand: no grant, a forged one, A's, one for A's subject.
    planted = await world.upload(data, "planted.pdf", "other", actor=b)
    forger = GrantIssuer(Ed25519PrivateKey.generate(), issuer="consult")
    forged, _ = forger.issue(
        audience="files", subject=b.id, purpose="case.pin", case_id=uuid.UUID(case_id),
        file_ids=[uuid.UUID(planted["id"])],
    )  # fmt: skip
    a_read_grant = await world.grant(a, case_id)
    for grant in (
        None,
        forged,
        a_read_grant,
        issue(world, a, "case.pin", case_id, planted["id"]),
        issue(world, b, "case.read", case_id, planted["id"]),
    ):
        pinned = await client.put(
            f"{FILES}/files/{planted['id']}/case",
            json={"case_id": case_id},
            headers=b.headers | ({GRANT_HEADER: grant} if grant else {}),
        )
        assert pinned.status_code == 403, pinned.text
    removed = await client.post(
        f"{FILES}/files/{planted['id']}/attach", json={"case_id": case_id}, headers=b.headers
    )
    assert removed.status_code == 404

    # Through consult: B cannot see A's case, nor attach A's file to a case of its own.
    for method, path, body in (
        ("PATCH", f"/cases/{case_id}", {"attachment_ids": [ecg["id"], planted["id"]]}),
        ("POST", f"/cases/{case_id}/provide-info", {"message": "x", "attachment_ids": []}),
        ("POST", f"/cases/{case_id}/attachments/grant", None),
    ):
        response = await client.request(method, f"{CONSULT}{path}", json=body, headers=b.headers)
        assert response.status_code == 404, (path, response.text)
    # B re-using A's read grant.
    assert (await content(world, b, ecg["id"], a_read_grant)).status_code == 403

    # B attaches its file the one legitimate way: to a case of its own, for the same patient.
    own = await world.create(b, attachment_ids=[planted["id"]], submit=True)
    assert await bound_case(world, planted["id"]) == own["id"]

    # The listings: consult's case, FHIR by case and by patient, and files' own listing.
    assert (await content(world, a, planted["id"], a_read_grant)).status_code == 404
    related, patient = f"ServiceRequest/{case_id}", {"patient:identifier": "MIS-42-000123"}
    for reader in (a, world.cardiologist):
        assert await document_ids(world, reader, related=related) == [ecg["id"]]
    assert await document_ids(world, a, **patient) == [ecg["id"]]
    assert await document_ids(world, b, related=related) == []
    assert await document_ids(world, b, **patient) == [planted["id"]]
    listing = await client.get(f"{FILES}/files", params={"case_id": case_id}, headers=b.headers)
    assert listing.status_code == 405
    read = await client.get(f"{CONSULT}/cases/{case_id}", headers=a.headers)
    assert read.json()["attachment_ids"] == [ecg["id"]]
    query = select(StoredFile.id).where(StoredFile.case_id == uuid.UUID(case_id))
    async with world.stack.apps["files"].state.database.sessionmaker() as session:
        bound = [str(file_id) for file_id in (await session.scalars(query)).all()]
    assert bound == [ecg["id"]]


async def test_a_consult_rollback_leaves_no_file_bound(world: World) -> None:
    client, medic = world.stack.client, world.medic
    good = await world.upload(samples.pdf_bytes(), "ECG.pdf", "ecg")
    foreign = await world.upload(samples.pdf_bytes(), "x.pdf", "other", actor=world.other_medic)

    # A create that fails after the good file passed the check.
    failed = await client.post(
        f"{CONSULT}/cases",
        json=world.case_body(attachment_ids=[good["id"], foreign["id"]]),
        headers=medic.headers,
    )
    assert failed.status_code == 422, failed.text
    assert await bound_case(world, good["id"]) is None

    draft = await world.create()
    path = f"{CONSULT}/cases/{draft['id']}"
    attempts: list[tuple[dict[str, Any], dict[str, str], int]] = [
        # An edit that fails after the check: the new target is no regional centre.
        (
            {"attachment_ids": [good["id"]], "target_organization_id": world.hospital["id"]},
            {},
            422,
        ),
        # An edit made against a stale version.
        ({"attachment_ids": [good["id"]]}, {"If-Match": f'"{draft["version"] + 5}"'}, 412),
    ]
    for body, headers, status in attempts:
        response = await client.patch(path, json=body, headers=medic.headers | headers)
        assert response.status_code == status, response.text
        assert await bound_case(world, good["id"]) is None
    unchanged = await client.get(path, headers=medic.headers)
    assert unchanged.json()["attachment_ids"] == []

    saved = await client.patch(
        path,
        json={"attachment_ids": [good["id"]]},
        headers=medic.headers | {"If-Match": f'"{draft["version"]}"'},
    )
    assert saved.status_code == 200, saved.text
    assert await bound_case(world, good["id"]) == draft["id"]
