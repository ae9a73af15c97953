"""Consult's monitoring API as the monitoring screens call it, through the gateway with the
person's own token: consult keeps the thresholds, raises the tasks and decides who sees what."""

import uuid
from typing import Annotated, Any

from fastapi import Depends, Request

from web.cases.api import CONSULT, CasesApi, Refusal
from web.monitoring.schemas import CheckIn, DueList, Enrolment, Programme, Task

MONITORING = f"{CONSULT}/monitoring"


class MonitoringApi(CasesApi):
    async def programmes(self, bearer: str) -> list[Programme]:
        response = await self.request("GET", f"{MONITORING}/programmes", bearer)
        return self._parse_list(response, Programme)

    async def enrolments(self, bearer: str, status: str | None = None) -> list[Enrolment]:
        """The organisation's monitored patients, the soonest due first."""
        params = {"status": status} if status else {}
        response = await self.request("GET", f"{MONITORING}/enrolments", bearer, params=params)
        return self._parse_list(response, Enrolment)

    async def enrolment(self, bearer: str, enrolment_id: uuid.UUID) -> Enrolment:
        response = await self.request("GET", f"{MONITORING}/enrolments/{enrolment_id}", bearer)
        return self._parse(response, Enrolment)

    async def enrol(
        self, bearer: str, body: dict[str, Any], idempotency_key: str | None
    ) -> Enrolment | Refusal:
        return await self._submit(
            "POST", f"{MONITORING}/enrolments", bearer, Enrolment,
            idempotency_key=idempotency_key, json=body,
        )  # fmt: skip

    async def check_ins(self, bearer: str, enrolment_id: uuid.UUID) -> list[CheckIn]:
        """Newest first."""
        path = f"{MONITORING}/enrolments/{enrolment_id}/check-ins"
        return self._parse_list(await self.request("GET", path, bearer), CheckIn)

    async def check_in(
        self,
        bearer: str,
        enrolment_id: uuid.UUID,
        body: dict[str, Any],
        idempotency_key: str | None,
    ) -> CheckIn | Refusal:
        path = f"{MONITORING}/enrolments/{enrolment_id}/check-ins"
        return await self._submit(
            "POST", path, bearer, CheckIn, idempotency_key=idempotency_key, json=body
        )

    async def discharge(
        self, bearer: str, enrolment_id: uuid.UUID, body: dict[str, Any]
    ) -> Enrolment | Refusal:
        path = f"{MONITORING}/enrolments/{enrolment_id}/discharge"
        return await self._submit("POST", path, bearer, Enrolment, json=body)

    async def due(self, bearer: str) -> DueList:
        response = await self.request("GET", f"{MONITORING}/due", bearer)
        return self._parse(response, DueList)

    async def tasks(self, bearer: str) -> list[Task]:
        """The organisation's home visits and ambulance calls, oldest first."""
        return self._parse_list(await self.request("GET", f"{MONITORING}/tasks", bearer), Task)

    async def complete_task(self, bearer: str, task_id: uuid.UUID, outcome: str) -> Task | Refusal:
        path = f"{MONITORING}/tasks/{task_id}/complete"
        return await self._submit("POST", path, bearer, Task, json={"outcome": outcome})


def _api(request: Request) -> MonitoringApi:
    # A thin wrapper of the app's one pooled client to the gateway (its lifespan opens it).
    return MonitoringApi(request.app.state.gateway_client)


MonitoringApiDep = Annotated[MonitoringApi, Depends(_api)]
