"""Declared file names: kept only as safe display text, served through RFC 6266 headers."""

import re
import unicodedata
from urllib.parse import unquote

import pytest

from services.files.names import MAX_NAME_BYTES, content_disposition, display_name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ECG 2024-01-31.pdf", "ECG 2024-01-31.pdf"),
        ("../../etc/passwd", "passwd"),
        ("/var/data/report.pdf", "report.pdf"),
        ("C:\\Windows\\x.pdf", "x.pdf"),
        ("C:x.pdf", "x.pdf"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("dir/", "file"),
        ("a\x00b\x07c\x1b.pdf", "abc.pdf"),
        ("scan\r\nSet-Cookie: x=1.pdf", "scan Set-Cookie: x=1.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("\u2066photo\u2069\u200b.jpg", "photo.jpg"),
        ("e\u0301cho.pdf", "\u00e9cho.pdf"),
        ("Анализ \t крови\n01.pdf", "Анализ крови 01.pdf"),
        ("  ..hidden.pdf . .", "hidden.pdf"),
        (".", "file"),
        ("..", "file"),
        ("", "file"),
        (None, "file"),
        ("\x00\x01\u202e", "file"),
        ("CON", "file_CON"),
        ("con.txt", "file_con.txt"),
        ("Com1.pdf", "file_Com1.pdf"),
        ("LPT9", "file_LPT9"),
        ("nul .tar.gz", "file_nul .tar.gz"),
        ("CONSOLE.txt", "CONSOLE.txt"),
        ("COM10.txt", "COM10.txt"),
    ],
)
def test_display_name(raw: str | None, expected: str) -> None:
    assert display_name(raw) == expected


def test_the_fallback_is_the_callers() -> None:
    assert display_name("..", fallback="upload") == "upload"
    assert display_name("PRN", fallback="upload") == "upload_PRN"


@pytest.mark.parametrize(
    ("raw", "extension"),
    [
        ("x" * 1000 + ".pdf", ".pdf"),
        ("я" * 1000 + ".pdf", ".pdf"),  # two bytes each: the cut must not split one
        ("日本" * 500 + ".dcm", ".dcm"),  # three bytes each
        ("x" * 1000, ""),
        ("x." + "y" * 1000, None),  # an "extension" that long is not kept whole
    ],
)
def test_long_names_are_cut_to_255_bytes_keeping_the_extension(
    raw: str, extension: str | None
) -> None:
    name = display_name(raw)
    assert len(name.encode()) <= MAX_NAME_BYTES
    assert len(name.encode()) > MAX_NAME_BYTES - 4  # cut, not emptied
    assert name.encode().decode() == name
    if extension is not None:
        assert name.endswith(extension)
        assert name.count(".") == extension.count(".")


@pytest.mark.parametrize(
    "raw",
    ["../a\x00b.pdf", "  .x. ", "CON", "я" * 300 + ".pdf", "e\u0301\u202e.txt", "a\\b/c:d.pdf"],
)
def test_display_name_is_idempotent(raw: str) -> None:
    once = display_name(raw)
    assert display_name(once) == once
    assert unicodedata.is_normalized("NFC", once)
    assert not any(unicodedata.category(ch).startswith("C") for ch in once)


@pytest.mark.parametrize(
    ("name", "ascii_part"),
    [
        ("report.pdf", 'filename="report.pdf"'),
        ('a"b\\c.pdf', 'filename="a\\"b\\\\c.pdf"'),
        ("Выписка.pdf", 'filename="_______.pdf"'),
        ("café résumé.pdf", 'filename="cafe resume.pdf"'),
        ("a\r\nSet-Cookie: x", 'filename="a__Set-Cookie: x"'),
    ],
)
def test_content_disposition(name: str, ascii_part: str) -> None:
    header = content_disposition(name)
    assert header.startswith("attachment; ")
    assert ascii_part in header
    assert header.isascii()
    assert "\r" not in header
    assert "\n" not in header
    encoded = header.split("filename*=UTF-8''", 1)[1]
    assert re.fullmatch(r"[A-Za-z0-9!#$&+\-.^_`|~%]*", encoded)  # RFC 8187 attr-chars
    assert unquote(encoded, errors="strict") == name


def test_content_disposition_inline() -> None:
    assert content_disposition("ecg.pdf", "inline").startswith("inline; filename=")


def test_content_disposition_refuses_other_dispositions() -> None:
    with pytest.raises(ValueError, match="disposition"):
        content_disposition("x.pdf", "attachment; evil=1")
