"""The consult, files and directory API as the case screens call it, through the gateway with
the person's own token, so every rule and every audit record is the services' own."""

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from services.common.errors import BadGateway, ProblemError
from web.cases.schemas import (
    Case,
    CasePage,
    Conclusion,
    DeadlinePreview,
    FileInfo,
    Grant,
    Message,
    Organization,
    PatientPage,
    Person,
    RegisteredPatient,
    StoredFile,
    UploadState,
)
from web.gateway_api import GatewayApi

CONSULT = "/api/consult"
FILES = "/api/files"
DIRECTORY = "/api/directory"
GRANT_HEADER = "Telemed-Grant"
# Answers a form shows the person instead of failing the page: the request was understood
# and refused (a rule, a state that changed meanwhile, a value out of range).
FORM_REFUSALS = (400, 403, 409, 412, 422)
Model = TypeVar("Model", bound=BaseModel)


def idempotency(key: str | None) -> dict[str, str] | None:
    """The `Idempotency-Key` header of a form's key, if it has one."""
    return {"Idempotency-Key": key} if key else None


@dataclass(frozen=True)
class Issue:
    """One of a validation problem's `errors`: where in the body (`("patient",
    "birth_date")`), the API's message, and its type (`missing`, `less_than_equal`, ...)."""

    location: tuple[str | int, ...]
    message: str
    kind: str


@dataclass(frozen=True)
class Refusal:
    """A refusal for the page to show: the problem's `detail`, and its `errors` by field."""

    status: int
    detail: str
    errors: list[Issue] = field(default_factory=list)

    @classmethod
    def of(cls, response: httpx.Response) -> "Refusal":
        try:
            body = response.json()
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else {}
        errors = []
        for issue in body.get("errors") or []:
            if isinstance(issue, dict) and isinstance(issue.get("loc"), list):
                location = tuple(issue["loc"])
                if location[:1] in (("body",), ("query",)):
                    location = location[1:]
                errors.append(Issue(location, str(issue.get("msg", "")), str(issue.get("type"))))
        detail = body.get("detail") or body.get("title") or ""
        return cls(status=response.status_code, detail=str(detail), errors=errors)


class CasesApi(GatewayApi):
    """Calls under `/api/consult`, `/api/files` and `/api/directory`; a 401 signs the browser
    out (`GatewayApi.request`), a refusal a form can show comes back as a `Refusal`, any other
    as the kernel's problem (a 404 becomes the console's "not found" page)."""

    def _parse(self, response: httpx.Response, model: type[Model]) -> Model:
        try:
            return model.model_validate(response.json())
        except (ValueError, ValidationError) as exc:
            raise BadGateway("The gateway answered something the console cannot read.") from exc

    def _parse_list(self, response: httpx.Response, model: type[Model]) -> list[Model]:
        try:
            return [model.model_validate(item) for item in response.json()]
        except (TypeError, ValueError, ValidationError) as exc:
            raise BadGateway("The gateway answered something the console cannot read.") from exc

    async def _submit(
        self,
        method: str,
        path: str,
        bearer: str,
        model: type[Model],
        *,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        refusals: tuple[int, ...] = FORM_REFUSALS,
        **kwargs: Any,
    ) -> Model | Refusal:
        """The answer (200, 201, or the 202 of something sent), or the refusal a form shows;
        `idempotency_key` lets a form sent twice act once."""
        headers = {**(headers or {}), **(idempotency(idempotency_key) or {})} or None
        response = await self.request(
            method, path, bearer, ok=(200, 201, 202, *refusals), headers=headers, **kwargs
        )
        if response.status_code in refusals:
            return Refusal.of(response)
        return self._parse(response, model)

    # Cases ---------------------------------------------------------------------------------

    async def cases(
        self,
        bearer: str,
        *,
        statuses: Sequence[str] = (),
        urgencies: Sequence[str] = (),
        cursor: str | None = None,
        limit: int = 25,
    ) -> CasePage:
        params: list[tuple[str, str | int]] = [("limit", limit)]
        params += [("status", status) for status in statuses]
        params += [("urgency", urgency) for urgency in urgencies]
        if cursor:
            params.append(("cursor", cursor))
        response = await self.request("GET", f"{CONSULT}/cases", bearer, params=params)
        return self._parse(response, CasePage)

    async def case(self, bearer: str, case_id: uuid.UUID) -> Case:
        return self._parse(await self.request("GET", f"{CONSULT}/cases/{case_id}", bearer), Case)

    async def create_case(
        self, bearer: str, body: dict[str, Any], idempotency_key: str | None
    ) -> Case | Refusal:
        return await self._submit(
            "POST", f"{CONSULT}/cases", bearer, Case, idempotency_key=idempotency_key, json=body
        )

    async def update_case(
        self, bearer: str, case_id: uuid.UUID, body: dict[str, Any], version: int | None
    ) -> Case | Refusal:
        """With `version`, only if the case is still at it (412 otherwise, said on the page)."""
        headers = {"If-Match": f'"{version}"'} if version is not None else None
        return await self._submit(
            "PATCH", f"{CONSULT}/cases/{case_id}", bearer, Case, headers=headers, json=body
        )

    async def act(
        self, bearer: str, case_id: uuid.UUID, action: str, body: dict[str, Any] | None = None
    ) -> Case | Refusal:
        """A step of the case's lifecycle: `submit`, `accept`, `request-info`, ..."""
        return await self._submit(
            "POST", f"{CONSULT}/cases/{case_id}/{action}", bearer, Case, json=body
        )

    async def messages(self, bearer: str, case_id: uuid.UUID) -> list[Message]:
        response = await self.request("GET", f"{CONSULT}/cases/{case_id}/messages", bearer)
        return self._parse_list(response, Message)

    async def post_message(self, bearer: str, case_id: uuid.UUID, text: str) -> Message | Refusal:
        return await self._submit(
            "POST", f"{CONSULT}/cases/{case_id}/messages", bearer, Message, json={"text": text}
        )

    async def conclusions(self, bearer: str, case_id: uuid.UUID) -> list[Conclusion]:
        response = await self.request("GET", f"{CONSULT}/cases/{case_id}/conclusions", bearer)
        return self._parse_list(response, Conclusion)

    async def issue_conclusion(
        self, bearer: str, case_id: uuid.UUID, body: dict[str, Any], idempotency_key: str | None
    ) -> Conclusion | Refusal:
        return await self._submit(
            "POST", f"{CONSULT}/cases/{case_id}/conclusions", bearer, Conclusion,
            idempotency_key=idempotency_key, json=body,
        )  # fmt: skip

    async def deadlines(self, bearer: str, target_id: uuid.UUID) -> DeadlinePreview | None:
        """The due time per urgency were a case to `target_id` submitted now; None when the
        API will not say (not a centre, or the caller does not open cases)."""
        response = await self.request(
            "GET",
            f"{CONSULT}/deadlines",
            bearer,
            ok=(200, 403, 404, 422),
            params={"target_organization_id": str(target_id)},
        )
        if response.status_code != 200:
            return None
        return self._parse(response, DeadlinePreview)

    async def grant(self, bearer: str, case_id: uuid.UUID) -> Grant:
        """Consult's grant to read the case's attachments in the files service (minutes)."""
        response = await self.request(
            "POST", f"{CONSULT}/cases/{case_id}/attachments/grant", bearer
        )
        return self._parse(response, Grant)

    # Files ---------------------------------------------------------------------------------

    async def file_info(self, bearer: str, file_id: uuid.UUID, grant: str) -> FileInfo:
        response = await self.request(
            "GET", f"{FILES}/files/{file_id}", bearer, headers={GRANT_HEADER: grant}
        )
        return self._parse(response, FileInfo)

    async def open_file(
        self, bearer: str, path: str, grant: str, headers: Mapping[str, str]
    ) -> httpx.Response:
        """The file's bytes as a stream the caller must close: `path` is `content` or
        `deidentified` of a file; `headers` the browser's `Range` and `If-Range`."""
        request = self._client.build_request(
            "GET",
            f"{FILES}/files/{path}",
            headers={"Authorization": f"Bearer {bearer}", GRANT_HEADER: grant, **headers},
        )
        try:
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise BadGateway("The files service could not be reached.") from exc
        if response.status_code not in (200, 206):
            try:
                await response.aread()
            finally:
                await response.aclose()
            raise self.refusal(response)
        return response

    async def upload_state(self, bearer: str, upload_id: uuid.UUID) -> UploadState:
        response = await self.request("GET", f"{FILES}/uploads/{upload_id}", bearer)
        return self._parse(response, UploadState)

    async def upload_file(
        self, bearer: str, content: AsyncIterator[bytes], size: int, name: str, kind: str
    ) -> StoredFile | Refusal:
        """One whole file, streamed (a form's file when the browser runs no script)."""
        response = await self.request(
            "POST",
            f"{FILES}/files",
            bearer,
            ok=(201, 413, 415, 422),
            params={"name": name, "kind": kind},
            headers={"Content-Length": str(size)},
            content=content,
        )
        if response.status_code != 201:
            return Refusal.of(response)
        return self._parse(response, StoredFile)

    async def tus(
        self,
        method: str,
        path: str,
        bearer: str,
        headers: Mapping[str, str],
        content: AsyncIterator[bytes] | None,
    ) -> httpx.Response:
        """A tus request passed on as it is: every answer goes back to the page's tus client,
        which acts on the protocol's statuses (409 offset, 410 expired, 460 checksum)."""
        return await self.request(
            method, f"{FILES}/uploads{path}", bearer, ok=range(200, 600), headers=headers,
            content=content,
        )  # fmt: skip

    # Directory -----------------------------------------------------------------------------

    async def organizations(self, bearer: str) -> list[Organization]:
        response = await self.request("GET", f"{DIRECTORY}/organizations", bearer)
        return self._parse_list(response, Organization)

    async def person(self, bearer: str, user_id: uuid.UUID) -> Person | None:
        """The directory's entry, or None where its rules hide the person from the caller."""
        try:
            response = await self.request("GET", f"{DIRECTORY}/users/{user_id}", bearer)
        except ProblemError as exc:
            if exc.status == 404:
                return None
            raise
        return self._parse(response, Person)

    async def find_patients(self, bearer: str, query: str) -> list[RegisteredPatient] | None:
        """Patients of the register by name; None when the caller's role may not search it."""
        response = await self.request(
            "GET", f"{DIRECTORY}/patients", bearer, ok=(200, 403), params={"q": query, "limit": 10}
        )
        if response.status_code == 403:
            return None
        return self._parse(response, PatientPage).items

    async def registered_patient(
        self, bearer: str, patient_id: uuid.UUID
    ) -> RegisteredPatient | None:
        response = await self.request(
            "GET", f"{DIRECTORY}/patients/{patient_id}", bearer, ok=(200, 403, 404)
        )
        if response.status_code != 200:
            return None
        return self._parse(response, RegisteredPatient)
