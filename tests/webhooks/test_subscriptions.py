"""Webhook subscriptions: who manages which, what they may point at, and the audit of it all."""

from pathlib import Path
from typing import Any

from sqlalchemy import select

from gateway.models import kernel_tables
from tests.conftest import Stack
from tests.webhooks.receiver import (
    HOOKS,
    deliveries,
    event,
    manager,
    relay,
    subscribe,
    webhook_stack,
)

URL = "https://mis.example.invalid/telemed/hooks"  # never resolves, if ever tried


async def test_an_api_client_manages_its_subscription(stack: Stack) -> None:
    hospital = await stack.organization()
    client = await manager(stack, hospital)
    headers = {**client.headers, "Idempotency-Key": "subscribe-1"}
    body = {"url": URL, "event_types": ["case.concluded", "case.submitted"], "description": "MIS"}
    created = await stack.client.post(f"{HOOKS}/subscriptions", json=body, headers=headers)
    assert created.status_code == 201
    subscription = created.json()
    path = f"{HOOKS}/subscriptions/{subscription['id']}"
    assert created.headers["location"] == path
    # The secret is shown once: a retry names the subscription but cannot show it again.
    again = await stack.client.post(f"{HOOKS}/subscriptions", json=body, headers=headers)
    assert again.status_code == 410
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["type"].endswith("/secret-shown-once")
    assert "rotate-secret" in again.json()["detail"]
    assert again.json()["created"] == {k: v for k, v in subscription.items() if k != "secret"}
    assert again.headers["location"] == path
    assert subscription["secret"].startswith("whsec_")
    assert len(subscription["secret"]) > 40
    assert subscription["event_types"] == ["case.submitted", "case.concluded"]
    assert subscription["active"] is True
    assert subscription["organization_id"] == hospital["id"]

    listed = await stack.client.get(f"{HOOKS}/subscriptions", headers=client.headers)
    assert [item["id"] for item in listed.json()] == [subscription["id"]]
    assert "secret" not in listed.json()[0]
    fetched = await stack.client.get(path, headers=client.headers)
    assert fetched.status_code == 200
    assert "secret" not in fetched.json()

    patched = await stack.client.patch(
        path, json={"active": False, "event_types": ["appointment.booked"]}, headers=client.headers
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["active"] is False
    assert patched.json()["event_types"] == ["appointment.booked"]
    assert patched.json()["url"] == URL

    rotated = await stack.client.post(f"{path}/rotate-secret", headers=client.headers)
    assert rotated.status_code == 200
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != subscription["secret"]

    assert (await stack.client.delete(path, headers=client.headers)).status_code == 204
    assert (await stack.client.get(path, headers=client.headers)).status_code == 404


async def test_unknown_event_types_are_named_in_the_problem(stack: Stack) -> None:
    client = await manager(stack, await stack.organization())
    response = await stack.client.post(
        f"{HOOKS}/subscriptions",
        json={"url": URL, "event_types": ["case.submitted", "case.exploded"]},
        headers=client.headers,
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    (error,) = response.json()["errors"]
    assert error["loc"] == ["body", "event_types"]
    assert "'case.exploded'" in error["msg"]
    for bad in ({"url": "not a url", "event_types": ["case.submitted"]},
                {"url": URL, "event_types": []}):  # fmt: skip
        response = await stack.client.post(
            f"{HOOKS}/subscriptions", json=bad, headers=client.headers
        )
        assert response.status_code == 422, bad


async def test_a_url_longer_than_its_column_is_bad_input(stack: Stack) -> None:
    """PostgreSQL refuses a value past `varchar(2048)` (a 500, where SQLite stored it): the
    schema says so first, on creation and on change, counting the URL as it is stored."""
    client = await manager(stack, await stack.organization())
    created = await subscribe(stack, client, URL)
    # 2,048 characters as sent, one more as stored: a URL without a path gets its "/".
    bare = "https://" + ".".join(["a" * 63] * 31) + "." + "b" * 48 + ".example"
    assert len(bare) == 2048
    path = f"{HOOKS}/subscriptions/{created['id']}"
    for long in (URL + "/" + "a" * 2048, bare):
        response = await stack.client.post(
            f"{HOOKS}/subscriptions",
            json={"url": long, "event_types": ["case.submitted"]},
            headers=client.headers,
        )
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["loc"] == ["body", "url"]
        changed = await stack.client.patch(path, json={"url": long}, headers=client.headers)
        assert changed.status_code == 422, changed.text
    fitting = URL + "/" + "a" * (2047 - len(URL))
    assert len(fitting) == 2048
    changed = await stack.client.patch(path, json={"url": fitting}, headers=client.headers)
    assert changed.status_code == 200, changed.text
    assert changed.json()["url"] == fitting


async def test_people_and_clients_without_the_scope_are_refused(stack: Stack) -> None:
    hospital = await stack.organization()
    medic = await stack.actor("district_medic", hospital)
    reader = await manager(stack, hospital, scopes=("consult:read",))
    for actor in (medic, reader):
        for method, path in [("POST", "/subscriptions"), ("GET", "/subscriptions"),
                             ("GET", "/deliveries")]:  # fmt: skip
            body = {"url": URL, "event_types": ["case.submitted"]} if method == "POST" else None
            response = await stack.client.request(
                method, HOOKS + path, json=body, headers=actor.headers
            )
            assert response.status_code == 403, (actor.role, path)
    assert (await stack.client.get(f"{HOOKS}/subscriptions")).status_code == 401


async def test_another_organisations_client_sees_nothing(stack: Stack) -> None:
    assert stack.admin is not None
    hospital, other = await stack.organization(), await stack.organization()
    owner, stranger = await manager(stack, hospital), await manager(stack, other)
    subscription = await subscribe(stack, owner, URL)
    await relay(stack, event([hospital["id"]]))
    (delivery,) = await deliveries(stack, owner)

    assert (await stack.client.get(f"{HOOKS}/subscriptions", headers=stranger.headers)).json() == []
    assert await deliveries(stack, stranger) == []
    assert await deliveries(stack, stranger, subscription_id=subscription["id"]) == []
    for method, path in [
        ("GET", f"/subscriptions/{subscription['id']}"),
        ("PATCH", f"/subscriptions/{subscription['id']}"),
        ("DELETE", f"/subscriptions/{subscription['id']}"),
        ("POST", f"/subscriptions/{subscription['id']}/rotate-secret"),
        ("GET", f"/deliveries/{delivery['id']}"),
        ("POST", f"/deliveries/{delivery['id']}/replay"),
    ]:
        body = {"active": False} if method == "PATCH" else None
        response = await stack.client.request(
            method, HOOKS + path, json=body, headers=stranger.headers
        )
        assert response.status_code == 404, path

    # Administrators see every subscription and delivery.
    listed = await stack.client.get(f"{HOOKS}/subscriptions", headers=stack.admin.headers)
    assert [item["id"] for item in listed.json()] == [subscription["id"]]
    assert [item["id"] for item in await deliveries(stack, stack.admin)] == [delivery["id"]]


async def test_events_reach_only_subscriptions_entitled_to_them(stack: Stack) -> None:
    assert stack.admin is not None
    hospital, centre, other = [await stack.organization() for _ in range(3)]
    hospital_client, other_client = await manager(stack, hospital), await manager(stack, other)
    await subscribe(stack, hospital_client, URL, ["case.submitted"])
    await subscribe(stack, other_client, URL, ["case.submitted", "case.concluded"])
    await subscribe(stack, stack.admin, URL, ["case.concluded"])

    submitted = event([hospital["id"], centre["id"]])
    concluded = event([hospital["id"], centre["id"]], type="case.concluded")
    assert await relay(stack, submitted, concluded) == 2  # the hospital's and the admin's
    assert await relay(stack, submitted, concluded) == 0  # the relay saw them already

    assert [d["event_id"] for d in await deliveries(stack, hospital_client)] == [str(submitted.id)]
    assert await deliveries(stack, other_client) == []
    admin_view = await deliveries(stack, stack.admin)
    assert sorted(d["event_type"] for d in admin_view) == ["case.concluded", "case.submitted"]
    # A revoked client's subscriptions receive nothing more.
    revoked = await stack.client.post(
        f"/api/directory/api-clients/{hospital_client.id}/revoke", headers=stack.admin.headers
    )
    assert revoked.status_code == 200
    assert await relay(stack, event([hospital["id"]])) == 0


async def test_the_delivery_log_filters_and_pages(stack: Stack) -> None:
    hospital = await stack.organization()
    client = await manager(stack, hospital)
    first = await subscribe(stack, client, URL, ["case.submitted", "case.concluded"])
    second = await subscribe(stack, client, URL + "/2", ["case.submitted"])
    await relay(stack, *(event([hospital["id"]]) for _ in range(3)))
    await relay(stack, event([hospital["id"]], type="case.concluded"))

    everything = await deliveries(stack, client)
    assert len(everything) == 7
    created = [item["created_at"] for item in everything]
    assert created == sorted(created, reverse=True)  # newest first
    assert len(await deliveries(stack, client, subscription_id=second["id"])) == 3
    assert len(await deliveries(stack, client, event_type="case.concluded")) == 1
    assert len(await deliveries(stack, client, subscription_id=first["id"])) == 4

    seen: list[str] = []
    params: dict[str, Any] = {"limit": 3}
    while True:
        page = await stack.client.get(f"{HOOKS}/deliveries", params=params, headers=client.headers)
        assert page.status_code == 200
        seen += [item["id"] for item in page.json()["items"]]
        if page.json()["next_cursor"] is None:
            break
        params["cursor"] = page.json()["next_cursor"]
    assert seen == [item["id"] for item in everything]
    bad = await stack.client.get(
        f"{HOOKS}/deliveries", params={"cursor": "nonsense"}, headers=client.headers
    )
    assert bad.status_code == 400


async def test_management_is_audited(stack: Stack) -> None:
    hospital = await stack.organization()
    client, medic = await manager(stack, hospital), await stack.actor("district_medic", hospital)
    subscription = await subscribe(stack, client, URL)
    path = f"{HOOKS}/subscriptions/{subscription['id']}"
    await stack.client.patch(path, json={"description": "renamed"}, headers=client.headers)
    await stack.client.post(f"{path}/rotate-secret", headers=client.headers)
    await stack.client.delete(path, headers=client.headers)
    await stack.client.get(f"{HOOKS}/subscriptions", headers=medic.headers)

    records = kernel_tables.audit.records
    async with stack.apps["gateway"].state.database.sessionmaker() as session:
        rows = (
            await session.execute(
                select(records.c.action, records.c.actor_id, records.c.outcome).where(
                    records.c.resource_type == "webhook_subscription"
                )
            )
        ).all()
    actions = {(action, actor, outcome) for action, actor, outcome in rows}
    for action in ("create", "update", "rotate_secret", "delete"):
        assert (f"webhook_subscription.{action}", str(client.id), "success") in actions
    assert ("webhook_subscription.list", str(medic.id), "denied") in actions


async def test_production_refuses_private_and_plain_http_targets(
    clean_databases: dict[str, str], tmp_path: Path
) -> None:
    refused = {
        "http://mis.example.org/hooks": "must be https",
        "https://127.0.0.1:8443/hooks": "loopback, private or link-local",
        "https://localhost/hooks": "loopback, private or link-local",
        "https://10.1.2.3/hooks": "loopback, private or link-local",
        "https://169.254.169.254/latest": "loopback, private or link-local",
        "https://[::1]/hooks": "loopback, private or link-local",
        "https://[::ffff:192.168.0.1]/hooks": "loopback, private or link-local",
    }
    async with webhook_stack(
        clean_databases, tmp_path, webhook_allow_private_targets=False
    ) as stack:
        client = await manager(stack, await stack.organization())
        for url, reason in refused.items():
            response = await stack.client.post(
                f"{HOOKS}/subscriptions",
                json={"url": url, "event_types": ["case.submitted"]},
                headers=client.headers,
            )
            assert response.status_code == 422, url
            assert reason in response.json()["detail"], url
        subscription = await subscribe(stack, client, "https://93.184.215.14/hooks")
        moved = await stack.client.patch(
            f"{HOOKS}/subscriptions/{subscription['id']}",
            json={"url": "https://192.168.1.1/hooks"},
            headers=client.headers,
        )
        assert moved.status_code == 422
