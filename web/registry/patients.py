"""The register's screens: finding a patient (name, birth date, policy number), registering one
(the namesakes and policy numbers on record named, and "register anyway" where the API allows
it), and the patient's page with their episodes and visits."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from web.cases.api import Refusal
from web.cases.deps import DirectoryDep
from web.cases.forms import FormState, form_values, refused
from web.deps import SignedIn, SignedInDep, SignedInFormDep
from web.registry.api import Duplicates, RegistryApi, RegistryApiDep
from web.registry.schemas import Episode, Series
from web.registry.views import render, visit

router = APIRouter(include_in_schema=False)
# The search's own names: the registration form beside it has `birth_date` and `policy_number`.
SEARCH = ("name", "born", "policy")
FIELDS = (
    "full_name",
    "birth_date",
    "sex",
    "policy_number",
    "phone",
    "email",
    "language",
    "organization_id",
)
OPTIONAL = ("policy_number", "phone", "email")
Text = Annotated[str, Query(max_length=255)]
# The 409's `reason` for a namesake (policy numbers are never registered twice): the only
# duplicate "register anyway" (`allow_namesake`) gets past.
NAMESAKE, POLICY_NUMBER = "namesake", "policy_number"


def _field(location: tuple[str | int, ...]) -> str | None:
    return str(location[0]) if location and str(location[0]) in FIELDS else None


def _search_field(location: tuple[str | int, ...]) -> str | None:
    asked = {"q": "name", "birth_date": "born", "policy_number": "policy"}
    return asked.get(str(location[0])) if location else None


async def _find_page(
    request: Request,
    api: RegistryApi,
    signed_in: SignedIn,
    search: FormState,
    registration: FormState,
    *,
    found: Any = None,
    duplicates: Duplicates | None = None,
    status: int = 200,
) -> Response:
    token = signed_in.access_token
    organizations = await api.acting_organizations(token)
    if not registration.values.get("organization_id") and organizations:
        registration.values["organization_id"] = str(organizations[0].id)
    context = {
        "search": search,
        "form": registration,
        "found": found,
        "duplicates": duplicates.items if duplicates else [],
        "namesake": bool(duplicates and duplicates.reason == NAMESAKE),
        # Said in the reader's language even when the one on record is not theirs to see.
        "policy_taken": bool(duplicates and duplicates.reason == POLICY_NUMBER),
        "organization_options": [(str(each.id), each.name) for each in organizations],
        "organization_names": {each.id: each.name for each in organizations},
        "form_key": uuid.uuid4().hex,
    }
    return render(request, "registry/patients.html", context, status=status)


@router.get("/patients")
async def find_patients(
    request: Request,
    signed_in: SignedInDep,
    api: RegistryApiDep,
    name: Text = "",
    born: Text = "",
    policy: Text = "",
) -> Response:
    """The search and the registration form; with any criterion, the patients found."""
    search = FormState(
        values={
            "name": name.strip(),
            "born": born.strip(),
            "policy": policy.strip(),
        }
    )
    found: Any = None
    if any(search.values.values()):
        found = await api.find(
            signed_in.access_token,
            name=search.values["name"],
            birth_date=search.values["born"],
            policy_number=search.values["policy"],
        )
        if isinstance(found, Refusal):
            search, found = refused(found, search.values, _search_field), None
    registration = FormState(values={"language": "ru"})
    return await _find_page(request, api, signed_in, search, registration, found=found)


def _registration_body(values: dict[str, str], anyway: bool) -> dict[str, Any]:
    body: dict[str, Any] = {name: values[name] for name in ("full_name", "birth_date", "sex")}
    body |= {name: values[name] for name in OPTIONAL if values[name]}
    body["language"] = values["language"] or "ru"
    if values["organization_id"]:
        body["organization_id"] = values["organization_id"]
    return body | ({"allow_namesake": True} if anyway else {})


@router.post("/patients")
async def register_patient(
    request: Request, signed_in: SignedInFormDep, api: RegistryApiDep
) -> Response:
    form = await request.form()
    values = form_values(form, FIELDS)
    anyway = form.get("anyway") == "yes"
    key = str(form.get("form_key") or "")[:64] or None
    result = await api.register(signed_in.access_token, _registration_body(values, anyway), key)
    if isinstance(result, Refusal | Duplicates):
        refusal = result.refusal if isinstance(result, Duplicates) else result
        state = refused(refusal, values, _field)
        duplicates = result if isinstance(result, Duplicates) else None
        return await _find_page(
            request,
            api,
            signed_in,
            FormState(),
            state,
            duplicates=duplicates,
            status=refusal.status,
        )
    return RedirectResponse(f"/patients/{result.id}?saved=registered", status_code=303)


async def show_patient(
    request: Request,
    api: RegistryApi,
    directory: DirectoryDep,
    signed_in: SignedIn,
    patient_id: uuid.UUID,
    *,
    saved: str | None = None,
    forms: dict[str, FormState] | None = None,
    series: Series | None = None,
    status: int = 200,
) -> Response:
    """The patient (another organisation's is the API's 404), their episodes newest first, each
    with its visits; `forms` holds a refused step's form by its name (`cancel-<id>`, ...)."""
    token = signed_in.access_token
    patient = await api.patient(token, patient_id)
    episodes = await api.episodes(token, patient_id)
    language, zone = request.state.language, signed_in.session.timezone
    practitioners = [episode.practitioner_id for episode in episodes]
    context = {
        "patient": patient,
        "episodes": [
            (episode, [visit(item, zone, language) for item in episode.appointments])
            for episode in episodes
        ],
        "people": await directory.people(api, token, practitioners),
        "organizations": await directory.organizations(api, token),
        "saved": saved,
        "forms": forms or {},
        "series": series,
        "series_zone": {episode.id: _zone_of(episode) for episode in episodes},
        "form_key": uuid.uuid4().hex,
    }
    return render(request, "registry/patient.html", context, status=status)


def _zone_of(episode: Episode) -> str | None:
    """The specialist's zone, which a series' local times are in."""
    return episode.appointments[0].local.timezone if episode.appointments else None


@router.get("/patients/{patient_id}")
async def patient_page(
    request: Request,
    patient_id: uuid.UUID,
    signed_in: SignedInDep,
    api: RegistryApiDep,
    directory: DirectoryDep,
    saved: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    return await show_patient(request, api, directory, signed_in, patient_id, saved=saved)
