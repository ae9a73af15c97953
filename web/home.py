"""The home page: a short welcome for the person's role, and the navigation; a patient's home
is their visits (web/patients/visits.py)."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from web.deps import SignedInDep
from web.patients.api import PatientApiDep
from web.patients.visits import home_page
from web.templating import render_page

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(request: Request, signed_in: SignedInDep, api: PatientApiDep) -> Response:
    if signed_in.session.role == "patient":
        return await home_page(request, signed_in, api)
    return render_page(request, "home.html", {"role": signed_in.session.role})
