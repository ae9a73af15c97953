"""What the tus routes take and answer, for the OpenAPI document: they read their headers and
stream their bodies themselves (services/files/tus.py), so FastAPI sees neither; each route
declares them here (`openapi_extra`)."""

from typing import Any

TUS_VERSION = "1.0.0"
OFFSET_TYPE = "application/offset+octet-stream"
CHECKSUM_SIZES = {"sha1": 20, "sha256": 32, "md5": 16}  # digest bytes per algorithm


def _header(name: str, description: str, schema: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"name": name, "in": "header", "description": description, "schema": schema} | more


def _answer(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "schema": schema}


OFFSET = {"type": "integer", "minimum": 0}
TEXT = {"type": "string"}
RESUMABLE = _header(
    "Tus-Resumable",
    "The protocol's version; another (or none) is a 412.",
    {"type": "string", "enum": [TUS_VERSION]},
    required=True,
)
CHECKSUM = _header(
    "Upload-Checksum",
    f"`<algorithm> <base64 digest>` of this request's bytes ({', '.join(CHECKSUM_SIZES)}): "
    "a mismatch is a 460 and none of them are kept.",
    {"type": "string", "pattern": rf"^({'|'.join(CHECKSUM_SIZES)}) [A-Za-z0-9+/]+=*$"},
    example="sha256 n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=",
)
BYTES = {"type": "string", "format": "binary"}
EXPIRES = _answer("When an unfinished upload is discarded (an HTTP date).", TEXT)
REACHED = _answer("How many bytes the upload holds.", OFFSET)
ECHOED = {"Tus-Resumable": _answer("The protocol's version.", TEXT)}
FILE_LINK = _answer('Once the last byte is in: `</api/files/files/{id}>; rel="related"`.', TEXT)


def _bytes(description: str, *, required: bool) -> dict[str, Any]:
    return {
        "required": required,
        "description": description,
        "content": {OFFSET_TYPE: {"schema": BYTES, "example": "<the next bytes of the file>"}},
    }


CREATE = {
    "parameters": [
        RESUMABLE,
        _header(
            "Upload-Length",
            "The whole file's size in bytes; over the service's maximum is a 413.",
            {"type": "integer", "minimum": 1},
            required=True,
        ),
        _header(
            "Upload-Metadata",
            "Comma-separated `key base64(value)` pairs: `filename`, `kind` (a file kind), "
            "`sha256` (64 hex digits, checked once the file is whole).",
            TEXT,
            example="filename RUNHIDEyLWxlYWQucGRm,kind ZWNn",
        ),
        CHECKSUM,
    ],
    "requestBody": _bytes(
        "The file's first bytes (tus creation-with-upload); without a body, send them with "
        "`PATCH` at `Location`.",
        required=False,
    ),
    "responses": {
        "201": {
            "headers": ECHOED
            | {
                "Location": _answer("The upload's URL, where its bytes go.", TEXT),
                "Upload-Expires": EXPIRES,
                "Upload-Offset": _answer("With a body: how many of its bytes were kept.", OFFSET),
                "Link": FILE_LINK,
            }
        }
    },
}
APPEND = {
    "parameters": [
        RESUMABLE,
        _header(
            "Upload-Offset",
            "Where these bytes start: the upload's offset (`HEAD`), else a 409 naming it.",
            OFFSET,
            required=True,
        ),
        CHECKSUM,
    ],
    "requestBody": _bytes("The bytes from `Upload-Offset` on.", required=True),
    "responses": {
        "204": {
            "headers": ECHOED
            | {"Upload-Offset": REACHED, "Upload-Expires": EXPIRES, "Link": FILE_LINK}
        }
    },
}
STATUS = {
    "parameters": [RESUMABLE],
    "responses": {
        "200": {
            "headers": ECHOED
            | {
                "Upload-Offset": REACHED,
                "Upload-Length": _answer("The whole file's size.", OFFSET),
                "Upload-Expires": EXPIRES,
                "Link": FILE_LINK,
            }
        }
    },
}
TERMINATE = {"parameters": [RESUMABLE], "responses": {"204": {"headers": ECHOED}}}
