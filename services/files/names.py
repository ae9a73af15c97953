"""Safe display names for uploaded files, and the `Content-Disposition` that serves them."""

import re
import unicodedata
from urllib.parse import quote

MAX_NAME_BYTES = 255  # what common file systems allow for one path component
_MAX_EXTENSION_BYTES = 32  # a longer "extension" is just a dot in a long name
_DEVICE_NAMES = {
    "CON", "PRN", "AUX", "NUL",
    *(f"COM{n}" for n in range(1, 10)),
    *(f"LPT{n}" for n in range(1, 10)),
}  # fmt: skip
_DISPOSITIONS = {"attachment", "inline"}


def display_name(raw: str | None, *, fallback: str = "file") -> str:
    """The declared name made safe to show and to offer as a download name; never a path."""
    name = re.sub(r"\s+", " ", raw or "")  # before control removal, so a tab still separates
    # Category C covers control, format (bidi overrides, zero-width) and unassigned characters.
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = unicodedata.normalize("NFC", name)
    name = re.split(r"[/\\]", name)[-1]
    name = re.sub(r"^[A-Za-z]:", "", name)  # "C:x.pdf" is relative to drive C's current dir
    name = re.sub(r" +", " ", name).strip(" .")
    if name.split(".", 1)[0].strip().upper() in _DEVICE_NAMES:
        name = f"{fallback}_{name}"  # Windows opens the device for CON, CON.txt, ...
    return _truncate(name) or fallback


def _truncate(name: str) -> str:
    if len(name.encode()) <= MAX_NAME_BYTES:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension.encode()) > _MAX_EXTENSION_BYTES:
        stem, dot, extension = name, "", ""
    budget = MAX_NAME_BYTES - len(dot) - len(extension.encode())
    # Cut on a byte budget, dropping a character the cut splits.
    stem = stem.encode()[:budget].decode(errors="ignore").rstrip(" .")
    return f"{stem}{dot}{extension}"


def content_disposition(name: str, disposition: str = "attachment") -> str:
    """An RFC 6266 header value: an ASCII `filename` for old clients, the exact `filename*`."""
    if disposition not in _DISPOSITIONS:
        raise ValueError(f"disposition must be one of {sorted(_DISPOSITIONS)}")
    # Decompose so accented Latin letters keep their base letter; the rest becomes "_".
    decomposed = unicodedata.normalize("NFKD", name)
    ascii_name = "".join(
        ch if " " <= ch <= "~" else "_" for ch in decomposed if not unicodedata.combining(ch)
    )
    quoted = ascii_name.replace("\\", "\\\\").replace('"', '\\"')
    encoded = quote(name, safe="!#$&+^`|~")  # RFC 8187 attr-chars stay as they are
    return f"{disposition}; filename=\"{quoted}\"; filename*=UTF-8''{encoded}"
