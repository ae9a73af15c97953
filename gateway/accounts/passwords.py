"""The rules every chosen password meets, wherever it is set (a new user, a change, a reset):

- at least `MIN_LENGTH` characters;
- not one of the most common leaked passwords (zxcvbn's list of 30,000), however long;
- not in the operator's breached-password file, if there is one (`breached.py`);
- a zxcvbn score of at least `MIN_SCORE` of 4, the person's own username, name and email
  counting as easy guesses.
A refusal is a 422 whose detail says why, with zxcvbn's suggestions (`suggestions`, and for a
weak one its `warning`), and a `reason` a page can translate: `short`, `common`, `breached` or
`weak`.
"""

import asyncio
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from zxcvbn import zxcvbn  # type: ignore[import-untyped]  # no stubs
from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]

from gateway.accounts.breached import BreachedHashes
from gateway.accounts.settings import AccountsSettings
from gateway.auth import SecretHasher
from services.common.errors import Unprocessable

MIN_LENGTH = 10
MIN_SCORE = 3
# zxcvbn refuses longer input (its matching grows fast with length); what comes after this
# only adds strength, so the first part is what is scored.
SCORED_LENGTH = 72
COMMON = frozenset(FREQUENCY_LISTS["passwords"])
# zxcvbn keeps the caller's user inputs in a module-level dictionary while it scores, so two
# scorings at once (threads) could mix up two people's inputs.
_ZXCVBN = threading.Lock()


class WeakPassword(Unprocessable):
    slug = "weak-password"


def _inputs(username: str, full_name: str, email: str | None) -> list[str]:
    """What zxcvbn should take for easy guesses: the person's names and address, whole and in
    their parts."""
    parts = [username, full_name, *re.split(r"[\s._@+-]+", f"{username} {full_name}")]
    if email:
        parts += [email, email.partition("@")[0], *re.split(r"[._@+-]+", email)]
    return [part for part in parts if len(part) >= 3]


def _refuse(
    reason: str, detail: str, suggestions: Iterable[str], warning: str | None = None
) -> WeakPassword:
    advice = list(suggestions)
    full = f"{detail} {' '.join(advice)}".strip()
    return WeakPassword(full, reason=reason, warning=warning, suggestions=advice)


class PasswordRules:
    def __init__(self, breached: BreachedHashes | None = None) -> None:
        self.breached = breached

    @classmethod
    def from_settings(cls, settings: AccountsSettings) -> "PasswordRules":
        path = settings.breached_passwords_path
        return cls(BreachedHashes(path) if path else None)

    def _check(self, password: str, inputs: list[str]) -> None:
        if len(password) < MIN_LENGTH:
            raise _refuse(
                "short",
                f"The password is shorter than {MIN_LENGTH} characters.",
                ["Use a few words, avoid common phrases."],
            )
        if password.lower() in COMMON:
            raise _refuse(
                "common",
                "The password is one of the most common leaked passwords.",
                ["Add another word or two. Uncommon words are better."],
            )
        if self.breached is not None and self.breached.includes(password):
            raise _refuse(
                "breached",
                "The password appears in a list of passwords exposed in data breaches.",
                ["Choose a password you have not used anywhere else."],
            )
        with _ZXCVBN:
            result = zxcvbn(password[:SCORED_LENGTH], user_inputs=inputs)
        if result["score"] < MIN_SCORE:
            feedback = result["feedback"]
            warning = feedback["warning"] or "It would be guessed too easily."
            suggestions = feedback["suggestions"] or ["Add another word or two."]
            raise _refuse("weak", f"The password is too weak: {warning}", suggestions, warning)

    async def check(
        self, password: str, *, username: str, full_name: str, email: str | None
    ) -> None:
        """Raises `WeakPassword` (422) for a password the rules refuse. Scoring takes a few
        milliseconds and a large breached file a few reads: off the event loop."""
        inputs = _inputs(username, full_name, email)
        await asyncio.to_thread(self._check, password, inputs)


@dataclass(frozen=True)
class Passwords:
    """Setting a password: the rules, then the hash."""

    rules: PasswordRules
    hasher: SecretHasher

    async def hash_new(
        self, password: str, *, username: str, full_name: str, email: str | None
    ) -> str:
        await self.rules.check(password, username=username, full_name=full_name, email=email)
        return await self.hasher.hash(password)
