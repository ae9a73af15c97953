"""The files API through the gateway, on both stores: uploads, checks, downloads, links, access."""

import hashlib
import io
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pydicom
import pytest
from sqlalchemy import select

from services.common.audit import verify_chain
from services.common.db import utcnow
from services.files.downloads import LinkClaims
from services.files.maintenance import sweep
from services.files.models import KERNEL_TABLES, StoredFile
from services.files.settings import MIB
from tests.files import samples
from tests.files.conftest import FILES, FilesWorld, sha256


async def test_a_raw_upload_streams_in_and_downloads_byte_for_byte(files: FilesWorld) -> None:
    data = samples.dicom_bytes(pixel_bytes_len=4096) + b"\x00" * (11 * 1024 * 1024)
    created = await files.upload(data, name="CT head.dcm", kind="imaging")
    assert created["size"] == len(data)
    assert created["sha256"] == sha256(data)
    assert created["media_type"] == "application/dicom"
    assert created["dicom"]["modality"] == "CR"
    assert "patient" not in str(created["dicom"]).lower()
    response = await files.content(created["id"])
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == created["sha256"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert len(files.stored_objects()) == 1


async def test_a_multipart_form_upload_takes_its_fields_from_the_form(files: FilesWorld) -> None:
    data = samples.pdf_bytes()
    response = await files.client.post(
        f"{FILES}/files",
        files={"file": ("../../etc/выписка.pdf", data, "application/x-msdownload")},
        data={"kind": "record_extract", "sha256": sha256(data)},
        headers=files.medic.headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["kind"], body["media_type"]) == ("record_extract", "application/pdf")
    assert body["display_name"] == "выписка.pdf"
    assert response.headers["location"] == f"{FILES}/files/{body['id']}"


@pytest.mark.parametrize("cut", ["mid-file", "at-the-closing-boundary"])
async def test_a_multipart_body_cut_short_is_400_and_nothing_is_kept(
    files: FilesWorld, cut: str
) -> None:
    boundary = "telemed-cut-short"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nlab_result\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="result.pdf"'
        "\r\nContent-Type: application/pdf\r\n\r\n"
    ).encode()
    data = samples.pdf_bytes() + b"0" * (6 * MIB)  # more than a part: some reaches the store
    body = head + data[: len(data) // 2] if cut == "mid-file" else head + data
    body += f"\r\n--{boundary}".encode() if cut == "at-the-closing-boundary" else b""

    async def arrives_in_pieces() -> AsyncIterator[bytes]:  # chunked, as a dropped link ends
        for start in range(0, len(body), 256 * 1024):
            yield body[start : start + 256 * 1024]

    response = await files.client.post(
        f"{FILES}/files",
        content=arrives_in_pieces(),
        headers=files.medic.headers | {"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "closing boundary" in response.json()["detail"]
    assert files.stored_objects() == []
    async with files.stack.apps["files"].state.database.sessionmaker() as session:
        assert (await session.scalars(select(StoredFile))).all() == []


async def test_a_wrong_sha256_is_refused_and_nothing_is_kept(files: FilesWorld) -> None:
    data = samples.pdf_bytes()
    response = await files.client.post(
        f"{FILES}/files",
        content=data,
        params={"sha256": sha256(b"other")},
        headers=files.medic.headers,
    )
    assert response.status_code == 422
    assert response.json()["actual_sha256"] == sha256(data)
    assert files.stored_objects() == []


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (samples.windows_executable(), "results.pdf"),
        (samples.elf_executable(), "scan.png"),
        (b"<html><script>alert(1)</script></html>", "note.txt"),
        (samples.docx_bytes(macros=True), "letter.docx"),
    ],
    ids=["exe-as-pdf", "elf-as-png", "html", "macro-docx"],
)
async def test_disguised_and_dangerous_content_is_refused(
    files: FilesWorld, content: bytes, name: str
) -> None:
    response = await files.client.post(
        f"{FILES}/files", content=content, params={"name": name}, headers=files.medic.headers
    )
    assert response.status_code == 415, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert files.stored_objects() == []


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
async def test_oversize_files_get_413_and_nothing_is_kept(
    files: FilesWorld, declared: bool
) -> None:
    limit = files.settings.max_file_size
    chunk = samples.pdf_bytes() + b"\x00" * (1024 * 1024)

    async def stream() -> Any:
        sent = 0
        while sent <= limit:
            yield chunk
            sent += len(chunk)

    content: Any = chunk * (limit // len(chunk) + 1) if declared else stream()
    response = await files.client.post(
        f"{FILES}/files", content=content, params={"name": "big.pdf"}, headers=files.medic.headers
    )
    assert response.status_code == 413
    assert response.json()["max_size"] == limit
    assert files.stored_objects() == []


@pytest.mark.parametrize(
    ("declared", "kept"),
    [
        ("../../../etc/passwd", "passwd"),
        ("C:\\Windows\\System32\\report.pdf", "report.pdf"),
        ("scan\x00\x1b[31m.pdf", "scan[31m.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("a" * 1000 + ".pdf", "a" * 251 + ".pdf"),
    ],
)
async def test_declared_names_are_kept_only_as_safe_display_text(
    files: FilesWorld, declared: str, kept: str
) -> None:
    created = await files.upload(samples.pdf_bytes(), name=declared)
    assert created["display_name"] == kept
    response = await files.content(created["id"])
    assert "\n" not in response.headers["content-disposition"]
    assert "/" not in response.headers["content-disposition"].split("filename*=")[0]


async def test_range_requests(files: FilesWorld) -> None:
    data = samples.pdf_bytes() + bytes(range(256)) * 4000
    created = await files.upload(data)
    cases = {"bytes=0-99": data[:100], "bytes=1000-": data[1000:], "bytes=-50": data[-50:]}
    for header, expected in cases.items():
        response = await files.content(created["id"], Range=header)
        assert response.status_code == 206, header
        assert response.content == expected
        assert response.headers["content-range"].endswith(f"/{len(data)}")
    beyond = await files.content(created["id"], Range=f"bytes={len(data)}-")
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(data)}"
    stale = await files.client.get(
        f"{FILES}/files/{created['id']}/content",
        headers=files.medic.headers | {"Range": "bytes=0-9", "If-Range": '"stale"'},
    )
    assert stale.status_code == 200
    assert stale.content == data


async def test_a_link_opens_the_file_without_a_token_until_it_expires(files: FilesWorld) -> None:
    data = samples.png_bytes()
    created = await files.upload(data, name="rash.png", kind="photo")
    response = await files.client.post(
        f"{FILES}/files/{created['id']}/link", json={"seconds": 60}, headers=files.medic.headers
    )
    assert response.status_code == 200, response.text
    url = response.json()["url"]
    if files.backend == "s3":
        assert url.startswith(f"http://{files.settings.s3_endpoint}/")
        async with httpx.AsyncClient() as browser:
            fetched = await browser.get(url)
    else:
        fetched = await files.client.get(url.removeprefix(files.settings.public_url))
    assert fetched.status_code == 200
    assert fetched.content == data
    assert fetched.headers["content-type"] == "image/png"


async def test_links_carry_their_expiry_and_expired_ones_no_longer_open(
    files: FilesWorld,
) -> None:
    created = await files.upload(samples.pdf_bytes())
    response = await files.client.post(
        f"{FILES}/files/{created['id']}/link", json={"seconds": 120}, headers=files.medic.headers
    )
    link = response.json()
    lifetime = datetime.fromisoformat(link["expires_at"]) - utcnow()
    assert timedelta(seconds=100) < lifetime <= timedelta(seconds=120)
    if files.backend == "s3":
        # The S3 server enforces the signed expiry; moto does not, so check what is signed.
        query = parse_qs(urlsplit(link["url"]).query)
        assert query["X-Amz-Expires"] == ["120"]
        assert query["response-content-disposition"][0].startswith("attachment;")
        return
    signer = files.stack.apps["files"].state.link_signer
    expired = signer.sign(
        LinkClaims(uuid.UUID(created["id"]), utcnow() - timedelta(seconds=1), False)
    )
    assert (await files.client.get(f"{FILES}/links/{expired}")).status_code == 404
    token = link["url"].rsplit("/", 1)[1]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert (await files.client.get(f"{FILES}/links/{forged}")).status_code == 404
    too_long = await files.client.post(
        f"{FILES}/files/{created['id']}/link", json={"seconds": 86_400}, headers=files.medic.headers
    )
    assert too_long.status_code == 422


async def test_a_link_token_of_any_characters_is_a_plain_404(files: FilesWorld) -> None:
    """A token is compared in constant time as bytes: non-ASCII is simply not equal (it was a
    500 from `hmac.compare_digest`)."""
    for token in ("abc.%C3%A9", "%C3%A9%C3%A9.%F0%9F%A9%BA", "abc.", "no-dot", "a.b.c", "%FF.%FE"):
        response = await files.client.get(f"{FILES}/links/{token}")
        assert response.status_code == 404, token
        assert response.headers["content-type"] == "application/problem+json", token


async def test_other_organisations_get_404_everywhere(files: FilesWorld) -> None:
    created = await files.upload(samples.pdf_bytes())
    file_id = created["id"]
    colleague = await files.client.get(f"{FILES}/files/{file_id}", headers=files.colleague.headers)
    assert colleague.status_code == 200
    for actor in (files.stranger, files.cardiologist, files.patient):
        for method, path, body in (
            ("GET", f"/files/{file_id}", None),
            ("GET", f"/files/{file_id}/content", None),
            ("POST", f"/files/{file_id}/link", {}),
            ("DELETE", f"/files/{file_id}", None),
        ):
            response = await files.client.request(
                method, f"{FILES}{path}", json=body, headers=actor.headers
            )
            assert response.status_code == 404, (actor.role, method, path)


async def test_downloads_links_and_denials_are_audited(files: FilesWorld) -> None:
    created = await files.upload(samples.pdf_bytes())
    await files.content(created["id"])
    await files.client.post(
        f"{FILES}/files/{created['id']}/link", json={}, headers=files.medic.headers
    )
    await files.content(created["id"], actor=files.stranger)
    database = files.stack.apps["files"].state.database
    records = KERNEL_TABLES.audit.records
    async with database.sessionmaker() as session:
        rows = (await session.execute(select(records).order_by(records.c.id))).mappings().all()
        assert (await verify_chain(session, KERNEL_TABLES.audit)).broken_chain is None
    seen = {(row["action"], row["outcome"], str(row["actor_id"])) for row in rows}
    assert ("file.upload", "success", str(files.medic.id)) in seen
    assert ("file.download", "success", str(files.medic.id)) in seen
    assert ("file.link", "success", str(files.medic.id)) in seen
    assert ("file.download", "denied", str(files.stranger.id)) in seen


async def test_deidentified_dicom_download(files: FilesWorld) -> None:
    data = samples.dicom_bytes(pixel_bytes_len=2048)
    created = await files.upload(data, name="Ivanov CT.dcm", kind="imaging")
    response = await files.client.get(
        f"{FILES}/files/{created['id']}/deidentified", headers=files.medic.headers
    )
    assert response.status_code == 200, response.text
    assert "Ivanov" not in response.headers["content-disposition"]
    original = pydicom.dcmread(io.BytesIO(data))
    cleaned = pydicom.dcmread(io.BytesIO(response.content))
    assert str(cleaned.PatientName) != str(original.PatientName)
    assert cleaned.PatientIdentityRemoved == "YES"
    assert cleaned.StudyInstanceUID != original.StudyInstanceUID
    assert cleaned.PixelData == original.PixelData
    not_dicom = await files.upload(samples.pdf_bytes())
    response = await files.client.get(
        f"{FILES}/files/{not_dicom['id']}/deidentified", headers=files.medic.headers
    )
    assert response.status_code == 409


async def test_delete_is_soft_until_retention_ends_and_a_legal_hold_blocks_it(
    files: FilesWorld,
) -> None:
    held = await files.upload(samples.pdf_bytes())
    hold = await files.client.put(
        f"{FILES}/files/{held['id']}/legal-hold",
        json={"hold": True, "reason": "Court request 2-114/2026"},
        headers=files.coordinator.headers,
    )
    assert hold.status_code == 200
    assert hold.json()["legal_hold"] is True
    refused = await files.client.delete(f"{FILES}/files/{held['id']}", headers=files.medic.headers)
    assert refused.status_code == 409
    doomed = await files.upload(samples.png_bytes())
    deleted = await files.client.delete(
        f"{FILES}/files/{doomed['id']}", headers=files.medic.headers
    )
    assert deleted.status_code == 204
    assert (await files.content(doomed["id"])).status_code == 404
    app = files.stack.apps["files"]
    assert len(files.stored_objects()) == 2  # kept through the retention period
    later = utcnow() + files.settings.deleted_retention + timedelta(days=1)
    assert (await sweep(app.state.database, app.state.store, later)).purged_files == 1
    assert len(files.stored_objects()) == 1


async def test_only_staff_and_patients_upload(files: FilesWorld) -> None:
    admin = files.stack.admin
    assert admin is not None
    response = await files.client.post(
        f"{FILES}/files", content=samples.pdf_bytes(), headers=admin.headers
    )
    assert response.status_code == 403
    own = await files.upload(samples.pdf_bytes(), actor=files.patient)
    assert own["organization_id"] is None
    response = await files.client.get(f"{FILES}/files/{own['id']}", headers=files.patient.headers)
    assert response.status_code == 200
    response = await files.client.get(f"{FILES}/files/{own['id']}", headers=files.medic.headers)
    assert response.status_code == 404
