"""A Python client generated from the aggregated document with `openapi-python-client` (into
the test's own folder, never committed) is used end to end as a regional MIS's developer would:
a medic uploads a file and opens a case with it, a specialist concludes, the medic reads the
signed conclusion. The generator keeps every model and operation it is given."""

import base64
import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from telemed.samples import sample_case
from tests.conftest import Actor, Stack
from tests.files import samples

PACKAGE = "telemed_api_client"
# DICOM downloads and tus's chunks are bytes to a client like any other; the generator knows
# only its own list.
CONFIG = {
    "post_hooks": [],
    "content_type_overrides": {
        "application/dicom": "application/octet-stream",
        "application/offset+octet-stream": "application/octet-stream",
    },
}
CONCLUSION = {
    "findings": "NSTEMI, high GRACE risk.",
    "diagnosis_text": "Acute subendocardial myocardial infarction",
    "diagnosis_codes": ["I21.4"],
    "recommendations": "Transfer to the PCI centre within 24 hours.",
    "recommended_tests": ["troponin in 3 hours"],
    "in_person_visit_needed": True,
    "hospitalisation_needed": True,
}


@pytest.fixture(scope="module")
def generated(
    document: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ModuleType, str]]:
    """The generated package, imported, and what the generator said about the document."""
    folder = tmp_path_factory.mktemp("client")
    (folder / "openapi.json").write_text(json.dumps(document))
    (folder / "config.json").write_text(json.dumps(CONFIG))
    run = subprocess.run(
        [str(Path(sys.executable).with_name("openapi-python-client")), "generate",
         "--path", "openapi.json", "--config", "config.json", "--meta", "none",
         "--output-path", PACKAGE],
        cwd=folder, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE), run.stdout + run.stderr
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def test_the_generator_keeps_every_model_and_operation(
    generated: tuple[ModuleType, str], document: dict[str, Any]
) -> None:
    _, said = generated
    assert "warning" not in said.lower(), said
    models = importlib.import_module(f"{PACKAGE}.models")
    for name in ("CaseOut", "ConclusionOut", "ConsiliumOut", "OpinionOut", "ProtocolOut"):
        assert hasattr(models, name)
    cancel = importlib.import_module(f"{PACKAGE}.api.appointment_lifecycle.appointments_cancel")
    kwargs = cancel._get_kwargs(appointment_id="00000000-0000-0000-0000-000000000001")
    assert kwargs["method"] == "post"
    assert kwargs["url"].endswith("/appointments/00000000-0000-0000-0000-000000000001/cancel")


def _client(package: ModuleType, stack: Stack, actor: Actor) -> Any:
    return package.AuthenticatedClient(
        base_url="http://gateway",
        token=actor.access_token,
        httpx_args={"transport": stack.transport},
        raise_on_unexpected_status=True,
    )


def _api(operation: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.api.{operation}")


async def test_a_generated_client_opens_a_case_uploads_and_reads_the_conclusion(
    generated: tuple[ModuleType, str], stack: Stack
) -> None:
    package, _ = generated
    models = importlib.import_module(f"{PACKAGE}.models")
    types = importlib.import_module(f"{PACKAGE}.types")
    hospital = await stack.organization(kind="district_hospital", region="42")
    centre = await stack.organization(kind="regional_centre", region="42")
    medic = _client(package, stack, await stack.actor("district_medic", hospital))
    specialist = _client(package, stack, await stack.actor("specialist", centre, "cardiology"))

    upload = models.FilesUploadFilesFileUpload(
        file=types.File(BytesIO(samples.pdf_bytes()), "ECG.pdf", "application/pdf"),
        kind=models.FilesUploadFilesFileUploadKind("ecg"),
    )
    stored = await _api("files.files_upload").asyncio(client=medic, body=upload)
    assert isinstance(stored, models.FileOut), stored
    assert stored.media_type == "application/pdf"

    body = models.CaseCreate.from_dict(
        sample_case(centre["id"], attachment_ids=[str(stored.id)], submit=True)
    )
    case = await _api("cases.cases_create").asyncio(client=medic, body=body)
    assert isinstance(case, models.CaseOut), case
    assert case.status == models.CaseStatus.SUBMITTED
    assert [attachment.id for attachment in case.attachments] == [stored.id]

    for action in ("cases_accept", "cases_start"):
        moved = await _api(f"lifecycle.{action}").asyncio(case.id, client=specialist)
        assert isinstance(moved, models.CaseOut), moved
    issued = await _api("conclusions.conclusions_issue").asyncio(
        case.id, client=specialist, body=models.ConclusionCreate.from_dict({"content": CONCLUSION})
    )
    assert isinstance(issued, models.ConclusionOut), issued

    read = await _api("conclusions.conclusions_get").asyncio(case.id, 1, client=medic)
    assert isinstance(read, models.ConclusionOut), read
    assert read.signature_valid is True
    assert read.content.diagnosis_codes == ["I21.4"]
    concluded = await _api("cases.cases_get").asyncio(case.id, client=medic)
    assert concluded.status == models.CaseStatus.CONCLUDED


async def test_a_generated_client_uploads_in_parts_with_tus(
    generated: tuple[ModuleType, str], stack: Stack
) -> None:
    """The tus routes' headers and `application/offset+octet-stream` bodies, as declared: the
    creation carries the first half, a PATCH the rest, and the upload becomes a file."""
    package, _ = generated
    models = importlib.import_module(f"{PACKAGE}.models")
    types = importlib.import_module(f"{PACKAGE}.types")
    hospital = await stack.organization(kind="district_hospital", region="42")
    medic = _client(package, stack, await stack.actor("district_medic", hospital))
    pdf = samples.pdf_bytes()
    half = len(pdf) // 2
    metadata = ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}"
        for key, value in {"filename": "ECG.pdf", "kind": "ecg"}.items()
    )
    tus = "resumable_uploads_tus_1_0"
    # The generated code sends `File.payload` as the raw body: bytes, as httpx's async client
    # cannot read a file object.
    created = await _api(f"{tus}.uploads_create").asyncio_detailed(
        client=medic, body=types.File(pdf[:half]),
        tus_resumable=models.UploadsCreateTusResumable("1.0.0"),
        upload_length=len(pdf), upload_metadata=metadata,
    )  # fmt: skip
    assert created.status_code == 201, created.content
    assert created.headers["Upload-Offset"] == str(half)
    upload_id = created.headers["Location"].rsplit("/", 1)[1]
    appended = await _api(f"{tus}.uploads_append").asyncio_detailed(
        upload_id, client=medic, body=types.File(pdf[half:]),
        tus_resumable=models.UploadsAppendTusResumable("1.0.0"), upload_offset=half,
    )  # fmt: skip
    assert appended.status_code == 204, appended.content
    assert appended.headers["Upload-Offset"] == str(len(pdf))
    state = await _api(f"{tus}.uploads_state").asyncio(upload_id, client=medic)
    assert isinstance(state, models.UploadOut), state
    stored = await _api("files.files_get").asyncio(state.file_id, client=medic)
    assert isinstance(stored, models.FileOut), stored
    assert (stored.size, stored.media_type) == (len(pdf), "application/pdf")
