"""End to end over real processes started by `telemed run` (the launcher `make run` uses):
a district medic asks, a regional cardiologist concludes, the medic reads a signed conclusion."""

import signal
import subprocess
from typing import Any

import httpx
import pytest

from telemed.samples import sample_case
from tests.e2e.system import login

pytestmark = pytest.mark.e2e


def _case_body(centre_id: str) -> dict[str, Any]:
    return sample_case(centre_id, submit=True)


def test_medic_asks_specialist_concludes_medic_reads(
    running_system: tuple[str, dict[str, Any], subprocess.Popen[bytes]],
) -> None:
    gateway, accounts, process = running_system
    centre = next(o for o in accounts["organizations"] if o["kind"] == "regional_centre")
    with httpx.Client(base_url=gateway, timeout=10) as client:
        medic = login(client, accounts, "medic.tashtagol")
        cardiologist = login(client, accounts, "cardiologist.kuzbass")
        neurologist = login(client, accounts, "neurologist.kuzbass")

        created = client.post(
            "/api/consult/cases", json=_case_body(centre["id"]),
            headers={**medic, "Idempotency-Key": "e2e-case-1"},
        )  # fmt: skip
        assert created.status_code == 201, created.text
        case_id = created.json()["id"]
        assert created.json()["status"] == "submitted"

        queue = client.get("/api/consult/cases?status=submitted", headers=cardiologist).json()
        assert case_id in [item["id"] for item in queue["items"]]
        assert client.get(f"/api/consult/cases/{case_id}", headers=neurologist).status_code == 404

        for action in ("accept", "start"):
            step = client.post(f"/api/consult/cases/{case_id}/{action}", headers=cardiologist)
            assert step.status_code == 200, step.text
        conclusion = client.post(
            f"/api/consult/cases/{case_id}/conclusions",
            json={"content": {"findings": "NSTEMI, high GRACE risk.",
                              "diagnosis_text": "Acute subendocardial myocardial infarction",
                              "diagnosis_codes": ["I21.4"],
                              "recommendations": "Transfer to the PCI centre within 24 hours.",
                              "hospitalisation_needed": True}},
            headers=cardiologist,
        )  # fmt: skip
        assert conclusion.status_code == 201, conclusion.text

        read = client.get(f"/api/consult/cases/{case_id}/conclusions/1", headers=medic)
        assert read.status_code == 200
        assert read.json()["signature_valid"] is True
        assert client.get(f"/api/consult/cases/{case_id}", headers=medic).json()["status"] == (
            "concluded"
        )
        docs = client.get("/openapi.json").json()
        assert "/api/consult/cases/{case_id}/conclusions" in docs["paths"]

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=20) == 0
