"""ZIP-family uploads: office documents are told apart, plain archives checked member by member."""

import io
import zipfile

import pytest

from services.common.errors import UnsupportedMediaType
from services.files.containers import DOCX, RATIO_FLOOR, XLSX, classify_container
from services.files.sniffing import ODT, ZIP
from tests.files import samples

LIMIT = 10 * 1024 * 1024


def classify(data: bytes, **limits: int) -> str:
    return classify_container(io.BytesIO(data), **{"max_uncompressed": LIMIT, **limits})


def refused(data: bytes, match: str, **limits: int) -> None:
    with pytest.raises(UnsupportedMediaType, match=match) as caught:
        classify(data, **limits)
    assert caught.value.status == 415


def encrypted(data: bytes) -> bytes:
    """`data` with the "encrypted" flag set on every member, as zipfile cannot write one."""
    patched = bytearray(data)
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = patched.find(signature)
        while start != -1:
            patched[start + flag_at] |= 0x01
            start = patched.find(signature, start + 4)
    return bytes(patched)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(samples.docx_bytes(), DOCX, id="docx"),
        pytest.param(samples.xlsx_bytes(), XLSX, id="xlsx"),
        pytest.param(samples.odt_bytes(), ODT, id="odt"),
        pytest.param(
            samples.zip_of(
                {
                    "labs/results.pdf": samples.pdf_bytes(),
                    "labs/": b"",
                    "photo.png": samples.png_bytes(),
                    "scan.dcm": samples.dicom_bytes(),
                    "labs.csv": samples.csv_bytes(),
                    "extract.txt": samples.cp1251_text(),
                    "empty.txt": b"",
                }
            ),
            ZIP,
            id="zip-of-allowed",
        ),
        pytest.param(
            samples.zip_of({"a.docx": samples.docx_bytes(), "b.odt": samples.odt_bytes()}),
            ZIP,
            id="zip-of-documents",
        ),
        pytest.param(
            samples.zip_of({"a.pdf": samples.pdf_bytes()}, compression=zipfile.ZIP_STORED),
            ZIP,
            id="stored",
        ),
    ],
)
def test_allowed_containers_get_their_final_type(data: bytes, expected: str) -> None:
    assert classify(data) == expected


@pytest.mark.parametrize(
    ("data", "match"),
    [
        pytest.param(
            samples.zip_of({"result.pdf": samples.windows_executable()}), "refused type", id="exe"
        ),
        pytest.param(samples.zip_of({"x.html": b"<html></html>"}), "refused type", id="html"),
        pytest.param(
            samples.zip_of({"inner.zip": samples.zip_of({"a.pdf": samples.pdf_bytes()})}),
            "inside archives",
            id="nested-zip",
        ),
        pytest.param(
            samples.zip_of({"a.docx": samples.docx_bytes(macros=True)}),
            "macros",
            id="macro-document-inside",
        ),
        pytest.param(samples.docx_bytes(macros=True), "macros", id="docm"),
        pytest.param(samples.odt_bytes(macros=True), "macros", id="odt-basic"),
        pytest.param(
            samples.zip_of(
                {
                    "[Content_Types].xml": b"<Types/>",
                    "word/document.xml": b"<w/>",
                    "word/embeddings/oleObject1.bin": b"\xd0\xcf\x11\xe0",
                }
            ),
            "active content",
            id="ole-object",
        ),
        pytest.param(
            samples.zip_of({"[Content_Types].xml": b"<Types/>", "ppt/presentation.xml": b"<p/>"}),
            "Only Word",
            id="pptx",
        ),
        pytest.param(
            samples.odt_bytes(mimetype=b"application/vnd.oasis.opendocument.spreadsheet"),
            "refused type",
            id="ods",
        ),
        pytest.param(samples.zip_of({}), "corrupt|empty", id="empty"),
        pytest.param(b"PK\x03\x04" + bytes(100), "corrupt", id="garbage"),
        pytest.param(samples.docx_bytes()[:-30], "corrupt", id="truncated"),
        pytest.param(
            encrypted(samples.zip_of({"a.pdf": samples.pdf_bytes()})), "Encrypted", id="encrypted"
        ),
        pytest.param(
            samples.zip_of({"a.pdf": samples.pdf_bytes()}, compression=zipfile.ZIP_BZIP2),
            "stored or deflated",
            id="bzip2",
        ),
    ],
)
def test_refused_containers(data: bytes, match: str) -> None:
    refused(data, match)


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd", "/etc/passwd", "\\Windows\\x.pdf", "C:\\Windows\\x.pdf", "a/../../b.pdf"],
)
def test_members_that_would_unpack_outside_are_refused(name: str) -> None:
    refused(samples.zip_of({name: samples.pdf_bytes()}), "Unsafe member name")


def test_member_count_is_limited() -> None:
    members = {f"{n}.pdf": samples.pdf_bytes() for n in range(4)}
    assert classify(samples.zip_of(members), max_members=4) == ZIP
    refused(samples.zip_of(members), "more than 3 members", max_members=3)


def test_declared_uncompressed_total_is_limited() -> None:
    data = samples.zip_of({"a.txt": b"x" * 600, "b.txt": b"y" * 600})
    assert classify(data, max_uncompressed=1200) == ZIP
    refused(data, "unpacks to more than 1199 bytes", max_uncompressed=1199)


def test_a_highly_compressed_member_is_a_zip_bomb() -> None:
    bomb = samples.zip_of({"zeros.txt": b" " * (4 * 1024 * 1024)})
    refused(bomb, "compressed", max_ratio=100)


def test_small_members_may_compress_well() -> None:
    data = samples.zip_of({"spaces.txt": b"a" + b" " * (RATIO_FLOOR - 1)})
    assert classify(data, max_ratio=2) == ZIP


def test_the_limits_hold_inside_a_nested_document() -> None:
    data = samples.zip_of({"a.docx": samples.docx_bytes(), "b.pdf": samples.pdf_bytes()})
    refused(data, "more than 2 members", max_members=2)  # the docx alone has three
