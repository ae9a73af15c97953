from tests.files import samples
from tests.files.conftest import FilesWorld, sha256


async def test_roundtrip(files: FilesWorld) -> None:
    data = samples.pdf_bytes()
    created = await files.upload(data)
    assert created["sha256"] == sha256(data)
    response = await files.content(created["id"])
    assert response.status_code == 200, response.text
    assert response.content == data
