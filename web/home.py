"""The home page: a short welcome for the person's role, and the navigation."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from web.deps import SignedInDep
from web.templating import render_page

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(request: Request, signed_in: SignedInDep) -> Response:
    return render_page(request, "home.html", {"role": signed_in.session.role})
