"""Short ``Annotated`` aliases for what routes may ask for; everything comes from the lifespan."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.runtime import Runtime
from api.settings import ApiSettings
from services.app import Services


def runtime(request: Request) -> Runtime:
    rt = request.app.state.runtime
    assert isinstance(rt, Runtime), "the app was not started through its lifespan"
    return rt


RuntimeDep = Annotated[Runtime, Depends(runtime)]


def services(rt: RuntimeDep) -> Services:
    return rt.services


def settings(rt: RuntimeDep) -> ApiSettings:
    return rt.settings


ServicesDep = Annotated[Services, Depends(services)]
SettingsDep = Annotated[ApiSettings, Depends(settings)]
