"""The redirect answers' screen: what an organisation's callers are told, in Russian and English,
on each topic the channels do not handle; its coordinators and the administrators word them,
see the built-in answer where the organisation has none, and go back to it. A formulaic answer
is refused by consult, its reason said beside the text."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from services.common.errors import Forbidden
from web.appeals.api import AppealsApi, AppealsApiDep
from web.appeals.labels import EXCLUDED_TOPICS
from web.appeals.schemas import RedirectAnswer
from web.appeals.views import render
from web.cases.api import Refusal
from web.cases.deps import DirectoryDep
from web.cases.forms import FormState, form_values
from web.cases.views import Directory
from web.deps import SignedInDep, SignedInFormDep
from web.navigation import N_

router = APIRouter(include_in_schema=False)
# Consult's vocabularies (`RedirectTopic`, `AnswerLanguage`): a path outside them is a 404.
TOPIC = Annotated[str, Path(pattern="^(" + "|".join(EXCLUDED_TOPICS) + ")$")]
LANGUAGE = Annotated[str, Path(pattern="^(ru|en)$")]
# The languages in the order the screen shows them (msgids: the template translates them).
LANGUAGES = {"ru": N_("Russian"), "en": N_("English")}


def key_of(topic: str, language: str) -> str:
    """The id of one answer's form on the page (and the anchor a save returns to)."""
    return f"answer-{topic}-{language}"


def message_of(refusal: Refusal, text: str) -> str:
    """The code the page words: a formulaic answer's reason, an answer too short; else
    consult's own words."""
    for issue in refusal.errors:
        if issue.kind.startswith("formulaic."):
            return issue.kind
        if issue.kind == "string_too_short":
            return "short_answer" if text else "missing"
        return issue.message
    return refusal.detail


async def show(
    request: Request,
    api: AppealsApi,
    directory: Directory,
    token: str,
    organization_id: uuid.UUID,
    *,
    refused: tuple[str, FormState] | None = None,
    status: int = 200,
) -> Response:
    answers = await api.redirect_answers(token, organization_id)
    organizations = await directory.organizations(api, token)
    by_topic: dict[str, dict[str, RedirectAnswer]] = {}
    for answer in answers:
        by_topic.setdefault(answer.topic, {})[answer.language] = answer
    authors = [answer.updated_by for answer in answers if answer.updated_by]
    context = {
        "organization": organizations.get(organization_id),
        "organization_id": organization_id,
        "topics": [(topic, by_topic[topic]) for topic in EXCLUDED_TOPICS if topic in by_topic],
        "languages": LANGUAGES,
        "people": await directory.people(api, token, authors),
        "refused": dict([refused]) if refused else {},
        "saved": request.query_params.get("saved"),
        "key_of": key_of,
    }
    return render(request, "appeals/answers.html", context, status=status)


@router.get("/appeals/answers")
async def choose(
    request: Request, signed_in: SignedInDep, api: AppealsApiDep, directory: DirectoryDep
) -> Response:
    """A coordinator words their own organisation's answers; an administrator picks one."""
    token = signed_in.access_token
    me = await api.me(token)
    if me.role == "coordinator" and me.organization_id:
        return RedirectResponse(f"/appeals/answers/{me.organization_id}", status_code=303)
    if me.role != "admin":
        raise Forbidden("Administrators and coordinators word the redirect answers.")
    organizations = await directory.organizations(api, token)
    listed = sorted(organizations.values(), key=lambda each: (each.region, each.name))
    return render(request, "appeals/answers_choice.html", {"organizations": listed})


@router.get("/appeals/answers/{organization_id}")
async def answers_page(
    request: Request,
    organization_id: uuid.UUID,
    signed_in: SignedInDep,
    api: AppealsApiDep,
    directory: DirectoryDep,
) -> Response:
    return await show(request, api, directory, signed_in.access_token, organization_id)


@router.post("/appeals/answers/{organization_id}/{topic}/{language}")
async def word(
    request: Request,
    organization_id: uuid.UUID,
    topic: TOPIC,
    language: LANGUAGE,
    signed_in: SignedInFormDep,
    api: AppealsApiDep,
    directory: DirectoryDep,
) -> Response:
    token = signed_in.access_token
    values = form_values(await request.form(), ("text",))
    result = await api.word_answer(token, organization_id, topic, language, values["text"])
    key = key_of(topic, language)
    if isinstance(result, Refusal):
        state = FormState(values=values, errors={key: [message_of(result, values["text"])]})
        return await show(
            request, api, directory, token, organization_id,
            refused=(key, state), status=result.status,
        )  # fmt: skip
    location = f"/appeals/answers/{organization_id}?saved={key}#{key}"
    return RedirectResponse(location, status_code=303)


@router.post("/appeals/answers/{organization_id}/{topic}/{language}/reset")
async def reset(
    organization_id: uuid.UUID,
    topic: TOPIC,
    language: LANGUAGE,
    signed_in: SignedInFormDep,
    api: AppealsApiDep,
) -> Response:
    await api.reset_answer(signed_in.access_token, organization_id, topic, language)
    key = key_of(topic, language)
    location = f"/appeals/answers/{organization_id}?saved=reset-{key}#{key}"
    return RedirectResponse(location, status_code=303)
