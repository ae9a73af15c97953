"""Who a message can reach and how: the reachability rule (`reachable`, public for the account
links too) and the plan built on it, by the person's contacts and the channels open here."""

import pytest

from gateway.models import User
from gateway.notify.enums import Channel, DeliveryStatus, Template
from gateway.notify.planning import EMAIL_ONLY, open_channels, plan, reachable
from gateway.settings import GatewaySettings

BOTH = frozenset(Channel)


def someone(email: str | None = None, phone: str | None = None) -> User:
    return User(
        username="p", full_name="P", role="patient", is_active=True, email=email, phone=phone
    )


def test_sms_is_open_only_with_a_provider() -> None:
    assert open_channels(GatewaySettings(sms_provider="none")) == EMAIL_ONLY
    assert open_channels(GatewaySettings(sms_provider="smsc")) == BOTH


@pytest.mark.parametrize(
    ("email", "phone", "channels", "expected"),
    [
        ("p@example.org", "+79131234567", BOTH, [Channel.EMAIL, Channel.SMS]),
        ("p@example.org", "+79131234567", EMAIL_ONLY, [Channel.EMAIL]),
        (None, "+79131234567", BOTH, [Channel.SMS]),
        (None, "+79131234567", EMAIL_ONLY, []),  # a phone, but no provider to text it
        ("", "", BOTH, []),
    ],
)
def test_a_person_is_reachable_where_they_have_an_address_on_an_open_channel(
    email: str | None, phone: str | None, channels: frozenset[Channel], expected: list[Channel]
) -> None:
    assert reachable(someone(email, phone), channels) == expected


def test_the_plan_follows_the_same_rule() -> None:
    texted = someone(phone="+79131234567")
    closed = plan(texted, None, Template.VISIT_INVITATION, EMAIL_ONLY)
    assert closed.undeliverable == "no email address; no sms provider is configured"
    opened = plan(texted, None, Template.VISIT_INVITATION, BOTH)
    assert [(d.channel, d.status) for d in opened.deliveries] == [
        (Channel.SMS, DeliveryStatus.PENDING)
    ]
    # A template with no SMS form says so, whether or not a provider is configured.
    for channels in (EMAIL_ONLY, BOTH):
        unsent = plan(texted, None, Template.CASE_CONCLUSION_READY, channels)
        assert unsent.why_not(Channel.SMS) == "case.conclusion_ready has no SMS form"
