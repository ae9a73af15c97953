"""Dependency aliases of the account routes."""

from typing import Annotated

from fastapi import Depends, Request

from gateway.accounts.passwords import Passwords
from gateway.settings import GatewaySettings


def passwords(request: Request) -> Passwords:
    chosen: Passwords = request.app.state.passwords
    return chosen


def settings(request: Request) -> GatewaySettings:
    current: GatewaySettings = request.app.state.settings
    return current


PasswordsDep = Annotated[Passwords, Depends(passwords)]
SettingsDep = Annotated[GatewaySettings, Depends(settings)]
