"""Sign-in throttling: strangers can slow an account down but never lock its owner out.

Failed passwords and client secrets are counted per account and per address.

The rule (`GatewaySettings.login_*`), over the last `login_window_seconds` (15 minutes):
- one address on one account: after `login_max_failures` (5) failures that address is refused
  on that account (429 with `Retry-After`) until the oldest failure leaves the window; the
  owner signing in from anywhere else is not affected;
- one address on any accounts: `login_max_failures_per_address` (30), against guessing many
  usernames from one place (higher than 5: a district hospital's staff share one NAT address);
- one account from every address: after `login_account_delay_after` (10) failures, attempts
  are spaced out: the next one is taken 1, 2, 4, ... seconds after the latest failure, at most
  `login_account_delay_cap` (30 s). A crowd of addresses costs the owner a wait, never a lock.
An attempt counts as a failure before its secret is checked, and a success takes back that
address's failures on the account, so parallel guesses cannot outrun the count.
"""

from datetime import datetime, timedelta
from math import ceil

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.models import LoginFailure
from gateway.settings import GatewaySettings
from services.common.errors import TooManyRequests


def client_account(client_id: str) -> str:
    """How an API client's failures are counted: a colon never appears in a username."""
    return f"client:{client_id}"


def link_request(who: str, address: str) -> tuple[str, str]:
    """How requests for a password link (`POST /api/auth/password-reset`) are counted, under
    the same budgets: both names prefixed, so they neither count as failed sign-ins of the
    account nor use up the address's sign-in budget. They are never taken back: a plain
    limit on how many messages one address can make telemed send."""
    return f"reset:{who}", f"reset:{address}"


def _counted(account: str, address: str) -> tuple[str, str]:
    """As stored: whatever a client sends is cut to the columns' width, never a 500."""
    return account[:255], address[:64]


def _refuse(seconds: float) -> TooManyRequests:
    return TooManyRequests(
        "Too many failed sign-ins; wait before trying again.",
        headers={"Retry-After": str(max(1, ceil(seconds)))},
    )


async def admit(
    session: AsyncSession, settings: GatewaySettings, account: str, address: str, now: datetime
) -> None:
    """Raises 429 for an attempt the rule refuses; otherwise counts it as a failure."""
    account, address = _counted(account, address)
    window = timedelta(seconds=settings.login_window_seconds)
    same_account, same_address = LoginFailure.username == account, LoginFailure.address == address
    pair = and_(same_account, same_address)
    # One statement for the three counts: it runs in the short transaction before the hash.
    counts = (
        await session.execute(
            select(
                func.count().filter(pair),
                func.min(LoginFailure.at).filter(pair),
                func.count().filter(same_address),
                func.min(LoginFailure.at).filter(same_address),
                func.count().filter(same_account),
                func.max(LoginFailure.at).filter(same_account),
            ).where(LoginFailure.at > now - window, or_(same_account, same_address))
        )
    ).one()
    pair_count, pair_oldest, address_count, address_oldest, account_count, latest = counts
    for count, oldest, limit in (
        (pair_count, pair_oldest, settings.login_max_failures),
        (address_count, address_oldest, settings.login_max_failures_per_address),
    ):
        if count >= limit and oldest is not None:
            raise _refuse((oldest + window - now).total_seconds())
    if account_count >= settings.login_account_delay_after and latest is not None:
        excess = account_count - settings.login_account_delay_after
        delay = min(settings.login_account_delay_cap, 2.0**excess)
        wait = (latest + timedelta(seconds=delay) - now).total_seconds()
        if wait > 0:
            raise _refuse(wait)
    session.add(LoginFailure(username=account, address=address, at=now))
    await session.flush()


async def succeeded(session: AsyncSession, account: str, address: str) -> None:
    """The secret was right: this address's failures on the account no longer count."""
    account, address = _counted(account, address)
    await session.execute(
        delete(LoginFailure).where(
            LoginFailure.username == account, LoginFailure.address == address
        )
    )


async def cleared(session: AsyncSession, account: str) -> int:
    """Forgets every failure of the account, from any address (an administrator's unlock, a
    password set by a link); how many there were."""
    result = await session.execute(
        delete(LoginFailure)
        .where(LoginFailure.username == account[:255])
        .execution_options(synchronize_session=False)
    )
    count: int = result.rowcount  # type: ignore[attr-defined]  # a CursorResult, as for any DELETE
    return count
