"""How long a worker waits before trying a failed delivery again: the one rule its outboxes
share (webhooks to API consumers, email and SMS to people)."""

import random


def backoff_seconds(attempt: int, *, base: float, cap: float, jitter: float) -> float:
    """The wait after the `attempt`-th failed try (1 for the first): `base` doubled per earlier
    failure up to `cap`, spread by ± the `jitter` share (0 ≤ jitter < 1), so the retries one
    outage caused do not all reach the peer at the same instant when it comes back."""
    # The exponent is bounded so that a long-failing delivery cannot overflow the float.
    delay = min(cap, base * 2.0 ** min(attempt - 1, 40))
    spread: float = random.uniform(1 - jitter, 1 + jitter)  # noqa: S311 - not a secret
    return delay * spread
