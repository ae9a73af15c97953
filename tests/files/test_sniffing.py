"""Content sniffing: the first bytes decide the type; names and declared types never do."""

from collections.abc import Callable

import pytest

from services.files.sniffing import ODT, SNIFF_BYTES, ZIP, Sniffed, sniff
from tests.files import samples


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (samples.pdf_bytes, Sniffed("application/pdf")),
        (samples.jpeg_bytes, Sniffed("image/jpeg")),
        (samples.png_bytes, Sniffed("image/png")),
        (samples.tiff_bytes, Sniffed("image/tiff")),
        (lambda: samples.tiff_bytes(big_endian=True), Sniffed("image/tiff")),
        (samples.dicom_bytes, Sniffed("application/dicom")),
        (samples.docx_bytes, Sniffed(ZIP, container=True)),
        (samples.xlsx_bytes, Sniffed(ZIP, container=True)),
        (samples.odt_bytes, Sniffed(ODT, container=True)),
        (lambda: samples.zip_of({"a.pdf": samples.pdf_bytes()}), Sniffed(ZIP, container=True)),
        (samples.mp4_bytes, Sniffed("video/mp4")),
        (lambda: samples.mp4_bytes(brand=b"mp42"), Sniffed("video/mp4")),
        (samples.webm_bytes, Sniffed("video/webm")),
        (samples.wav_bytes, Sniffed("audio/wav")),
        (samples.ogg_bytes, Sniffed("audio/ogg")),
        (samples.mp3_bytes, Sniffed("audio/mpeg")),
        (lambda: samples.mp3_bytes(tagged=False), Sniffed("audio/mpeg")),
        (samples.csv_bytes, Sniffed("text/csv", charset="utf-8")),
        (lambda: samples.csv_bytes(delimiter=";"), Sniffed("text/csv", charset="utf-8")),
        (
            lambda: samples.csv_bytes(delimiter=";", encoding="cp1251"),
            Sniffed("text/csv", charset="windows-1251"),
        ),
        (samples.cp1251_text, Sniffed("text/plain", charset="windows-1251")),
        (lambda: "Жалоб нет.\n\t АД 120/80\f\r\n".encode(), Sniffed("text/plain", charset="utf-8")),
        (lambda: b"\xef\xbb\xbfplain text with a BOM", Sniffed("text/plain", charset="utf-8")),
    ],
)
def test_allowed_types_are_recognised(make: Callable[[], bytes], expected: Sniffed) -> None:
    assert sniff(make()[:SNIFF_BYTES]) == expected


@pytest.mark.parametrize(
    "head",
    [
        pytest.param(b"", id="empty"),
        pytest.param(samples.windows_executable(), id="pe"),
        pytest.param(samples.elf_executable(), id="elf"),
        pytest.param(b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + bytes(24), id="mach-o"),
        pytest.param(b"#!/bin/sh\nrm -rf /\n", id="script"),
        pytest.param(b"{\\rtf1\\ansi Hello}", id="rtf"),
        pytest.param(b"<!DOCTYPE html><script>alert(1)</script>", id="html"),
        pytest.param(b"\n  <svg onload=alert(1)/>", id="svg"),
        pytest.param(b'<?xml version="1.0"?><x/>', id="xml"),
        pytest.param(b"\xef\xbb\xbf<html></html>", id="html-after-bom"),
        pytest.param(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", id="gif"),
        pytest.param(b"Rar!\x1a\x07\x01\x00" + bytes(16), id="rar"),
        pytest.param(b"text with a NUL\x00inside", id="nul"),
        pytest.param(b"text with an escape \x1b[31m", id="escape"),
        pytest.param("text with a C1 control \x85".encode(), id="c1-control"),
        pytest.param("UTF-16 text".encode("utf-16"), id="utf-16"),
        pytest.param(b"\x98\x98 not cp1251", id="undefined-cp1251-byte"),
        pytest.param(bytes(range(0x80, 0x100)), id="high-bytes"),
        pytest.param(samples.mp4_bytes(brand=b"heic"), id="heif-image"),
        pytest.param(samples.mp4_bytes(brand=b"qt  "), id="quicktime"),
        pytest.param(samples.webm_bytes(doctype=b"matroska"), id="matroska"),
        pytest.param(
            samples.odt_bytes(mimetype=b"application/vnd.oasis.opendocument.spreadsheet"),
            id="ods",
        ),
        pytest.param(
            samples.odt_bytes(mimetype=b"application/vnd.oasis.opendocument.text-template"),
            id="ott",
        ),
    ],
)
def test_other_content_is_refused(head: bytes) -> None:
    assert sniff(head[:SNIFF_BYTES]) is None


@pytest.mark.parametrize("name", ["result.pdf", "scan.dcm", "notes.txt", "labs.csv", None])
def test_an_executable_stays_refused_whatever_it_is_called(name: str | None) -> None:
    assert sniff(samples.windows_executable(), display_name=name) is None


def test_the_name_does_not_change_a_binary_type() -> None:
    assert sniff(samples.pdf_bytes(), display_name="photo.jpg") == Sniffed("application/pdf")


def test_a_dicom_file_with_a_tiff_preamble_is_dicom() -> None:
    dual = samples.tiff_bytes().ljust(128, b"\x00") + samples.dicom_bytes()[128:]
    assert sniff(dual) == Sniffed("application/dicom")


def test_a_dicom_preamble_holding_an_executable_is_refused() -> None:
    # A PE header in the free-form preamble makes a file both DICOM and runnable.
    polyglot = samples.windows_executable()[:128] + samples.dicom_bytes()[128:]
    assert sniff(samples.dicom_bytes()) is not None
    assert sniff(polyglot) is None


@pytest.mark.parametrize(
    ("text", "name", "media_type"),
    [
        (b"one line, no more", None, "text/plain"),
        (b"one line, no more", "labs.csv", "text/csv"),
        (b"one line, no more", "LABS.CSV", "text/csv"),
        (b"a,b\nc,d\ne,f\n", None, "text/csv"),
        (b'a;"b;c"\nd;e\n', None, "text/csv"),
        (b"Dear colleague, thank you.\nKind regards\n", None, "text/plain"),
        (b"a,b\nc,d,e\n", None, "text/plain"),
        (b"a,b\na,b\n", "labs.txt", "text/csv"),
    ],
)
def test_csv_is_told_by_name_or_by_consistent_delimiters(
    text: bytes, name: str | None, media_type: str
) -> None:
    sniffed = sniff(text, display_name=name)
    assert sniffed is not None
    assert sniffed.media_type == media_type


def test_a_multibyte_character_cut_at_the_sniff_boundary_is_tolerated() -> None:
    text = ("a" + "я" * SNIFF_BYTES).encode()  # every "я" is two bytes, so the cut splits one
    assert sniff(text[:SNIFF_BYTES]) == Sniffed("text/plain", charset="utf-8")


def test_a_cut_multibyte_character_in_a_whole_short_file_is_not_utf8() -> None:
    sniffed = sniff("яблоко".encode()[:-1])
    assert sniffed is None or sniffed.charset != "utf-8"


def test_a_truncated_last_line_does_not_spoil_csv_detection() -> None:
    rows = b"".join(b"%d,Hb,135\n" % n for n in range(2000))
    assert len(rows) > SNIFF_BYTES
    sniffed = sniff(rows[:SNIFF_BYTES])
    assert sniffed is not None
    assert sniffed.media_type == "text/csv"


def test_content_type_carries_the_charset_of_text_only() -> None:
    assert Sniffed("text/csv", charset="windows-1251").content_type == (
        "text/csv; charset=windows-1251"
    )
    assert Sniffed("application/pdf").content_type == "application/pdf"


def test_sniff_bytes_covers_the_dicom_prefix_and_the_odf_mimetype() -> None:
    assert SNIFF_BYTES >= 132
    assert len(samples.odt_bytes().split(b"META-INF")[0]) <= SNIFF_BYTES
