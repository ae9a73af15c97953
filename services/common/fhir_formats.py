"""Which formats the FHIR views offer: JSON only. A request for another (`_format=xml`,
`Accept: application/fhir+xml`) is a 406, so a client never takes JSON for what it asked."""

from fastapi import Request

# `_format` values meaning JSON (FHIR R4 3.1.0.1.10: mime types and the short `json`).
JSON_FORMATS = frozenset(
    {"json", "application/json", "application/fhir+json", "application/json+fhir"}
)
JSON_TYPES = frozenset({"application/json", "application/fhir+json", "application/json+fhir"})
OFFERED = "application/fhir+json (or `_format=json`)"


def _accepts_json(accept: str) -> bool:
    """Whether some media range of `Accept` with a non-zero quality covers JSON."""
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        quality = next((p.partition("=")[2] for p in params if p.startswith("q=")), "1")
        try:
            wanted = float(quality) > 0
        except ValueError:
            wanted = False
        if wanted and (media.lower() in JSON_TYPES | {"*/*", "application/*"}):
            return True
    return False


def unoffered_format(request: Request) -> str | None:
    """Why the request asks for a format we do not offer, or None when JSON will do."""
    formats = request.query_params.getlist("_format")
    for value in formats:
        # An unencoded `+` in a query is a space: `_format=application/fhir+json` arrives so.
        if value.strip().lower().replace(" ", "+").partition(";")[0] not in JSON_FORMATS:
            return f"`_format={value}` is not offered; this server answers {OFFERED}."
    accept = request.headers.get("accept", "").strip()
    if not formats and accept and not _accepts_json(accept):
        return f"`Accept: {accept}` is not offered; this server answers {OFFERED}."
    return None
