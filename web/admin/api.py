"""The directory, webhooks and audit API as the administrator's screens call it, through the
gateway with the person's own token: who may do what is the API's rule alone."""

import uuid
from typing import Annotated, Any

from fastapi import Depends, Request

from web.admin.schemas import (
    Account,
    ApiClient,
    ApiClientCreated,
    AuditVerification,
    Delivery,
    DeliveryPage,
    LinkSent,
    Organization,
    Subscription,
    SubscriptionWithSecret,
    Unlocked,
    User,
)
from web.cases.api import DIRECTORY, FORM_REFUSALS, CasesApi, Model, Refusal
from web.gateway_api import SignInSession

WEBHOOKS = "/api/webhooks"
# A secret's creation retried after its first answer: the API keeps no secret to show again.
SHOWN_ONCE = 410
# Where each service publishes its audit chains' verification (services/common/verification.py).
AUDITED_SERVICES = ("gateway", "consult", "scheduling", "video", "files")


class AdminApi(CasesApi):
    async def _send(
        self, method: str, path: str, bearer: str, model: type[Model], **kwargs: Any
    ) -> Model | Refusal:
        """As `_submit`, with the 410 of a secret shown once among the refusals."""
        return await self._submit(
            method, path, bearer, model, refusals=(SHOWN_ONCE, *FORM_REFUSALS), **kwargs
        )

    # Organisations -------------------------------------------------------------------------

    async def all_organizations(self, bearer: str) -> list[Organization]:
        response = await self.request("GET", f"{DIRECTORY}/organizations", bearer)
        return self._parse_list(response, Organization)

    async def organization_record(self, bearer: str, organization_id: uuid.UUID) -> Organization:
        path = f"{DIRECTORY}/organizations/{organization_id}"
        return self._parse(await self.request("GET", path, bearer), Organization)

    async def save_organization(
        self,
        bearer: str,
        organization_id: uuid.UUID | None,
        body: dict[str, Any],
        key: str | None,
    ) -> Organization | Refusal:
        """Registers one (`organization_id` None, retried safely by `key`) or replaces one."""
        if organization_id is None:
            return await self._send(
                "POST", f"{DIRECTORY}/organizations", bearer, Organization,
                idempotency_key=key, json=body,
            )  # fmt: skip
        path = f"{DIRECTORY}/organizations/{organization_id}"
        return await self._send("PUT", path, bearer, Organization, json=body)

    async def replace_served(
        self, bearer: str, organization_id: uuid.UUID, served: list[str]
    ) -> Organization | Refusal:
        path = f"{DIRECTORY}/organizations/{organization_id}/served"
        body = {"organization_ids": served}
        return await self._send("PUT", path, bearer, Organization, json=body)

    # Users ---------------------------------------------------------------------------------

    async def users(
        self, bearer: str, *, q: str = "", role: str = "", organization_id: str = ""
    ) -> list[User]:
        params = {
            name: value
            for name, value in (("q", q), ("role", role), ("organization_id", organization_id))
            if value
        }
        response = await self.request("GET", f"{DIRECTORY}/users", bearer, params=params)
        return self._parse_list(response, User)

    async def account(self, bearer: str, user_id: uuid.UUID) -> Account:
        path = f"{DIRECTORY}/users/{user_id}/account"
        return self._parse(await self.request("GET", path, bearer), Account)

    async def create_user(
        self, bearer: str, body: dict[str, Any], key: str | None
    ) -> User | Refusal:
        return await self._send(
            "POST", f"{DIRECTORY}/users", bearer, User, idempotency_key=key, json=body
        )

    async def update_user(
        self, bearer: str, user_id: uuid.UUID, body: dict[str, Any]
    ) -> Account | Refusal:
        return await self._send("PATCH", f"{DIRECTORY}/users/{user_id}", bearer, Account, json=body)

    async def send_link(self, bearer: str, user_id: uuid.UUID, purpose: str) -> LinkSent | Refusal:
        """`password-reset` or `invite`: the link goes to the person, never into the answer."""
        path = f"{DIRECTORY}/users/{user_id}/{purpose}"
        return await self._send("POST", path, bearer, LinkSent)

    async def unlock(self, bearer: str, user_id: uuid.UUID) -> Unlocked | Refusal:
        return await self._send("POST", f"{DIRECTORY}/users/{user_id}/unlock", bearer, Unlocked)

    async def switch(self, bearer: str, user_id: uuid.UUID, action: str) -> User | Refusal:
        """`deactivate` or `reactivate`."""
        return await self._send("POST", f"{DIRECTORY}/users/{user_id}/{action}", bearer, User)

    async def user_sessions(self, bearer: str, user_id: uuid.UUID) -> list[SignInSession]:
        path = f"{DIRECTORY}/users/{user_id}/sessions"
        return self._parse_list(await self.request("GET", path, bearer), SignInSession)

    # API clients ---------------------------------------------------------------------------

    async def api_clients(self, bearer: str) -> list[ApiClient]:
        response = await self.request("GET", f"{DIRECTORY}/api-clients", bearer)
        return self._parse_list(response, ApiClient)

    async def create_api_client(
        self, bearer: str, body: dict[str, Any], key: str | None
    ) -> ApiClientCreated | Refusal:
        return await self._send(
            "POST", f"{DIRECTORY}/api-clients", bearer, ApiClientCreated,
            idempotency_key=key, json=body,
        )  # fmt: skip

    async def update_api_client(
        self, bearer: str, client_id: uuid.UUID, body: dict[str, Any]
    ) -> ApiClient | Refusal:
        path = f"{DIRECTORY}/api-clients/{client_id}"
        return await self._send("PUT", path, bearer, ApiClient, json=body)

    async def revoke_api_client(self, bearer: str, client_id: uuid.UUID) -> ApiClient | Refusal:
        path = f"{DIRECTORY}/api-clients/{client_id}/revoke"
        return await self._send("POST", path, bearer, ApiClient)

    # Webhooks ------------------------------------------------------------------------------

    async def subscriptions(self, bearer: str) -> list[Subscription]:
        response = await self.request("GET", f"{WEBHOOKS}/subscriptions", bearer)
        return self._parse_list(response, Subscription)

    async def subscription(self, bearer: str, subscription_id: uuid.UUID) -> Subscription:
        path = f"{WEBHOOKS}/subscriptions/{subscription_id}"
        return self._parse(await self.request("GET", path, bearer), Subscription)

    async def create_subscription(
        self, bearer: str, body: dict[str, Any], key: str | None
    ) -> SubscriptionWithSecret | Refusal:
        return await self._send(
            "POST", f"{WEBHOOKS}/subscriptions", bearer, SubscriptionWithSecret,
            idempotency_key=key, json=body,
        )  # fmt: skip

    async def update_subscription(
        self, bearer: str, subscription_id: uuid.UUID, body: dict[str, Any]
    ) -> Subscription | Refusal:
        path = f"{WEBHOOKS}/subscriptions/{subscription_id}"
        return await self._send("PATCH", path, bearer, Subscription, json=body)

    async def rotate_secret(
        self, bearer: str, subscription_id: uuid.UUID
    ) -> SubscriptionWithSecret | Refusal:
        path = f"{WEBHOOKS}/subscriptions/{subscription_id}/rotate-secret"
        return await self._send("POST", path, bearer, SubscriptionWithSecret)

    async def deliveries(
        self, bearer: str, subscription_id: uuid.UUID, cursor: str | None, limit: int
    ) -> DeliveryPage:
        params: dict[str, str | int] = {"subscription_id": str(subscription_id), "limit": limit}
        if cursor:
            params["cursor"] = cursor
        response = await self.request("GET", f"{WEBHOOKS}/deliveries", bearer, params=params)
        return self._parse(response, DeliveryPage)

    async def replay(self, bearer: str, delivery_id: uuid.UUID) -> Delivery | Refusal:
        path = f"{WEBHOOKS}/deliveries/{delivery_id}/replay"
        return await self._send("POST", path, bearer, Delivery)

    # Audit ---------------------------------------------------------------------------------

    async def verification(self, bearer: str, service: str) -> AuditVerification:
        path = f"/api/{service}/audit/verification"
        return self._parse(await self.request("GET", path, bearer), AuditVerification)


def _api(request: Request) -> AdminApi:
    # A thin wrapper of the app's one pooled client to the gateway (its lifespan opens it).
    return AdminApi(request.app.state.gateway_client)


AdminApiDep = Annotated[AdminApi, Depends(_api)]
