"""The video screens' API client: a thin wrapper of the app's one pooled client to the gateway."""

from typing import Annotated

from fastapi import Depends, Request

from web.video.api import VideoApi


def _api(request: Request) -> VideoApi:
    return VideoApi(request.app.state.gateway_client)


VideoApiDep = Annotated[VideoApi, Depends(_api)]
