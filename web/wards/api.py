"""The video service's ward API as the ward screens call it, through the gateway with the
person's own token: the service decides who sees and manages a ward and records every step;
the watch tokens it issues are the only tokens an overview page receives."""

import uuid
from typing import Annotated, Any

from fastapi import Depends, Request

from web.cases.api import FORM_REFUSALS, CasesApi, Refusal
from web.wards.schemas import (
    Alarm,
    Bed,
    DeviceCredential,
    RecordingStarted,
    RecordingStopped,
    Ward,
    WatchToken,
)

WARDS = "/api/video/wards"
# The refusals of recording the overview says beside its buttons: not a watcher of the ward,
# no such bed or no recording to stop, not allowed or no picture, the files service failed.
RECORDING_REFUSALS = (403, 404, 409, 502, 503)


class WardsApi(CasesApi):
    """Calls under `/api/video/wards` (and the directory's organisations, inherited)."""

    async def wards(self, bearer: str) -> list[Ward]:
        """The wards the person manages or may watch, by name."""
        return self._parse_list(await self.request("GET", WARDS, bearer), Ward)

    async def ward(self, bearer: str, ward_id: uuid.UUID) -> Ward:
        """With each bed's live state; one the person may not see is the API's 404."""
        return self._parse(await self.request("GET", f"{WARDS}/{ward_id}", bearer), Ward)

    async def create_ward(self, bearer: str, body: dict[str, Any]) -> Ward | Refusal:
        return await self._submit("POST", WARDS, bearer, Ward, json=body)

    async def change_ward(
        self, bearer: str, ward_id: uuid.UUID, body: dict[str, Any]
    ) -> Ward | Refusal:
        return await self._submit("PATCH", f"{WARDS}/{ward_id}", bearer, Ward, json=body)

    async def add_bed(self, bearer: str, ward_id: uuid.UUID, body: dict[str, Any]) -> Bed | Refusal:
        return await self._submit("POST", f"{WARDS}/{ward_id}/beds", bearer, Bed, json=body)

    async def change_bed(
        self, bearer: str, ward_id: uuid.UUID, bed_id: uuid.UUID, body: dict[str, Any]
    ) -> Bed | Refusal:
        path = f"{WARDS}/{ward_id}/beds/{bed_id}"
        return await self._submit("PATCH", path, bearer, Bed, json=body)

    async def delete_bed(
        self, bearer: str, ward_id: uuid.UUID, bed_id: uuid.UUID
    ) -> Refusal | None:
        return await self._gone(bearer, f"{WARDS}/{ward_id}/beds/{bed_id}")

    async def issue_device(
        self, bearer: str, ward_id: uuid.UUID, bed_id: uuid.UUID
    ) -> DeviceCredential | Refusal:
        """The bedside tablet's credential, shown once (the previous one stops working)."""
        path = f"{WARDS}/{ward_id}/beds/{bed_id}/device"
        return await self._submit("POST", path, bearer, DeviceCredential)

    async def revoke_device(
        self, bearer: str, ward_id: uuid.UUID, bed_id: uuid.UUID
    ) -> Refusal | None:
        return await self._gone(bearer, f"{WARDS}/{ward_id}/beds/{bed_id}/device")

    async def watch_token(self, bearer: str, ward_id: uuid.UUID) -> WatchToken:
        """The person's watch token for the ward's overview; a ward they may see but not
        watch (a hospital's administrator) is the API's 403, one they may not see its 404."""
        response = await self.request("POST", f"{WARDS}/{ward_id}/watch-token", bearer, ok=(201,))
        return self._parse(response, WatchToken)

    async def alarms(self, bearer: str, ward_id: uuid.UUID) -> list[Alarm]:
        """Newest first."""
        response = await self.request("GET", f"{WARDS}/{ward_id}/alarms", bearer)
        return self._parse_list(response, Alarm)

    async def start_recording(
        self, bearer: str, ward_id: uuid.UUID, bed_id: uuid.UUID
    ) -> RecordingStarted | Refusal:
        """Where the ward allows it and the bed's patient consented, else the 409 saying why."""
        path = f"{WARDS}/{ward_id}/beds/{bed_id}/recording"
        return await self._submit("POST", path, bearer, RecordingStarted,
                                  refusals=RECORDING_REFUSALS)  # fmt: skip

    async def stop_recording(
        self, bearer: str, ward_id: uuid.UUID, bed_id: uuid.UUID
    ) -> RecordingStopped | Refusal:
        """The file is stored in the files service as the caller's."""
        path = f"{WARDS}/{ward_id}/beds/{bed_id}/recording"
        return await self._submit("DELETE", path, bearer, RecordingStopped,
                                  refusals=RECORDING_REFUSALS)  # fmt: skip

    async def _gone(self, bearer: str, path: str) -> Refusal | None:
        """A DELETE: None once done, else the refusal the page shows."""
        response = await self.request("DELETE", path, bearer, ok=(204, *FORM_REFUSALS))
        return Refusal.of(response) if response.status_code != 204 else None


def _api(request: Request) -> WardsApi:
    # A thin wrapper of the app's one pooled client to the gateway (its lifespan opens it).
    return WardsApi(request.app.state.gateway_client)


WardsApiDep = Annotated[WardsApi, Depends(_api)]
