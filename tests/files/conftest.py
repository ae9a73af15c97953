"""Files-local fixtures: the stack on each storage backend, and the people who use it."""

import hashlib
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from minio import Minio

from services.files.settings import MIB
from tests.conftest import Actor, Stack, running_stack
from tests.servers import s3_server

FILES = "/api/files"
S3_KEYS = {"s3_access_key": "telemed-test", "s3_secret_key": "telemed-test-secret"}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def files_overrides(backend: str, request: pytest.FixtureRequest, **extra: Any) -> dict[str, Any]:
    overrides: dict[str, Any] = {"storage": backend, "part_size": 5 * MIB} | extra
    if backend == "s3":
        overrides |= S3_KEYS | {
            "s3_endpoint": request.getfixturevalue("s3_endpoint"),
            "s3_bucket": f"telemed-{uuid.uuid4().hex[:12]}",
        }
    return overrides


@dataclass
class FilesWorld:
    stack: Stack
    backend: str
    settings: Any
    hospital: dict[str, Any]
    centre: dict[str, Any]
    medic: Actor
    colleague: Actor
    stranger: Actor
    cardiologist: Actor
    coordinator: Actor
    patient: Actor

    @property
    def client(self) -> httpx.AsyncClient:
        return self.stack.client

    async def upload(
        self, content: bytes, actor: Actor | None = None, expect: int = 201, **params: Any
    ) -> dict[str, Any]:
        response = await self.client.post(
            f"{FILES}/files",
            content=content,
            params={"name": "result.pdf", "kind": "lab_result"} | params,
            headers=(actor or self.medic).headers | {"Content-Type": "application/octet-stream"},
        )
        assert response.status_code == expect, response.text
        body: dict[str, Any] = response.json()
        return body

    async def content(
        self, file_id: str, actor: Actor | None = None, **headers: str
    ) -> httpx.Response:
        return await self.client.get(
            f"{FILES}/files/{file_id}/content", headers=(actor or self.medic).headers | headers
        )

    def grant(
        self,
        actor: Actor,
        purpose: str,
        case_id: uuid.UUID,
        *file_ids: str,
        ttl_seconds: int = 300,
    ) -> str:
        """A grant as consult signs it, for `actor`, with consult's real key."""
        token, _ = self.stack.apps["consult"].state.grants.issue(
            audience="files",
            subject=actor.id,
            purpose=purpose,
            case_id=case_id,
            file_ids=[uuid.UUID(file_id) for file_id in file_ids],
            ttl_seconds=ttl_seconds,
        )
        return str(token)

    def stored_objects(self) -> list[str]:
        """Every object the store holds, parts and tails included."""
        if self.backend == "local":
            root = Path(self.settings.resolved_local_root())
            return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())
        client = Minio(
            endpoint=self.settings.s3_endpoint,
            access_key=self.settings.s3_access_key,
            secret_key=self.settings.s3_secret_key.get_secret_value(),
            secure=False,
        )
        return sorted(
            item.object_name or ""
            for item in client.list_objects(bucket_name=self.settings.s3_bucket, recursive=True)
        )


async def make_world(stack: Stack, backend: str) -> FilesWorld:
    hospital = await stack.organization(kind="district_hospital", region="42")
    other = await stack.organization(kind="district_hospital", region="42")
    centre = await stack.organization(kind="regional_centre", region="42")
    return FilesWorld(
        stack=stack,
        backend=backend,
        settings=stack.apps["files"].state.settings,
        hospital=hospital,
        centre=centre,
        medic=await stack.actor("district_medic", hospital),
        colleague=await stack.actor("district_medic", hospital),
        stranger=await stack.actor("district_medic", other),
        cardiologist=await stack.actor("specialist", centre, "cardiology"),
        coordinator=await stack.actor("coordinator", hospital),
        patient=await stack.actor("patient"),
    )


@pytest.fixture
async def files(
    backend: str,
    clean_databases: dict[str, str],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> AsyncIterator[FilesWorld]:
    overrides = {"files": files_overrides(backend, request, max_file_size=64 * MIB)}
    async with running_stack(clean_databases, tmp_path, overrides) as stack:
        yield await make_world(stack, backend)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
