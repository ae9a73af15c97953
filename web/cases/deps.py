"""Dependencies the case screens share: the API client, the store of people's last looks, the
directory's names, and the signed-in person as the screens need them."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from web.cases.api import CasesApi
from web.cases.seen import SeenStore
from web.cases.views import Directory
from web.deps import SettingsDep
from web.settings import WebSettings


def _api(request: Request) -> CasesApi:
    # A thin wrapper of the app's one pooled client to the gateway (its lifespan opens it).
    return CasesApi(request.app.state.gateway_client)


def _seen(request: Request) -> SeenStore:
    seen: SeenStore = request.app.state.case_views
    return seen


def _directory(request: Request) -> Directory:
    directory: Directory = request.app.state.directory_names
    return directory


CasesApiDep = Annotated[CasesApi, Depends(_api)]
SeenDep = Annotated[SeenStore, Depends(_seen)]
DirectoryDep = Annotated[Directory, Depends(_directory)]


@dataclass(frozen=True)
class Screens:
    """What the case page and the steps taken from it use, in one dependency."""

    api: CasesApi
    seen: SeenStore
    directory: Directory
    settings: WebSettings


def _screens(
    api: CasesApiDep, seen: SeenDep, directory: DirectoryDep, settings: SettingsDep
) -> Screens:
    return Screens(api, seen, directory, settings)


ScreensDep = Annotated[Screens, Depends(_screens)]
