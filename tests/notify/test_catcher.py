"""The local catcher of `telemed run --mail-catcher`: what the gateway sends lands in files,
laid out as telemed/catcher.py documents for readers such as the demo."""

import email
import email.policy
import json
import socket
from pathlib import Path

from gateway.notify.enums import Template
from gateway.settings import GatewaySettings
from telemed.catcher import Catcher
from tests.notify.conftest import FAST_NOTIFY, RESET, VISIT, notify_stack, person, settled, tell


def _as_settings(env: dict[str, str]) -> dict[str, str]:
    """The catcher's environment for the gateway as settings overrides."""
    return {name.removeprefix("TELEMED_GATEWAY_").lower(): value for name, value in env.items()}


async def test_the_gateways_email_and_sms_land_in_the_catchers_files(
    clean_databases: dict[str, str], tmp_path: Path
) -> None:
    var = tmp_path / "var"
    with Catcher(var) as catcher:
        env = catcher.gateway_env()
        settings = GatewaySettings.model_validate(_as_settings(env))  # as the gateway reads it
        assert settings.smtp_port == catcher.smtp_port
        assert settings.sms_provider == "smsc"
        assert settings.sms_base_url == catcher.sms_url
        async with notify_stack(
            clean_databases, tmp_path, **(FAST_NOTIFY | _as_settings(env))
        ) as stack:
            patient = await person(stack, email="anna@example.org", phone="+79131234567")
            await tell(stack, patient.id, Template.ACCOUNT_INVITATION, RESET | {
                "organization_name": "Поликлиника № 3"
            })  # fmt: skip
            await tell(stack, patient.id, Template.VISIT_REMINDER_DAY, VISIT)
            await settled(stack, 2)

    mails = sorted((var / "catcher" / "mail").glob("*.eml"))
    texts = sorted((var / "catcher" / "sms").glob("*.json"))
    assert len(mails) == len(texts) == 2
    assert not list((var / "catcher").rglob("*.part"))
    parsed = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default) for path in mails
    ]
    invitation = next(m for m in parsed if m["X-Telemed-Template"] == "account.invitation")
    assert invitation["To"].addresses[0].addr_spec == "anna@example.org"
    assert RESET["link"] in invitation.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    records = [json.loads(path.read_text()) for path in texts]
    assert {record["phones"] for record in records} == {"79131234567"}
    assert any(RESET["link"] in record["mes"] for record in records)
    assert sorted(record["id"] for record in records) == [1, 2]
    assert all(record["received_at"] and "psw" not in record for record in records)
    # Named in arrival order: the later of the two by name arrived later.
    assert [path.name for path in mails] == sorted(path.name for path in mails)


def test_a_catcher_stops_and_its_ports_are_free_again(tmp_path: Path) -> None:
    with Catcher(tmp_path) as catcher:
        ports = (catcher.smtp_port, catcher.sms_port)
        assert all(ports)
    for port in ports:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", port))  # nothing listens there any more
