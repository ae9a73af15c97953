"""Consult's appeals and callbacks API as the hotline screens call it, through the gateway with
the operator's own token: consult routes, counts the deadlines and decides who may do what."""

import uuid
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Depends, Request

from web.appeals.schemas import (
    Appeal,
    AppealEvent,
    AppealPage,
    Call,
    Callback,
    CallbackPage,
    FiledAppeal,
    OrganizationHours,
    Preview,
    RecordingsGrant,
    RedirectAnswer,
    ResolutionChoice,
    Territory,
    ThreadMessage,
    ThreadNews,
)
from web.cases.api import CONSULT, DIRECTORY, CasesApi, Refusal


class AppealsApi(CasesApi):
    async def territories(self, bearer: str) -> list[Territory]:
        """The caller's region's territory map, by code."""
        response = await self.request("GET", f"{CONSULT}/appeal-territories", bearer)
        return self._parse_list(response, Territory)

    async def preview(
        self,
        bearer: str,
        territory: str | None,
        channel: str,
        category: str,
        topic: str | None,
        language: str,
    ) -> Preview | None:
        """What filing now would do; None for values consult does not take (the form says
        what is wrong with them when it is sent)."""
        params = {"channel": channel, "category": category, "language": language}
        params |= {"territory": territory} if territory else {}
        params |= {"topic": topic} if topic else {}
        response = await self.request(
            "GET", f"{CONSULT}/appeal-preview", bearer, ok=(200, 422), params=params
        )
        return self._parse(response, Preview) if response.status_code == 200 else None

    async def organization_hours(
        self, bearer: str, organization_id: uuid.UUID
    ) -> OrganizationHours:
        response = await self.request("GET", f"{DIRECTORY}/organizations/{organization_id}", bearer)
        return self._parse(response, OrganizationHours)

    async def file_appeal(
        self, bearer: str, body: dict[str, Any], idempotency_key: str | None
    ) -> FiledAppeal | Refusal:
        """Files the appeal, and with a `callback` in `body` schedules its call in the same
        request (consult says in `callback_refused` why it could not)."""
        return await self._submit(
            "POST", f"{CONSULT}/appeals", bearer, FiledAppeal, idempotency_key=idempotency_key,
            json=body,
        )  # fmt: skip

    async def appeals(
        self,
        bearer: str,
        *,
        statuses: Sequence[str] = (),
        organization_id: uuid.UUID | None = None,
        cursor: str | None = None,
        limit: int = 20,
    ) -> AppealPage:
        """The region's appeals by deadline (`due_at`), keyset-paginated."""
        params: list[tuple[str, str | int]] = [("limit", limit)]
        params += [("status", status) for status in statuses]
        if organization_id is not None:
            params.append(("organization_id", str(organization_id)))
        if cursor:
            params.append(("cursor", cursor))
        response = await self.request("GET", f"{CONSULT}/appeals", bearer, params=params)
        return self._parse(response, AppealPage)

    async def appeal(self, bearer: str, appeal_id: uuid.UUID) -> Appeal:
        response = await self.request("GET", f"{CONSULT}/appeals/{appeal_id}", bearer)
        return self._parse(response, Appeal)

    async def history(self, bearer: str, appeal_id: uuid.UUID) -> list[AppealEvent]:
        response = await self.request("GET", f"{CONSULT}/appeals/{appeal_id}/history", bearer)
        return self._parse_list(response, AppealEvent)

    async def thread(self, bearer: str, appeal_id: uuid.UUID) -> list[ThreadMessage]:
        response = await self.request("GET", f"{CONSULT}/appeals/{appeal_id}/messages", bearer)
        return self._parse_list(response, ThreadMessage)

    async def thread_news(self, bearer: str, appeal_id: uuid.UUID, after: int) -> ThreadNews:
        """The thread's messages after `after` and the sending of those up to it."""
        path = f"{CONSULT}/appeals/{appeal_id}/messages/news"
        response = await self.request("GET", path, bearer, params={"after": after})
        return self._parse(response, ThreadNews)

    async def reply(self, bearer: str, appeal_id: uuid.UUID, text: str) -> ThreadMessage | Refusal:
        """A reply to the person; consult sends it to their chat if the appeal came by one."""
        path = f"{CONSULT}/appeals/{appeal_id}/messages"
        return await self._submit("POST", path, bearer, ThreadMessage, json={"text": text})

    async def appeal_callbacks(self, bearer: str, appeal_id: uuid.UUID) -> list[Callback]:
        response = await self.request("GET", f"{CONSULT}/appeals/{appeal_id}/callbacks", bearer)
        return self._parse_list(response, Callback)

    async def resolution_actions(self, bearer: str, category: str) -> list[ResolutionChoice]:
        """What a resolution of an appeal of `category` may say was done, in consult's order."""
        response = await self.request(
            "GET",
            f"{CONSULT}/appeal-resolution-actions",
            bearer,
            params={"category": category},
        )
        return self._parse_list(response, ResolutionChoice)

    async def appeal_step(
        self, bearer: str, appeal_id: uuid.UUID, action: str, body: dict[str, Any]
    ) -> Appeal | Refusal:
        """A step of the appeal's lifecycle: `take`, `route`, `reassign`, `resolve`, `close`."""
        path = f"{CONSULT}/appeals/{appeal_id}/{action}"
        return await self._submit("POST", path, bearer, Appeal, json=body)

    async def appeal_calls(self, bearer: str, appeal_id: uuid.UUID) -> list[Call]:
        response = await self.request("GET", f"{CONSULT}/appeals/{appeal_id}/calls", bearer)
        return self._parse_list(response, Call)

    async def unlinked_calls(self, bearer: str) -> list[Call]:
        """The operator's hotline's recent calls no appeal is linked to, newest first; none for
        an operator of no hotline (consult's 403)."""
        response = await self.request(
            "GET", f"{CONSULT}/calls", bearer, ok=(200, 403), params={"linked": "false"}
        )
        return self._parse_list(response, Call) if response.status_code == 200 else []

    async def pbx_call(self, bearer: str, call_id: uuid.UUID) -> Call | None:
        """The call, or None when consult shows the operator no such call."""
        response = await self.request("GET", f"{CONSULT}/calls/{call_id}", bearer, ok=(200, 404))
        return self._parse(response, Call) if response.status_code == 200 else None

    async def recordings_grant(self, bearer: str, appeal_id: uuid.UUID) -> RecordingsGrant:
        """Consult's grant to hear the recordings of the appeal's calls (minutes)."""
        path = f"{CONSULT}/appeals/{appeal_id}/calls/grant"
        return self._parse(await self.request("POST", path, bearer), RecordingsGrant)

    async def due_callbacks(self, bearer: str, limit: int) -> CallbackPage:
        """The operator's organisation's calls due now, earliest first."""
        response = await self.request(
            "GET", f"{CONSULT}/callbacks/due", bearer, params={"limit": limit}
        )
        return self._parse(response, CallbackPage)

    async def attempt(
        self, bearer: str, callback_id: uuid.UUID, outcome: str, idempotency_key: str | None
    ) -> Callback | Refusal:
        path = f"{CONSULT}/callbacks/{callback_id}/attempts"
        return await self._submit(
            "POST", path, bearer, Callback, idempotency_key=idempotency_key,
            json={"outcome": outcome},
        )  # fmt: skip

    async def redirect_answers(
        self, bearer: str, organization_id: uuid.UUID
    ) -> list[RedirectAnswer]:
        """Every topic in Russian and English, as the organisation's callers are told it."""
        path = f"{CONSULT}/organizations/{organization_id}/redirect-answers"
        return self._parse_list(await self.request("GET", path, bearer), RedirectAnswer)

    async def word_answer(
        self, bearer: str, organization_id: uuid.UUID, topic: str, language: str, text: str
    ) -> RedirectAnswer | Refusal:
        path = f"{CONSULT}/organizations/{organization_id}/redirect-answers/{topic}/{language}"
        return await self._submit("PUT", path, bearer, RedirectAnswer, json={"text": text})

    async def reset_answer(
        self, bearer: str, organization_id: uuid.UUID, topic: str, language: str
    ) -> None:
        """Back to the built-in answer; one that is built-in already (a second click) stays."""
        path = f"{CONSULT}/organizations/{organization_id}/redirect-answers/{topic}/{language}"
        await self.request("DELETE", path, bearer, ok=(204, 404))


def _api(request: Request) -> AppealsApi:
    # A thin wrapper of the app's one pooled client to the gateway (its lifespan opens it).
    return AppealsApi(request.app.state.gateway_client)


AppealsApiDep = Annotated[AppealsApi, Depends(_api)]
