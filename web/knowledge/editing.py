"""Writing the knowledge base: a new article (a draft), an edit of one (a new version, made on
the version the form was given), publishing and archiving it. Each is a plain form: post, then
the article's page; consult's refusal is said beside the fields it names."""

import re
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from web.cases.api import Refusal
from web.cases.forms import MAX_VALUE, FormState, form_values, refused
from web.deps import SignedInDep, SignedInFormDep
from web.knowledge.api import KnowledgeApi, KnowledgeApiDep
from web.knowledge.labels import CATEGORIES, LANGUAGES
from web.knowledge.schemas import Article
from web.knowledge.views import render

router = APIRouter(include_in_schema=False)
TEMPLATE = "knowledge/form.html"
FIELDS = ("title", "language", "categories", "regions", "body", "note", "version")
NAMED = frozenset(FIELDS)
ACTIONS = ("publish", "archive")


def field_of(location: tuple[str | int, ...]) -> str | None:
    """The form field an error is about: a category's or region's is the list's."""
    name = str(location[0]) if location else ""
    return name if name in NAMED else None


def values_of(form: FormData) -> dict[str, str]:
    """The form as typed; the ticked categories joined by spaces, as the form keeps values."""
    values = form_values(form, FIELDS)
    ticked = [value.strip() for value in form.getlist("categories") if isinstance(value, str)]
    values["categories"] = " ".join(value for value in ticked if value)[:MAX_VALUE]
    return values


def article_values(article: Article) -> dict[str, str]:
    return {
        "title": article.title,
        "language": article.language,
        "categories": " ".join(article.categories),
        "regions": " ".join(article.regions),
        "body": article.body,
        "note": "",
        "version": str(article.version),
    }


def body_of(values: dict[str, str], *, edit: bool) -> dict[str, Any]:
    """Consult's body, values as typed for consult to check. New, an article without regions
    holds in the writer's own (every region for an administrator's); edited, none means every
    region."""
    regions = [code.upper() for code in re.split(r"[\s,;]+", values["regions"]) if code]
    body: dict[str, Any] = {
        "title": values["title"],
        "language": values["language"],
        "categories": values["categories"].split(),
        "body": values["body"],
    }
    if regions or edit:
        body["regions"] = regions
    if values["note"]:
        body["note"] = values["note"]
    if edit:
        body["version"] = values["version"]
    return body


def _form(
    request: Request,
    state: FormState,
    *,
    article_id: uuid.UUID | None = None,
    status: int = 200,
) -> Response:
    context = {
        "form": state,
        "article_id": article_id,
        "category_choices": CATEGORIES,
        "language_choices": LANGUAGES,
        "form_key": uuid.uuid4().hex,
    }
    return render(request, TEMPLATE, context, status=status)


def _saved(article_id: uuid.UUID, what: str) -> Response:
    return RedirectResponse(f"/knowledge/articles/{article_id}?saved={what}", status_code=303)


@router.get("/knowledge/new")
async def new_article(request: Request, signed_in: SignedInDep) -> Response:
    state = FormState(values={"language": request.state.language})
    return _form(request, state)


@router.post("/knowledge/new")
async def create_article(
    request: Request, signed_in: SignedInFormDep, api: KnowledgeApiDep
) -> Response:
    """A form sent twice (a double click, a reload of the answer) writes one article."""
    form = await request.form()
    values = values_of(form)
    form_key = str(form.get("form_key") or "")[:64] or None
    result = await api.create(signed_in.access_token, body_of(values, edit=False), form_key)
    if isinstance(result, Refusal):
        return _form(request, refused(result, values, field_of), status=result.status)
    return _saved(result.id, "created")


@router.get("/knowledge/articles/{article_id}/edit")
async def edit_form(
    request: Request, article_id: uuid.UUID, signed_in: SignedInDep, api: KnowledgeApiDep
) -> Response:
    article = await api.article(signed_in.access_token, article_id)
    return _form(request, FormState(values=article_values(article)), article_id=article_id)


@router.post("/knowledge/articles/{article_id}/edit")
async def edit_article(
    request: Request, article_id: uuid.UUID, signed_in: SignedInFormDep, api: KnowledgeApiDep
) -> Response:
    values = values_of(await request.form())
    result = await api.edit(signed_in.access_token, article_id, body_of(values, edit=True))
    if isinstance(result, Refusal):
        state = refused(result, values, field_of)
        return _form(request, state, article_id=article_id, status=result.status)
    return _saved(result.id, "edited")


async def _change(
    request: Request, article_id: uuid.UUID, action: str, token: str, api: KnowledgeApi
) -> Response:
    result = await api.change_status(token, article_id, action)
    if isinstance(result, Refusal):  # published or archived meanwhile: the page says how it is
        return RedirectResponse(f"/knowledge/articles/{article_id}", status_code=303)
    return _saved(result.id, action)


def _route(action: str) -> None:
    async def endpoint(
        request: Request, article_id: uuid.UUID, signed_in: SignedInFormDep, api: KnowledgeApiDep
    ) -> Response:
        return await _change(request, article_id, action, signed_in.access_token, api)

    router.add_api_route(f"/knowledge/articles/{{article_id}}/{action}", endpoint, methods=["POST"])


for _action in ACTIONS:
    _route(_action)
