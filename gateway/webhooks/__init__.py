"""Webhooks: subscriptions, the event relay, signed delivery and the delivery log."""
