"""The console's static files under names that change with their content, served with a year's
cache: a browser on a weak link downloads each version of a file once.

`/static/<digest>/<path>`: the digest is the first 12 hex characters of the file's SHA-256.
The files are read once at start (some tens of KiB) and served from memory. A page always names
the current digest; an old one is a 404, which only a page rendered before a deployment can ask
for.
"""

import hashlib
import mimetypes
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.common.errors import NotFound

STATIC = Path(__file__).parent / "static"
PREFIX = "/static"
IMMUTABLE = "public, max-age=31536000, immutable"
router = APIRouter(include_in_schema=False)


class Assets:
    def __init__(self, root: Path = STATIC) -> None:
        self.files: dict[str, tuple[str, bytes]] = {}
        for path in sorted(root.rglob("*")):
            if path.is_file():
                content = path.read_bytes()
                digest = hashlib.sha256(content).hexdigest()[:12]
                self.files[path.relative_to(root).as_posix()] = (digest, content)

    def url(self, name: str) -> str:
        """The versioned URL of a file under web/static; a name that is not there is a fault
        of the template that asks for it (for vendor files: `make assets` was not run)."""
        return f"{PREFIX}/{self.files[name][0]}/{name}"

    def content(self, digest: str, name: str) -> bytes | None:
        found = self.files.get(name)
        return found[1] if found is not None and found[0] == digest else None


@router.get(PREFIX + "/{digest}/{name:path}")
async def static_file(digest: str, name: str, request: Request) -> Response:
    assets: Assets = request.app.state.assets
    content = assets.content(digest, name)
    if content is None:
        raise NotFound("No such file.")
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if media_type.startswith("text/") or media_type == "application/javascript":
        media_type += "; charset=utf-8"
    return Response(content, media_type=media_type, headers={"Cache-Control": IMMUTABLE})
