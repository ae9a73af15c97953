"""The floor for bench/gateway_overhead.py: consult's case read, as lean as Python makes it.

`GET /api/consult/cases/{id}` doing the same work as consult's route, on Starlette and asyncpg
with no ORM and no middleware: the bearer token verified against the gateway's JWKS (fetched
once at start; verified tokens kept by their text until they expire, as consult keeps them),
the case row selected from consult's own database, one audit record appended to consult's own
striped, HMAC-chained audit trail (services/common/audit.py), and the case serialised with the
fields consult answers. consult's `GET /api/consult/audit/verification` then checks the floor's
records like its own, which is what makes it the same work rather than something like it.

Two round trips: the select, then the append as one statement (bench/floor/audit.py), each in
its own transaction; consult's unit of work sends its transaction's begin, the select, the
head's lock, the insert, the update and the commit one by one.

Not served (answered 404, like a case one may not see): consilium invitees, patients and
coordinators; the floor reads as the two `--as` roles of the benchmark. The deny-list of
revoked tokens is not polled (consult fetches it once every two seconds, not per request).
PostgreSQL only. Started by the benchmark as its own uvicorn process, configured by
`TELEMED_FLOOR_*` variables (`create_app`).
"""

import json
import os
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NamedTuple

import asyncpg
import httpx
import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.floor.audit import DUMPS, AuditChain
from services.common.errors import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE
from services.consult.cases.enums import OPEN_STATUSES

ENV = "TELEMED_FLOOR_"
SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")  # as services/common/observability.py
NOT_VISIBLE = "No case with this id is visible to you."
OPEN = frozenset(status.value for status in OPEN_STATUSES)

SELECT_CASE = """
SELECT id, kind, status, urgency, mode, specialty, region, requester_id,
       requesting_organization_id, target_organization_id, assignee_id, flagged, due_at,
       submitted_at, created_at, resume_status, patient_reference, patient_full_name,
       patient_birth_date, patient_sex, patient_insurance_policy, question, summary,
       attachment_ids, attachments, patient_id, episode_id, worsening_signs,
       follow_up_appointment_id, accepted_at, concluded_at, closed_at, decline_reason,
       cancel_reason, updated_at, version
FROM cases WHERE id = $1
"""


class Refusal(Exception):
    def __init__(self, status: int, slug: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.slug, self.detail = status, slug, detail


class Caller(NamedTuple):
    subject: str
    role: str
    organization_id: str | None
    specialty: str | None
    expires_at: float


class Tokens:
    """Verifies access tokens as `services.common.auth.TokenVerifier` does (allow-listed
    algorithms, key by `kid`, iss/aud/exp), against keys fetched once."""

    def __init__(self, jwks: dict[str, Any], issuer: str, audience: str, algorithms: list[str]):
        keys = jwt.PyJWKSet.from_dict(jwks).keys
        self.keys = {key.key_id: key for key in keys if key.key_id}
        self.issuer, self.audience, self.algorithms = issuer, audience, algorithms
        self.verified: dict[str, Caller] = {}

    def verify(self, token: str) -> Caller:
        caller = self.verified.get(token)
        if caller is not None and time.time() < caller.expires_at:
            return caller
        try:
            header = jwt.get_unverified_header(token)
            alg, kid = header.get("alg"), header.get("kid")
            key = self.keys.get(kid) if isinstance(kid, str) else None
            if alg not in self.algorithms or key is None or key.algorithm_name != alg:
                raise Refusal(401, "unauthorized", "The access token's key is not accepted.")
            claims = jwt.decode(
                token, key=key, algorithms=[alg], audience=self.audience, issuer=self.issuer,
                leeway=30, options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )  # fmt: skip
            caller = Caller(
                str(claims["sub"]), str(claims["role"]), claims.get("org"),
                claims.get("specialty"), float(claims["exp"]),
            )  # fmt: skip
        except (jwt.PyJWTError, KeyError, ValueError) as exc:
            raise Refusal(401, "unauthorized", "The access token is not valid.") from exc
        if len(self.verified) >= 10_000:
            self.verified.clear()
        self.verified[token] = caller
        return caller


def can_see(caller: Caller, case: asyncpg.Record) -> bool:
    """services/consult/cases/access.py `can_see` for a district medic and a specialist."""
    if caller.organization_id is None:
        return False
    if caller.role == "district_medic":
        return str(case["requesting_organization_id"]) == caller.organization_id
    return (
        caller.role == "specialist"
        and case["status"] != "draft"
        and str(case["target_organization_id"]) == caller.organization_id
        and case["specialty"] == caller.specialty
    )


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")  # as pydantic writes UTC
    if isinstance(value, uuid.UUID | date):
        return str(value)
    return value


PATIENT = {"patient_" + name: name for name in ("reference", "full_name", "birth_date", "sex")}
PATIENT["patient_insurance_policy"] = "insurance_policy"
JSON_COLUMNS = frozenset({"summary", "attachment_ids", "attachments", "worsening_signs"})


def case_document(case: asyncpg.Record) -> bytes:
    """The fields of consult's `CaseOut`, from the row."""
    body: dict[str, Any] = {}
    patient = {}
    for name, value in case.items():
        if name in PATIENT:
            patient[PATIENT[name]] = _json_value(value)
        elif name in JSON_COLUMNS:
            body[name] = json.loads(value)
        else:
            body[name] = _json_value(value)
    body["overdue"] = case["status"] in OPEN and case["due_at"] < datetime.now(UTC)
    body["patient"] = patient
    body["summary"] = body["summary"] or None  # a patient's own request has none
    return DUMPS(body).encode()


class Floor:
    def __init__(self, pool: asyncpg.Pool, tokens: Tokens, audit: AuditChain) -> None:
        self.pool, self.tokens, self.audit = pool, tokens, audit

    async def read_case(self, request: Request) -> Response:
        incoming = request.headers.get("x-request-id", "")
        request_id = incoming if SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        try:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not token:
                raise Refusal(401, "unauthorized", "A bearer access token is required.")
            caller = self.tokens.verify(token.strip())
            try:
                case_id = uuid.UUID(request.path_params["case_id"])
            except ValueError:
                raise Refusal(422, "validation-error", "The case id is not a UUID.") from None
            async with self.pool.acquire() as connection:
                case = await connection.fetchrow(SELECT_CASE, case_id)
                visible = case is not None and can_see(caller, case)
                # What consult's `load_case` and `get_case` record.
                await self.audit.append(
                    connection, action="case.read", actor_id=caller.subject,
                    actor_role=caller.role, resource_type="case", resource_id=str(case_id),
                    outcome="success" if visible else "denied", request_id=request_id,
                    detail=None if visible else NOT_VISIBLE,
                )  # fmt: skip
            if case is None or not visible:
                raise Refusal(404, "not-found", NOT_VISIBLE)
        except Refusal as refusal:
            return problem(refusal, request_id)
        headers = {"etag": f'"{case["version"]}"', "x-request-id": request_id}
        return Response(case_document(case), headers=headers, media_type="application/json")


def problem(refusal: Refusal, request_id: str) -> Response:
    body = {
        "type": PROBLEM_TYPE_BASE + refusal.slug,
        "title": refusal.slug.replace("-", " ").capitalize(),
        "status": refusal.status,
        "detail": refusal.detail,
    }
    headers = {"x-request-id": request_id}
    if refusal.status == 401:
        headers["www-authenticate"] = "Bearer"
    return Response(DUMPS(body), refusal.status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


async def health(request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


def create_app() -> Starlette:
    """The floor, configured by `TELEMED_FLOOR_DATABASE_URL` (asyncpg's form), `_JWKS_URL`,
    `_AUDIT_KEY_PATH` (consult's key), `_ISSUER`, `_AUDIENCE`, `_ALGORITHMS` (comma-separated)
    and `_POOL_SIZE` (default 10, consult's pool size)."""
    env = {
        name.removeprefix(ENV): value for name, value in os.environ.items() if name.startswith(ENV)
    }
    audit_key = Path(env["AUDIT_KEY_PATH"]).read_bytes()
    pool_size = int(env.get("POOL_SIZE", "10"))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=10.0) as client:
            response = await client.get(env["JWKS_URL"])
            response.raise_for_status()
        tokens = Tokens(
            response.json(), env["ISSUER"], env["AUDIENCE"], env["ALGORITHMS"].split(",")
        )
        async with asyncpg.create_pool(
            env["DATABASE_URL"], min_size=pool_size, max_size=pool_size
        ) as pool:
            app.state.floor = Floor(pool, tokens, AuditChain(audit_key))
            yield

    async def read_case(request: Request) -> Response:
        floor: Floor = request.app.state.floor
        return await floor.read_case(request)

    routes = [Route("/api/consult/cases/{case_id}", read_case), Route("/health", health)]
    return Starlette(routes=routes, lifespan=lifespan)
