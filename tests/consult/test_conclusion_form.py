"""A conclusion others can verify: the signed bytes served as they were signed, checked by
docs/verify_conclusion.py (a separate process, the published key fetched over HTTP) and by a
stock JOSE library; conclusions signed in the earlier form keep verifying."""

import ast
import asyncio
import base64
import dataclasses
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, update

from services.common.db import Database
from services.consult.cases.conclusions import signed_document
from services.consult.cases.enums import SignatureForm
from services.consult.cases.models import Conclusion
from services.consult.cases.signing import ConclusionSigner
from services.consult.db import KERNEL_TABLES
from tests.conftest import Actor
from tests.consult.conftest import CONSULT, World
from tests.servers import serve

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "verify_conclusion.py"
CONCLUSION = {
    "findings": "ЭКГ: депрессия ST в V4-V6, тропонин 0,9 нг/мл.",
    "diagnosis_text": "Острый субэндокардиальный инфаркт миокарда",
    "diagnosis_codes": ["I21.4"],
    "recommendations": 'Перевод в ЧКВ-центр в течение 24 часов; "нагрузка" аспирином.',
    "recommended_tests": ["troponin in 3 hours"],
    "in_person_visit_needed": False,
    "hospitalisation_needed": True,
}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


async def read(world: World, actor: Actor, path: str) -> Any:
    return await world.stack.client.get(f"{CONSULT}{path}", headers=actor.headers)


async def concluded(world: World) -> tuple[str, dict[str, Any]]:
    case = await world.in_progress()
    issued = await world.stack.client.post(
        f"{CONSULT}/cases/{case['id']}/conclusions",
        json={"content": CONCLUSION},
        headers=world.cardiologist.headers,
    )
    assert issued.status_code == 201, issued.text
    conclusion: dict[str, Any] = issued.json()
    return case["id"], conclusion


async def signed(world: World, case_id: str, version: int = 1) -> dict[str, Any]:
    response = await read(world, world.medic, f"/cases/{case_id}/conclusions/{version}/signed")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def verify(
    tmp_path: Path, keys_url: str, answer: dict[str, Any], conclusion: Any = None
) -> tuple[int, str]:
    """docs/verify_conclusion.py in its own isolated interpreter, as another team would run it."""
    signed_file = tmp_path / "signed.json"
    signed_file.write_text(json.dumps(answer), encoding="utf-8")
    extra = []
    if conclusion is not None:
        (tmp_path / "conclusion.json").write_text(json.dumps(conclusion), encoding="utf-8")
        extra = ["--conclusion", str(tmp_path / "conclusion.json")]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-I", str(SCRIPT), str(signed_file), "--keys", keys_url, *extra,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=tmp_path,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, output.decode()


def consult(world: World) -> tuple[Database, ConclusionSigner]:
    state = world.stack.apps["consult"].state
    return state.database, state.conclusion_signer


def test_the_verifier_imports_only_the_standard_library_and_cryptography() -> None:
    imported: set[str] = set()
    for node in ast.walk(ast.parse(SCRIPT.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.module is not None
            assert node.level == 0
            imported.add(node.module.split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"cryptography"}


async def test_a_conclusion_verifies_with_the_published_key_alone(
    world: World, tmp_path: Path
) -> None:
    case_id, conclusion = await concluded(world)
    assert conclusion["signature_form"] == 2
    answer = await signed(world, case_id)
    payload = unb64url(answer["payload"])
    document = json.loads(payload)
    # The signed document says what the API says, times written the same way.
    assert document == {
        "document": "conclusion",
        **{name: conclusion[name] for name in ("case_id", "version", "author_id", "issued_at")},
        "content": CONCLUSION,
        "amends_version": None,
        "amendment_reason": None,
    }
    assert payload.decode() == json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )  # RFC 8785 for strings, integers and booleans with ASCII keys
    assert answer["payload_sha256"] == conclusion["content_sha256"]
    header, empty, signature = answer["jws"].split(".")
    assert (empty, signature, answer["key_id"]) == (
        "",
        conclusion["signature"],
        conclusion["key_id"],
    )

    async with serve(world.stack.apps["gateway"], lifespan="off") as gateway:
        keys_url = f"{gateway}{CONSULT}/conclusion-keys"
        code, output = await verify(tmp_path, keys_url, answer, conclusion)
    assert (code, output.splitlines()[0]) == (
        0,
        f"valid: conclusion 1 of case {case_id}, issued {conclusion['issued_at']}, "
        f"signed by key {conclusion['key_id']} (form 2)",
    )
    # An ordinary JWS: a stock JOSE library verifies it with the payload put back in.
    keys = (await world.stack.client.get(f"{CONSULT}/conclusion-keys")).json()["keys"]
    jwk = next(key for key in keys if key["kid"] == answer["key_id"])
    attached = f"{header}.{answer['payload']}.{signature}"
    decoded = jwt.api_jws.decode_complete(attached, key=jwt.PyJWK(jwk), algorithms=["EdDSA"])
    assert decoded["payload"] == payload
    assert decoded["header"] == {
        "alg": "EdDSA",
        "kid": answer["key_id"],
        "typ": "telemed-conclusion+json",
    }


async def test_a_changed_byte_does_not_verify(world: World, tmp_path: Path) -> None:
    case_id, conclusion = await concluded(world)
    answer = await signed(world, case_id)
    payload = unb64url(answer["payload"])
    changed = payload.replace(b"I21.4", b"I21.9")
    assert changed != payload
    header, _, signature = answer["jws"].split(".")
    flipped = f"{header}..{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    async with serve(world.stack.apps["gateway"], lifespan="off") as gateway:
        keys_url = f"{gateway}{CONSULT}/conclusion-keys"
        code, output = await verify(tmp_path, keys_url, answer | {"payload": b64url(changed)})
        assert (code, output.strip()) == (
            1,
            "invalid: the signature does not match the payload and key",
        )
        code, output = await verify(tmp_path, keys_url, answer | {"jws": flipped})
        assert code == 1, output
        # The signature holds, but the conclusion shown is not the one signed.
        shown = conclusion | {"content": CONCLUSION | {"hospitalisation_needed": False}}
        code, output = await verify(tmp_path, keys_url, answer, shown)
        assert (code, output.strip()) == (
            1,
            "invalid: the conclusion's content is not what was signed",
        )

        database, _ = consult(world)
        async with database.sessionmaker() as session:
            await session.execute(
                update(Conclusion).values(content=CONCLUSION | {"diagnosis_codes": ["I21.9"]})
            )
            await session.commit()
        assert (await read(world, world.medic, f"/cases/{case_id}/conclusions/1")).json()[
            "signature_valid"
        ] is False
        code, output = await verify(tmp_path, keys_url, await signed(world, case_id))
        assert code == 1, output


async def test_a_conclusion_signed_in_the_earlier_form_still_verifies(
    world: World, tmp_path: Path
) -> None:
    """A conclusion stored before form 2: its bare signature over the sorted-keys JSON, made
    with the service's own key, and `signature_form` 1 as the migration sets it."""
    case_id, _ = await concluded(world)
    database, signer = consult(world)
    async with database.sessionmaker() as session:
        stored = (await session.scalars(select(Conclusion))).one()
        old = signer.sign(signed_document(stored), SignatureForm.CANONICAL_JSON)
        stored.signature, stored.content_sha256 = old.value, old.sha256
        stored.signature_form = SignatureForm.CANONICAL_JSON
        await session.commit()

    conclusion = (await read(world, world.medic, f"/cases/{case_id}/conclusions/1")).json()
    assert (conclusion["signature_form"], conclusion["signature_valid"]) == (1, True)
    answer = await signed(world, case_id)
    assert (answer["signature_form"], answer["jws"], answer["signature"]) == (1, None, old.value)
    document = json.loads(unb64url(answer["payload"]))
    assert document["issued_at"].endswith("+00:00")
    assert datetime.fromisoformat(document["issued_at"]) == datetime.fromisoformat(
        conclusion["issued_at"]
    )
    async with serve(world.stack.apps["gateway"], lifespan="off") as gateway:
        keys_url = f"{gateway}{CONSULT}/conclusion-keys"
        code, output = await verify(tmp_path, keys_url, answer, conclusion)
        assert code == 0, output
        assert output.strip().endswith("(form 1)")
        changed = unb64url(answer["payload"]).replace(b"I21.4", b"I21.9")
        code, output = await verify(tmp_path, keys_url, answer | {"payload": b64url(changed)})
        assert code == 1, output

    async with database.sessionmaker() as session:
        await session.execute(update(Conclusion).values(amendment_reason="slipped in"))
        await session.commit()
    tampered = (await read(world, world.medic, f"/cases/{case_id}/conclusions/1")).json()
    assert tampered["signature_valid"] is False


async def test_the_signed_form_is_read_and_audited_as_the_conclusion_is(world: World) -> None:
    case_id, _ = await concluded(world)
    path = f"/cases/{case_id}/conclusions/1/signed"
    for actor in (world.medic, world.coordinator, world.clients["read"], world.colleague):
        assert (await read(world, actor, path)).status_code == 200
    assert world.stack.admin is not None
    for actor in (world.stack.admin, world.patient, world.other_medic, world.neurologist):
        response = await read(world, actor, path)
        assert response.status_code == 404, response.text
        assert response.headers["content-type"] == "application/problem+json"
    for missing, status in (("2", 404), ("0", 422), ("many", 422)):
        response = await read(world, world.medic, f"/cases/{case_id}/conclusions/{missing}/signed")
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
    anonymous = await world.stack.client.get(f"{CONSULT}{path}")
    assert anonymous.status_code == 401

    records = KERNEL_TABLES.audit.records
    database, _ = consult(world)
    async with database.sessionmaker() as session:
        rows = (await session.execute(select(records).order_by(records.c.seq))).mappings().all()
    trail = {(r["action"], r["actor_id"], r["outcome"]) for r in rows}
    assert ("conclusion.read_signed", str(world.medic.id), "success") in trail
    assert ("conclusion.read_signed", str(world.other_medic.id), "denied") in trail


async def test_a_consilium_opinion_signed_with_the_same_key_is_no_conclusion(
    world: World, tmp_path: Path
) -> None:
    """An opinion is signed in form 1 with the conclusion key, for its case and version 1
    (consilium/documents.py): presented as the case's conclusion, the verifier refuses it."""
    case_id, _ = await concluded(world)
    _, signer = consult(world)
    async with consult(world)[0].sessionmaker() as session:
        stored = (await session.scalars(select(Conclusion))).one()
        opinion = dataclasses.replace(
            signed_document(stored),
            content={"document": "opinion", "opinion": {"summary": "Диагноз подтверждаю."}},
        )
    signature = signer.sign(opinion, SignatureForm.CANONICAL_JSON)
    payload = opinion.signed_bytes(SignatureForm.CANONICAL_JSON)
    answer = {
        "signature_form": 1, "case_id": case_id, "version": 1, "key_id": signature.key_id,
        "payload": b64url(payload), "payload_sha256": signature.sha256,
        "signature": signature.value, "jws": None,
    }  # fmt: skip
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"keys": [signer.jwk]}), encoding="utf-8")
    code, output = await verify(tmp_path, str(keys), answer)
    assert (code, output.strip()) == (1, "invalid: the payload is not a conclusion"), output


@pytest.mark.parametrize(
    "answer",
    [
        {"signature_form": 3},
        {"signature_form": 2, "jws": "not a jws", "payload": "", "key_id": "x"},
    ],
)
async def test_the_verifier_refuses_what_is_not_a_signed_conclusion(
    tmp_path: Path, answer: dict[str, Any]
) -> None:
    keys = tmp_path / "keys.json"
    jwk = ConclusionSigner(Ed25519PrivateKey.generate()).jwk
    keys.write_text(json.dumps({"keys": [jwk]}), encoding="utf-8")
    code, output = await verify(tmp_path, str(keys), answer)
    assert (code, output[:9]) == (1, "invalid: "), output
