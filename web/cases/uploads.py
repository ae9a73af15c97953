"""The console's tus relay: the page's uploader (tus-js-client) talks to `/uploads` on the
console, which passes each request on to the files service's tus endpoint with the person's
token, kept on the server.

Why a relay and not a token in the page. The gateway issues people no narrower token than
their own (no token exchange; OAuth scopes bind API clients, `require_client_scope`), so "a
short-lived, narrowly scoped token" would today be the person's access token in a script's
hands for its lifetime, readable by any script injected into the page, and it would have to be
renewed in the page for an upload that outlasts it (a 20 MB file takes 11 minutes at
256 kbit/s). Through the relay the page holds nothing but the session cookie (HttpOnly) and
the page's CSRF token, sent as `X-CSRF-Token`, and the files service still sees the person and
audits the upload as theirs. The cost is one more hop inside the data centre per request,
which a rural link never notices (20 MB over loopback: see docs/console.md).

The page sends the file in PATCHes of at most 1 MiB (`chunk_size` on the page), within the
API's body limit for everything but the files service's own upload routes, at the gateway and
here: no new route needs large bodies at the edge. A cut loses at most the part in flight (the
files service keeps the bytes of an interrupted PATCH anyway), and tus-js-client resumes from
the offset the files service reports: after a dropped link by retrying, after a reload once
the person picks the same file again (its URL storage remembers the upload by the file).
"""

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.common.errors import Forbidden
from web.cases.deps import CasesApiDep
from web.deps import ProviderDep, StoreDep, VisitorDep

router = APIRouter(prefix="/uploads", include_in_schema=False)
CSRF_HEADER = "x-csrf-token"
UPSTREAM = "/api/files/uploads"
REQUEST_HEADERS = (
    "tus-resumable",
    "upload-length",
    "upload-offset",
    "upload-metadata",
    "upload-checksum",
    "upload-defer-length",
    "content-type",
    "content-length",
)
RESPONSE_HEADERS = (
    "tus-resumable",
    "tus-version",
    "tus-extension",
    "tus-max-size",
    "tus-checksum-algorithm",
    "upload-offset",
    "upload-length",
    "upload-expires",
    "cache-control",
    "content-type",
    "retry-after",
)


async def _relay(
    request: Request,
    method: str,
    path: str,
    visitor: VisitorDep,
    store: StoreDep,
    provider: ProviderDep,
    api: CasesApiDep,
) -> Response:
    """Refused (403) before anything is read or sent on unless the browser's session is
    signed in and the request carries the page's CSRF token."""
    token = request.headers.get(CSRF_HEADER)
    if visitor is None or not visitor.signed_in or not store.csrf_valid(visitor, token):
        raise Forbidden("Uploads need a signed-in page of the console; reload it.")
    bearer = await store.access_token(visitor, provider)
    headers = {name: request.headers[name] for name in REQUEST_HEADERS if name in request.headers}
    body = request.stream() if method in ("POST", "PATCH") else None
    answer = await api.tus(method, path, bearer, headers, body)
    out = {name: answer.headers[name] for name in RESPONSE_HEADERS if name in answer.headers}
    location = answer.headers.get("location", "")
    if location.startswith(UPSTREAM + "/"):
        out["Location"] = router.prefix + location.removeprefix(UPSTREAM)
    return Response(answer.content, status_code=answer.status_code, headers=out)


@router.post("")
async def create(
    request: Request,
    visitor: VisitorDep,
    store: StoreDep,
    provider: ProviderDep,
    api: CasesApiDep,
) -> Response:
    return await _relay(request, "POST", "", visitor, store, provider, api)


@router.api_route("/{upload_id}", methods=["HEAD", "PATCH", "DELETE"])
async def upload(
    request: Request,
    upload_id: uuid.UUID,
    visitor: VisitorDep,
    store: StoreDep,
    provider: ProviderDep,
    api: CasesApiDep,
) -> Response:
    method = request.method
    return await _relay(request, method, f"/{upload_id}", visitor, store, provider, api)
