"""An appeal's page: the caller, the appeal and its answer, its thread of messages (refreshed
by htmx, with a reply box), the deadline, its calls (with their recordings), callbacks and
history, and the steps the operator takes from it: take it, route a new one by hand, reassign
it with a reason, resolve it with what was done, answer it with where to go, or close it.
Each step is a plain form (post, then back to the page); consult's refusal is said beside the
step's form."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from services.common.db import utcnow
from services.common.errors import NotFound
from web.appeals import resolving
from web.appeals.api import AppealsApi, AppealsApiDep
from web.appeals.labels import OPEN_STATUSES
from web.appeals.views import TerritoryMaps, deadline, refused_form, render
from web.cases.api import Refusal
from web.cases.deps import DirectoryDep
from web.cases.forms import FormState, form_values
from web.cases.views import Directory
from web.deps import SignedInDep, SignedInFormDep
from web.knowledge.api import KnowledgeApi
from web.knowledge.schemas import Article
from web.models import BrowserSession

router = APIRouter(include_in_schema=False)
# Each step's form fields; consult's transition table decides which it takes now.
STEPS: dict[str, tuple[str, ...]] = {
    "take": (),
    "route": ("organization_id",),
    "reassign": ("organization_id", "reason"),
    "resolve": resolving.FIELDS,
    "redirect": ("topic",),
    "close": ("reason",),
}
# How often an open appeal's page asks what is new in its thread: a chat's person may write more.
THREAD_REFRESH_SECONDS = 10
STOP_POLLING = 286  # htmx stops a poll whose answer has this status
MAX_MESSAGE_ID = 2**63 - 1  # consult's message ids are a 64-bit sequence
# Articles the resolve step offers to cite: the best for the appeal's topic and words.
ARTICLES = 10
OFFERED = {
    "new": ("route", "redirect", "close"),
    "routed": ("take", "reassign", "resolve", "redirect", "close"),
    "in_progress": ("reassign", "resolve", "redirect", "close"),
}


def step_body(step: str, values: dict[str, str]) -> dict[str, Any]:
    """The step's body as typed, for consult to check."""
    return resolving.body_of(values) if step == "resolve" else dict(values)


async def cited(
    knowledge: KnowledgeApi, token: str, article_id: uuid.UUID | None
) -> Article | None:
    """The article the answer cites, to name it; None when it cites none, or one the reader
    may no longer read (archived since, another region's after a reassignment)."""
    if article_id is None:
        return None
    try:
        return await knowledge.article(token, article_id)
    except NotFound:
        return None


async def show(
    request: Request,
    api: AppealsApi,
    directory: Directory,
    token: str,
    appeal_id: uuid.UUID,
    *,
    forms: dict[str, FormState] | None = None,
    status: int = 200,
    saved: str | None = None,
) -> Response:
    """The page as it stands; `forms` holds a refused step's form (its values and messages)."""
    appeal = await api.appeal(token, appeal_id)  # another region's appeal: the 404 page
    events = await api.history(token, appeal_id)
    callbacks = await api.appeal_callbacks(token, appeal_id)
    calls = await api.appeal_calls(token, appeal_id)
    thread = await api.thread(token, appeal_id)
    organizations = await directory.organizations(api, token)
    maps: TerritoryMaps = request.app.state.territory_maps
    visitor: BrowserSession = request.state.visitor  # signed in: the page's dependency saw to it
    assert visitor.user_id is not None
    territories = {each.code: each.name for each in await maps.of(api, token, visitor.user_id)}
    actors = [event.actor_id for event in events]
    actors += [attempt.operator_id for callback in callbacks for attempt in callback.attempt_log]
    actors += [call.linked_by for call in calls if call.linked_by]
    actors += [message.author_id for message in thread if message.author_id]
    knowledge = KnowledgeApi(request.app.state.gateway_client)
    region = sorted(
        (each for each in organizations.values() if each.region == appeal.region),
        key=lambda each: each.name,
    )
    context = {
        "appeal": appeal,
        "territory_name": territories.get(appeal.territory_code),
        "events": events,
        "callbacks": callbacks,
        "calls": calls,
        "thread": thread,
        "thread_refresh": THREAD_REFRESH_SECONDS,
        "organizations": organizations,
        "targets": [each for each in region if each.id != appeal.organization_id],
        "region_organizations": region,
        # What a resolution of this appeal may say was done, as consult offers it.
        "offered_actions": await api.resolution_actions(token, appeal.category)
        if "resolve" in OFFERED.get(appeal.status, ())
        else [],
        # The knowledge base's articles for this appeal, one of which its answer may cite.
        "articles": await knowledge.suggest(
            token, appeal.redirect_topic or appeal.category, appeal.text, limit=ARTICLES
        )
        if "resolve" in OFFERED.get(appeal.status, ())
        else [],
        "cited": await cited(knowledge, token, appeal.article_id),
        "people": await directory.people(api, token, actors),
        "deadline": deadline(appeal, utcnow(), request.state.language),
        "steps": OFFERED.get(appeal.status, ()),
        "forms": forms or {},
        "saved": saved,
    }
    return render(request, "appeals/appeal.html", context, status=status)


@router.get("/appeals/{appeal_id}")
async def appeal_page(
    request: Request,
    appeal_id: uuid.UUID,
    signed_in: SignedInDep,
    api: AppealsApiDep,
    directory: DirectoryDep,
    saved: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    return await show(request, api, directory, signed_in.access_token, appeal_id, saved=saved)


async def take_step(
    request: Request,
    appeal_id: uuid.UUID,
    step: str,
    token: str,
    api: AppealsApi,
    directory: Directory,
) -> Response:
    form = await request.form()
    values = resolving.values_of(form) if step == "resolve" else form_values(form, STEPS[step])
    result = await api.appeal_step(token, appeal_id, step, step_body(step, values))
    if isinstance(result, Refusal):
        state = refused_form(result, values)
        return await show(
            request, api, directory, token, appeal_id, forms={step: state}, status=result.status
        )
    return RedirectResponse(f"/appeals/{appeal_id}?saved={step}", status_code=303)


def _route(step: str) -> None:
    async def endpoint(
        request: Request,
        appeal_id: uuid.UUID,
        signed_in: SignedInFormDep,
        api: AppealsApiDep,
        directory: DirectoryDep,
    ) -> Response:
        token = signed_in.access_token
        return await take_step(request, appeal_id, step, token, api, directory)

    router.add_api_route(f"/appeals/{{appeal_id}}/{step}", endpoint, methods=["POST"])


for _step in STEPS:
    _route(_step)


@router.get("/appeals/{appeal_id}/thread")
async def thread_news(
    request: Request,
    appeal_id: uuid.UUID,
    signed_in: SignedInDep,
    api: AppealsApiDep,
    directory: DirectoryDep,
    after: Annotated[int, Query(ge=0, le=MAX_MESSAGE_ID)] = 0,
) -> Response:
    """The page's periodic ask (htmx) for what is new after its last message, `after`: the new
    messages to add, the sending of those shown, never the appeal again. Once the appeal is
    closed the answer is 286, htmx's word for "stop asking"."""
    token = signed_in.access_token
    news = await api.thread_news(token, appeal_id, after)
    authors = [message.author_id for message in news.messages if message.author_id]
    context = {"news": news, "after": after, "people": await directory.people(api, token, authors)}
    status = 200 if news.status in OPEN_STATUSES else STOP_POLLING
    return render(request, "appeals/thread.html", context, status=status)


@router.post("/appeals/{appeal_id}/reply")
async def reply(
    request: Request,
    appeal_id: uuid.UUID,
    signed_in: SignedInFormDep,
    api: AppealsApiDep,
    directory: DirectoryDep,
) -> Response:
    token = signed_in.access_token
    values = form_values(await request.form(), ("text",))
    result = await api.reply(token, appeal_id, values.get("text", ""))
    if isinstance(result, Refusal):
        state = refused_form(result, values)
        return await show(
            request, api, directory, token, appeal_id, forms={"reply": state}, status=result.status
        )
    return RedirectResponse(f"/appeals/{appeal_id}?saved=reply#thread-heading", status_code=303)
