"""A case's files through the console: resumable uploads relayed to the files service (the
person's token never reaches the page), a finished upload joining the draft, a plain form for
browsers without scripts, files shown inline and downloaded with `Range` through the console,
a DICOM study's facts and its de-identified copy; no token in any link."""

import base64
import hashlib
import re

import httpx

from tests.files.samples import dicom_bytes, pdf_bytes, png_bytes
from tests.web.clinic import Clinic
from tests.web.conftest import csrf_of

TUS = {"Tus-Resumable": "1.0.0"}
CHUNK = 1024 * 1024
# A JWT, or a parameter that would carry a token or a grant.
TOKEN_IN_URL = re.compile(r"eyJ[\w-]+\.[\w-]+|[?&](access_token|refresh_token|token|grant)=")


def metadata(**values: str) -> str:
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in values.items()
    )


async def relay_upload(
    browser: httpx.AsyncClient, csrf: str, content: bytes, name: str, *, stop_at: int | None = None
) -> str:
    """A tus upload through the console's relay in 1 MiB PATCHes, as the page's tus-js-client
    sends it; returns the upload's path. With `stop_at`, the upload is left there."""
    headers = {**TUS, "X-CSRF-Token": csrf}
    created = await browser.post(
        "/uploads",
        headers={
            **headers,
            "Upload-Length": str(len(content)),
            "Upload-Metadata": metadata(filename=name, kind="ecg"),
        },
    )
    assert created.status_code == 201, created.text
    location = created.headers["location"]
    assert re.fullmatch(r"/uploads/[0-9a-f-]{36}", location), location
    offset = 0
    while offset < (stop_at or len(content)):
        patched = await browser.patch(
            location,
            content=content[offset : offset + CHUNK],
            headers={
                **headers,
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
            },
        )
        assert patched.status_code == 204, patched.text
        offset = int(patched.headers["upload-offset"])
    return location


async def test_an_upload_resumes_from_the_servers_offset_and_joins_the_draft(
    clinic: Clinic,
) -> None:
    draft = await clinic.case()
    path = f"/cases/{draft['id']}"
    content = pdf_bytes() + b"%" + bytes(range(256)) * 12_000  # about 3 MB
    async with clinic.browser(clinic.medic) as browser:
        page = await clinic.console.page(browser, path)
        assert 'data-uploads data-case="' in page.text
        assert f'data-chunk-size="{CHUNK}"' in page.text
        csrf = csrf_of(page)
        location = await relay_upload(browser, csrf, content, "ECG.pdf", stop_at=CHUNK)
        # A reload later: where does the server have it?
        head = await browser.head(location, headers={**TUS, "X-CSRF-Token": csrf})
        assert head.status_code == 200
        offset = int(head.headers["upload-offset"])
        assert offset == CHUNK
        patch = {**TUS, "X-CSRF-Token": csrf, "Content-Type": "application/offset+octet-stream"}
        # More than the API's body limit in one PATCH is refused: the page sends 1 MiB parts.
        whole = await browser.patch(
            location, content=content[offset:], headers={**patch, "Upload-Offset": str(offset)}
        )
        assert whole.status_code == 413
        while offset < len(content):
            rest = await browser.patch(
                location,
                content=content[offset : offset + CHUNK],
                headers={**patch, "Upload-Offset": str(offset)},
            )
            assert rest.status_code == 204, rest.text
            offset = int(rest.headers["upload-offset"])
        attached = await browser.post(
            f"{path}/attachments",
            headers={"HX-Request": "true"},
            data={"csrf_token": csrf, "upload": location.split("/")[-1]},
        )
        assert attached.status_code == 200
        assert attached.text.lstrip().startswith('<div id="attachments">')
        assert "ECG.pdf" in attached.text
    stored = await clinic.read(clinic.medic, draft["id"])
    (attachment,) = stored["attachments"]
    assert attachment["display_name"] == "ECG.pdf"
    assert attachment["sha256"] == hashlib.sha256(content).hexdigest()
    assert attachment["size"] == len(content)


async def test_the_relay_wants_a_signed_in_page_and_its_csrf_token(clinic: Clinic) -> None:
    create = {**TUS, "Upload-Length": "10"}
    async with clinic.console.browser() as anonymous:
        assert (await anonymous.post("/uploads", headers=create)).status_code == 403
    async with clinic.browser(clinic.medic) as browser:
        assert (await browser.post("/uploads", headers=create)).status_code == 403
        wrong = await browser.post("/uploads", headers={**create, "X-CSRF-Token": "guess"})
        assert wrong.status_code == 403
        page = await clinic.console.page(browser, "/cases")
        # Another person's upload is theirs: the files service answers 404 through the relay.
        location = await relay_upload(browser, csrf_of(page), png_bytes(), "x.png", stop_at=1)
    async with clinic.browser(clinic.other_medic) as other:
        page = await clinic.console.page(other, "/cases")
        head = await other.head(location, headers={**TUS, "X-CSRF-Token": csrf_of(page)})
        assert head.status_code == 404


async def test_without_a_script_the_form_sends_the_file_whole(clinic: Clinic) -> None:
    draft = await clinic.case()
    path = f"/cases/{draft['id']}"
    async with clinic.browser(clinic.medic) as browser:
        page = await clinic.console.page(browser, path)
        sent = await browser.post(
            f"{path}/files",
            data={"csrf_token": csrf_of(page), "kind": "photo"},
            files={"file": ("wound.png", png_bytes())},
        )
        assert sent.status_code == 303
        assert sent.headers["location"] == f"{path}?saved=attached#attachments"
        empty = await browser.post(
            f"{path}/files", data={"csrf_token": csrf_of(page)}, files={"file": ("", b"")}
        )
        assert empty.status_code == 422
        assert "Choose a file first." in empty.text
        refused = await browser.post(
            f"{path}/files",
            data={"csrf_token": csrf_of(page)},
            files={"file": ("run.pdf", b"MZ\x90\x00 not a pdf")},
        )
        assert refused.status_code == 415
        shown = await clinic.console.page(browser, path)
        (file_id,) = re.findall(rf'href="{path}/files/([0-9a-f-]+)">wound.png', shown.text)
        removed = await clinic.post(browser, path, f"{path}/attachments/{file_id}/remove")
        assert removed.status_code == 303
    stored = await clinic.read(clinic.medic, draft["id"])
    assert stored["attachments"] == []


async def test_files_are_shown_and_downloaded_through_the_console(clinic: Clinic) -> None:
    draft = await clinic.case()
    path = f"/cases/{draft['id']}"
    pdf, study = pdf_bytes(), dicom_bytes()
    async with clinic.browser(clinic.medic) as browser:
        page = await clinic.console.page(browser, path)
        for name, content, kind in (("ECG.pdf", pdf, "ecg"), ("chest.dcm", study, "imaging")):
            sent = await browser.post(
                f"{path}/files",
                data={"csrf_token": csrf_of(page), "kind": kind},
                files={"file": (name, content)},
            )
            assert sent.status_code == 303, sent.text
        await clinic.post(browser, path, f"{path}/submit")
    async with clinic.browser(clinic.cardiologist) as browser:
        page = await clinic.console.page(browser, path)
        links = re.findall(r'href="([^"]+)"', page.text)
        assert not [link for link in links if TOKEN_IN_URL.search(link)]
        pdf_id = re.search(rf'href="{path}/files/([0-9a-f-]+)">ECG.pdf', page.text)[1]  # type: ignore[index]
        dicom_id = re.search(rf'href="{path}/files/([0-9a-f-]+)">chest.dcm', page.text)[1]  # type: ignore[index]
        assert f"{path}/files/{pdf_id}/content?inline=true" in page.text

        inline = await browser.get(f"{path}/files/{pdf_id}/content?inline=true")
        assert inline.status_code == 200
        assert inline.content == pdf
        assert inline.headers["content-type"] == "application/pdf"
        assert inline.headers["content-disposition"].startswith("inline")
        assert inline.headers["cache-control"] == "private, no-store"
        part = await browser.get(f"{path}/files/{pdf_id}/content", headers={"Range": "bytes=0-4"})
        assert part.status_code == 206
        assert part.content == b"%PDF-"
        assert part.headers["content-range"] == f"bytes 0-4/{len(pdf)}"
        assert part.headers["content-disposition"].startswith("attachment")

        facts = await clinic.console.page(browser, f"{path}/files/{dicom_id}")
        assert "DICOM study" in facts.text
        assert "<dd>CR</dd>" in facts.text
        assert f'href="{path}/files/{dicom_id}/deidentified"' in facts.text
        copy = await browser.get(f"{path}/files/{dicom_id}/deidentified")
        assert copy.status_code == 200
        assert copy.content[128:132] == b"DICM"
        assert b"PID-0042" in study
        assert b"PID-0042" not in copy.content
        assert copy.headers["content-security-policy"].startswith("sandbox")

        # A file that is not this case's: the not-found page, whoever owns it.
        other = await clinic.case(submit=True)
        elsewhere = await browser.get(f"/cases/{other['id']}/files/{pdf_id}/content")
        assert elsewhere.status_code == 404
        assert "Page not found" in elsewhere.text
