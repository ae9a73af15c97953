"""Which deliveries a message gets: one per channel the person can be reached on, has not
switched off, and whose category they have not opted out of.

The deployment's open channels (email always; SMS when a provider is configured) are given to
the gateway's database once (`session_info`, `Database(info=...)`), so every session carries
them and `enqueue` decides inside the producer's transaction without settings of its own.
"""

from dataclasses import dataclass, field
from typing import Any

from gateway.models import User
from gateway.notify.enums import Category, Channel, DeliveryStatus, Template
from gateway.notify.models import Preferences
from gateway.notify.settings import NotifySettings
from gateway.notify.templates import SMS_FORMS

CHANNELS_INFO = "notify_channels"  # where a session carries the open channels
EMAIL_ONLY = frozenset({Channel.EMAIL})


def open_channels(settings: NotifySettings) -> frozenset[Channel]:
    return EMAIL_ONLY | ({Channel.SMS} if settings.sms_provider != "none" else set())


def session_info(settings: NotifySettings) -> dict[str, Any]:
    """What the gateway's database sessions carry for notify: the open channels."""
    return {CHANNELS_INFO: open_channels(settings)}


def _contacts(person: User) -> dict[Channel, str | None]:
    return {Channel.EMAIL: person.email, Channel.SMS: person.phone}


def reachable(person: User, channels: frozenset[Channel]) -> list[Channel]:
    """The channels a message can reach the person by: those they have an address on, among
    the `channels` open here (`open_channels`). Their choices aside: account messages ignore
    them, and `plan` weighs them for the rest."""
    return [
        channel for channel, address in _contacts(person).items() if address and channel in channels
    ]


@dataclass(frozen=True)
class Planned:
    channel: Channel
    address: str
    status: DeliveryStatus  # pending, or skipped by the person's choice
    reason: str | None = None


@dataclass
class Plan:
    deliveries: list[Planned] = field(default_factory=list)
    # Why a channel got no pending delivery; `blocked` when no channel could have one.
    reasons: dict[Channel, str] = field(default_factory=dict)
    blocked: str | None = None

    @property
    def pending(self) -> list[Planned]:
        return [d for d in self.deliveries if d.status is DeliveryStatus.PENDING]

    def why_not(self, channel: Channel | None = None) -> str:
        if self.blocked:
            return self.blocked
        if channel is not None:
            return self.reasons.get(channel, f"the person has no {channel.value} delivery")
        return "; ".join(self.reasons.values()) or "no channel"

    @property
    def undeliverable(self) -> str | None:
        return None if self.pending else self.why_not()


def _opted_out(preferences: Preferences | None, channel: Channel, category: Category) -> str | None:
    """Why the person's choices keep this channel quiet; account messages ignore them."""
    if preferences is None or category is Category.ACCOUNT:
        return None
    if not getattr(preferences, channel.value):
        return f"{channel.value} switched off"
    if category.value in preferences.opted_out:
        return f"opted out of {category.value}"
    return None


def plan(
    person: User | None,
    preferences: Preferences | None,
    template: Template,
    channels: frozenset[Channel],
) -> Plan:
    result = Plan()
    if person is None or not person.is_active:
        result.blocked = "the recipient's account is deactivated"
        return result
    open_to_them = reachable(person, channels)
    for channel, address in _contacts(person).items():
        if not address:
            result.reasons[channel] = "no email address" if channel is Channel.EMAIL else "no phone"
        elif channel is Channel.SMS and template not in SMS_FORMS:
            result.reasons[channel] = f"{template.value} has no SMS form"
        elif channel not in open_to_them:
            result.reasons[channel] = f"no {channel.value} provider is configured"
        elif reason := _opted_out(preferences, channel, template.category):
            result.reasons[channel] = f"{channel.value}: {reason}"
            result.deliveries.append(Planned(channel, address, DeliveryStatus.SKIPPED, reason))
        else:
            result.deliveries.append(Planned(channel, address, DeliveryStatus.PENDING))
    return result
