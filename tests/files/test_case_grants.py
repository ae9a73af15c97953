"""Files and cases: no upload names a case, a file is pinned only with consult's grant for its
owner, and a reader who is not the owner needs consult's read grant naming the file."""

import base64
import uuid
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from services.common.grants import GRANT_HEADER, GrantIssuer
from services.files.models import KERNEL_TABLES, StoredFile, Upload
from tests.conftest import Actor
from tests.files import samples
from tests.files.conftest import FILES, FilesWorld, sha256

# These rules do not depend on the store; the local one keeps them quick.
pytestmark = pytest.mark.parametrize("backend", ["local"])
READ, PIN = "case.read", "case.pin"


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


async def rows(files: FilesWorld, model: type[StoredFile] | type[Upload]) -> int:
    async with files.stack.apps["files"].state.database.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def pin(
    files: FilesWorld, actor: Actor, file_id: str, case_id: uuid.UUID, grant: str | None
) -> httpx.Response:
    return await files.client.put(
        f"{FILES}/files/{file_id}/case",
        json={"case_id": str(case_id)},
        headers=actor.headers | ({GRANT_HEADER: grant} if grant else {}),
    )


async def test_no_upload_route_takes_a_case_and_nothing_is_kept(files: FilesWorld) -> None:
    case_id = str(uuid.uuid4())
    data = samples.pdf_bytes()
    by_query = await files.client.post(
        f"{FILES}/files",
        content=data,
        params={"name": "x.pdf", "case_id": case_id},
        headers=files.medic.headers,
    )
    refused = problem(by_query, 422)
    assert refused["parameter"] == "case_id"
    assert "attachment_ids" in refused["detail"]
    for fields in ({"case_id": case_id}, {"kind": "lab_result", "case_id": ""}):
        by_form = await files.client.post(
            f"{FILES}/files",
            files={"file": ("x.pdf", data, "application/pdf")},
            data=fields,
            headers=files.medic.headers,
        )
        assert problem(by_form, 422)["parameter"] == "case_id"
    metadata = ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}"
        for key, value in {"filename": "x.pdf", "case_id": case_id}.items()
    )
    by_tus = await files.client.post(
        f"{FILES}/uploads",
        headers=files.medic.headers
        | {"Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)), "Upload-Metadata": metadata},
    )
    assert problem(by_tus, 422)["parameter"] == "case_id"
    assert by_tus.headers["Tus-Resumable"] == "1.0.0"
    assert files.stored_objects() == []
    assert (await rows(files, StoredFile), await rows(files, Upload)) == (0, 0)
    # Without the field the same upload is stored, and bound to no case.
    stored = await files.upload(data)
    assert stored["case_id"] is None


async def test_the_attach_route_and_the_listing_by_case_are_gone(files: FilesWorld) -> None:
    stored = await files.upload(samples.pdf_bytes())
    attach = await files.client.post(
        f"{FILES}/files/{stored['id']}/attach",
        json={"case_id": str(uuid.uuid4())},
        headers=files.medic.headers,
    )
    problem(attach, 404)
    listing = await files.client.get(
        f"{FILES}/files", params={"case_id": str(uuid.uuid4())}, headers=files.medic.headers
    )
    problem(listing, 405)


async def test_a_pin_needs_consults_grant_for_this_caller_file_and_case(
    files: FilesWorld,
) -> None:
    stored = await files.upload(samples.pdf_bytes())
    file_id, case_id, medic = stored["id"], uuid.uuid4(), files.medic
    forger = GrantIssuer(Ed25519PrivateKey.generate(), issuer="consult")
    forged, _ = forger.issue(
        audience="files", subject=medic.id, purpose=PIN, case_id=case_id,
        file_ids=[uuid.UUID(file_id)],
    )  # fmt: skip
    refused = {
        "none": None,
        "forged": forged,
        "someone else's": files.grant(files.colleague, PIN, case_id, file_id),
        "to read": files.grant(medic, READ, case_id, file_id),
        "another case's": files.grant(medic, PIN, uuid.uuid4(), file_id),
        "another file's": files.grant(medic, PIN, case_id, str(uuid.uuid4())),
        "expired": files.grant(medic, PIN, case_id, file_id, ttl_seconds=-120),
        "not a grant": "garbage",
    }
    for name, grant in refused.items():
        response = await pin(files, medic, file_id, case_id, grant)
        assert response.status_code == 403, (name, response.text)
        problem(response, 403)
    assert (await files.client.get(f"{FILES}/files/{file_id}", headers=medic.headers)).json()[
        "case_id"
    ] is None

    # The grant is for one caller: a stranger with their own grant may not pin our file.
    stranger = await pin(
        files, files.stranger, file_id, case_id, files.grant(files.stranger, PIN, case_id, file_id)
    )
    problem(stranger, 404)

    granted = files.grant(medic, PIN, case_id, file_id)
    first = await pin(files, medic, file_id, case_id, granted)
    assert first.status_code == 200, first.text
    assert first.json()["case_id"] == str(case_id)
    again = await pin(files, medic, file_id, case_id, files.grant(medic, PIN, case_id, file_id))
    assert (again.status_code, again.json()) == (200, first.json())
    elsewhere = uuid.uuid4()
    moved = await pin(files, medic, file_id, elsewhere, files.grant(medic, PIN, elsewhere, file_id))
    problem(moved, 409)

    records = KERNEL_TABLES.audit.records
    async with files.stack.apps["files"].state.database.sessionmaker() as session:
        query = select(records.c.outcome, records.c.actor_id).where(records.c.action == "file.pin")
        trail = [(row.outcome, row.actor_id) for row in await session.execute(query)]
    assert trail.count(("denied", str(medic.id))) == len(refused)
    assert ("denied", str(files.stranger.id)) in trail
    assert trail.count(("success", str(medic.id))) == 2
    assert ("failed", str(medic.id)) in trail  # the 409


async def test_a_read_grant_opens_the_files_it_names_to_its_holder_only(
    files: FilesWorld,
) -> None:
    data = samples.dicom_bytes(pixel_bytes_len=2048)
    scan = await files.upload(data, name="CT.dcm", kind="imaging")
    other = await files.upload(samples.pdf_bytes())
    case_id, reader = uuid.uuid4(), files.cardiologist
    pinned = files.grant(files.medic, PIN, case_id, scan["id"])
    assert (await pin(files, files.medic, scan["id"], case_id, pinned)).status_code == 200
    grant = files.grant(reader, READ, case_id, scan["id"])
    with_grant = reader.headers | {GRANT_HEADER: grant}
    base = f"{FILES}/files/{scan['id']}"

    assert (await files.client.get(base, headers=reader.headers)).status_code == 404
    assert (await files.client.get(base, headers=with_grant)).json()["sha256"] == sha256(data)
    whole = await files.client.get(f"{base}/content", headers=with_grant)
    assert whole.content == data
    linked = await files.client.get(
        f"{base}/content", params={"grant": grant}, headers=reader.headers
    )
    assert linked.content == data
    part = await files.client.get(f"{base}/content", headers=with_grant | {"Range": "bytes=0-9"})
    assert (part.status_code, part.content) == (206, data[:10])
    copy = await files.client.get(f"{base}/deidentified", headers=with_grant)
    assert copy.status_code == 200, copy.text
    link = await files.client.post(f"{base}/link", json={}, headers=with_grant)
    assert link.status_code == 200, link.text
    fhir = await files.client.get(f"/api/fhir/DocumentReference/{scan['id']}", headers=with_grant)
    assert fhir.status_code == 200, fhir.text
    assert fhir.json()["context"]["related"] == [{"reference": f"ServiceRequest/{case_id}"}]
    assert "subject" not in fhir.json()  # the case's patient is consult's to say

    # Not a file it names; a file pinned to another case; a grant of another case.
    for file_id, token in (
        (other["id"], grant),
        (scan["id"], files.grant(reader, READ, uuid.uuid4(), scan["id"])),
    ):
        response = await files.client.get(
            f"{FILES}/files/{file_id}/content", headers=reader.headers | {GRANT_HEADER: token}
        )
        problem(response, 404)
    # Someone else's grant, an expired one, one to pin: refused as what they are.
    for who, token in (
        (files.stranger, grant),
        (reader, files.grant(reader, READ, case_id, scan["id"], ttl_seconds=-120)),
        (reader, files.grant(reader, PIN, case_id, scan["id"])),
    ):
        response = await files.client.get(
            f"{base}/content", params={"grant": token}, headers=who.headers
        )
        problem(response, 403)
    # The owner needs no grant, and a broken one does not lock them out of their own file.
    owner = await files.client.get(f"{base}/content", headers=files.medic.headers)
    assert owner.content == data
