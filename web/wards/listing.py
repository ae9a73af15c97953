"""`/wards`: the wards the person manages or may watch (beds, occupied beds, the overview of
one or several), and adding a ward for a hospital's coordinators, who pick the regional
centres that watch it from the directory's organisations."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.common.errors import NotFound
from web.cases.api import Refusal
from web.cases.forms import FormState, refused
from web.deps import SignedIn, SignedInDep, SignedInFormDep
from web.navigation import WARDS, navigation
from web.templating import render_page
from web.wards.api import WardsApi, WardsApiDep
from web.wards.forms import field_of, ward_form, watcher_choices

router = APIRouter(include_in_schema=False)


def require_screen(signed_in: SignedIn) -> None:
    """The ward screens are the roles' whose navigation has them (the service shows the
    others no ward anyway): anyone else finds no such page."""
    if WARDS not in navigation(signed_in.session.role):
        raise NotFound("No such page.")


@router.get("/wards")
async def wards_page(request: Request, signed_in: SignedInDep, api: WardsApiDep) -> Response:
    require_screen(signed_in)
    wards = await api.wards(signed_in.access_token)
    context = {"wards": wards, "adds": signed_in.session.role == "coordinator"}
    return render_page(request, "wards/list.html", context)


async def _new_form(
    request: Request, api: WardsApi, token: str, state: FormState, status: int = 200
) -> Response:
    me = await api.me(token)
    choices = watcher_choices(
        await api.organizations(token), me.organization_id, state.values.get("watcher_ids", "")
    )
    context = {"form": state, "watcher_choices": choices}
    return render_page(request, "wards/new.html", context, status=status)


@router.get("/wards/new")
async def new_ward_form(request: Request, signed_in: SignedInDep, api: WardsApiDep) -> Response:
    require_screen(signed_in)
    return await _new_form(request, api, signed_in.access_token, FormState())


@router.post("/wards/new")
async def add_ward(request: Request, signed_in: SignedInFormDep, api: WardsApiDep) -> Response:
    require_screen(signed_in)
    values, body = ward_form(await request.form())
    token = signed_in.access_token
    result = await api.create_ward(token, body)
    if isinstance(result, Refusal):
        state = refused(result, values, field_of)
        return await _new_form(request, api, token, state, status=result.status)
    return RedirectResponse(f"/wards/{result.id}/manage?saved=created", status_code=303)
