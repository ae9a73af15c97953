"""Consult's figures as the figures screen calls them, through the gateway with the person's
own token: consult decides whose figures they may see (a coordinator their region's)."""

import uuid
from datetime import date
from typing import Annotated

from fastapi import Depends, Request

from web.cases.api import CONSULT, CasesApi, Refusal
from web.figures.schemas import Figures


class FiguresApi(CasesApi):
    async def figures(
        self,
        bearer: str,
        *,
        first: date | None,
        last: date | None,
        group_by: str,
        organization_id: uuid.UUID | None,
        specialty: str | None,
    ) -> Figures | Refusal:
        """The period's figures; a refusal (a period consult does not take, another region's
        organisation) for the page to say beside the form."""
        params: dict[str, str] = {"group_by": group_by}
        if first:
            params["from"] = first.isoformat()
        if last:
            params["to"] = last.isoformat()
        if organization_id:
            params["organization_id"] = str(organization_id)
        if specialty:
            params["specialty"] = specialty
        response = await self.request(
            "GET", f"{CONSULT}/stats", bearer, ok=(200, 403, 422), params=params
        )
        if response.status_code != 200:
            return Refusal.of(response)
        return self._parse(response, Figures)


def _api(request: Request) -> FiguresApi:
    # A thin wrapper of the app's one pooled client to the gateway (its lifespan opens it).
    return FiguresApi(request.app.state.gateway_client)


FiguresApiDep = Annotated[FiguresApi, Depends(_api)]
