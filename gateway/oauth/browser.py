"""The browser's sign-in at the gateway and its forms' CSRF tokens: signed, HttpOnly cookies.

The sign-in cookie holds who signed in, when, and until when, under an HMAC with a key of the
gateway's own (`var/gateway/signin_cookie.key`): nothing is stored server-side, and the user is
looked up on every use, active and with the password they had (a digest of its hash is in the
cookie), so a deactivation or a new password ends the browser's sign-in too.

Cookies are `SameSite=Lax` (sent on the top-level navigation back from a client or a provider,
never on a cross-site POST) and `Secure` when the public URL is https. A form's CSRF token is
the HMAC of a random value kept in its own cookie (signed double submit): a page of another
site can neither read the cookie nor forge the token.
"""

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response

from gateway.settings import GatewaySettings
from services.common.keys import load_or_create_secret, same_secret

SIGN_IN_COOKIE = "telemed_signin"
CSRF_COOKIE = "telemed_csrf"
FEDERATION_COOKIE = "telemed_federation"
COOKIE_PATH = "/oauth"


@dataclass(frozen=True)
class SignIn:
    user_id: uuid.UUID
    auth_time: int
    password: str  # `password_stamp` when they signed in


def password_stamp(password_hash: str | None) -> str:
    """Changes with the password; reveals nothing of the hash (a digest of it, cut short)."""
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]


class CookieSigner:
    def __init__(self, settings: GatewaySettings) -> None:
        self._key = load_or_create_secret(settings.var_dir / "gateway" / "signin_cookie.key")
        self._secure = settings.public_url.startswith("https://")
        self._session_seconds = int(settings.signin_session_hours * 3600)

    def _mac(self, purpose: str, payload: str) -> str:
        digest = hmac.new(self._key, f"{purpose}:{payload}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def seal(self, purpose: str, value: dict[str, Any]) -> str:
        payload = base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
        return f"{payload}.{self._mac(purpose, payload)}"

    def unseal(self, purpose: str, sealed: str | None) -> dict[str, Any] | None:
        """The value if the MAC is right and it has not expired (`exp`), else None."""
        payload, _, mac = (sealed or "").partition(".")
        if not payload or not same_secret(self._mac(purpose, payload), mac):
            return None
        try:
            value = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except ValueError:
            return None
        if not isinstance(value, dict) or float(value.get("exp", 0)) <= time.time():
            return None
        return value

    def set_cookie(self, response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=COOKIE_PATH,
            secure=self._secure,
            httponly=True,
            samesite="lax",
        )

    def sign_in(self, response: Response, user_id: uuid.UUID, password_hash: str | None) -> None:
        now = int(time.time())
        value = {
            "sub": str(user_id),
            "auth_time": now,
            "exp": now + self._session_seconds,
            "pw": password_stamp(password_hash),
        }
        self.set_cookie(response, SIGN_IN_COOKIE, self.seal("signin", value), self._session_seconds)

    def signed_in(self, request: Request) -> SignIn | None:
        value = self.unseal("signin", request.cookies.get(SIGN_IN_COOKIE))
        if value is None:
            return None
        try:
            return SignIn(uuid.UUID(str(value["sub"])), int(value["auth_time"]), str(value["pw"]))
        except (KeyError, ValueError):
            return None

    def sign_out(self, response: Response) -> None:
        response.delete_cookie(SIGN_IN_COOKIE, path=COOKIE_PATH, secure=self._secure)

    def csrf_seed(self, request: Request) -> tuple[str, bool]:
        """The random value a page's forms are bound to, and whether the cookie must be set."""
        seed = request.cookies.get(CSRF_COOKIE)
        return (seed, False) if seed else (secrets.token_urlsafe(24), True)

    def csrf_token(self, seed: str) -> str:
        return self._mac("csrf", seed)

    def keep_csrf_seed(self, response: Response, seed: str) -> None:
        self.set_cookie(response, CSRF_COOKIE, seed, self._session_seconds)

    def csrf_valid(self, request: Request, token: str | None) -> bool:
        seed = request.cookies.get(CSRF_COOKIE)
        return bool(seed and token) and same_secret(self._mac("csrf", str(seed)), str(token))


def cookie_signer(request: Request) -> CookieSigner:
    signer: CookieSigner = request.app.state.cookie_signer
    return signer
