"""Consult's home-visit API as the screens call it, through the gateway with the person's own
token: consult routes the call, sets its day and window, and decides who sees what."""

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Request

from web.appeals.schemas import Territory
from web.cases.api import CONSULT, DIRECTORY, CasesApi, Refusal
from web.home_visits.schemas import DayList, Figures, HomeVisit, Preview, Staff

VISITS = f"{CONSULT}/home-visits"
VISITORS = ("district_medic", "specialist")


class HomeVisitsApi(CasesApi):
    async def territories(self, bearer: str) -> list[Territory]:
        """The caller's region's territories: the codes the catchment speaks."""
        response = await self.request("GET", f"{CONSULT}/appeal-territories", bearer)
        return self._parse_list(response, Territory)

    async def preview(self, bearer: str, address: dict[str, str]) -> Preview | None:
        """None for an address consult does not take (the form then says why on saving)."""
        params = {name: value for name, value in address.items() if value}
        response = await self.request(
            "GET", f"{CONSULT}/home-visit-preview", bearer, ok=(200, 422), params=params
        )
        return self._parse(response, Preview) if response.status_code == 200 else None

    async def file_call(
        self, bearer: str, body: dict[str, Any], idempotency_key: str | None
    ) -> HomeVisit | Refusal:
        return await self._submit(
            "POST", VISITS, bearer, HomeVisit, idempotency_key=idempotency_key, json=body
        )

    async def day(
        self, bearer: str, organization_id: uuid.UUID | None, day: date | None
    ) -> DayList | None:
        """None when the organisation's list is not the reader's to see (or is no list)."""
        params: dict[str, str] = {}
        if organization_id:
            params["organization_id"] = str(organization_id)
        if day:
            params["day"] = day.isoformat()
        response = await self.request("GET", VISITS, bearer, ok=(200, 404), params=params)
        return self._parse(response, DayList) if response.status_code == 200 else None

    async def visit(self, bearer: str, visit_id: uuid.UUID) -> HomeVisit:
        return self._parse(await self.request("GET", f"{VISITS}/{visit_id}", bearer), HomeVisit)

    async def step(
        self, bearer: str, visit_id: uuid.UUID, action: str, body: dict[str, Any]
    ) -> HomeVisit | Refusal:
        return await self._submit(
            "POST", f"{VISITS}/{visit_id}/{action}", bearer, HomeVisit, json=body
        )

    async def figures(
        self, bearer: str, organization_id: uuid.UUID, first: date, last: date
    ) -> Figures:
        params = {"organization_id": str(organization_id), "from": first.isoformat(),
                  "to": last.isoformat()}  # fmt: skip
        path = f"{CONSULT}/home-visit-figures"
        return self._parse(await self.request("GET", path, bearer, params=params), Figures)

    async def staff(self, bearer: str, organization_id: uuid.UUID) -> list[Staff]:
        """Whom the polyclinic may send: its doctors and nurses, as the directory lists them to
        a coordinator; nobody for those it lists nothing (then the visit's page says so)."""
        found: list[Staff] = []
        for role in VISITORS:
            params = {"organization_id": str(organization_id), "role": role}
            response = await self.request(
                "GET", f"{DIRECTORY}/users", bearer, ok=(200, 403), params=params
            )
            if response.status_code == 200:
                found += self._parse_list(response, Staff)
        return [person for person in found if person.is_active]


def _api(request: Request) -> HomeVisitsApi:
    # A thin wrapper of the app's one pooled client to the gateway (its lifespan opens it).
    return HomeVisitsApi(request.app.state.gateway_client)


HomeVisitsApiDep = Annotated[HomeVisitsApi, Depends(_api)]
