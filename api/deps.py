"""Short ``Annotated`` aliases for what routes may ask for; everything comes from the lifespan."""

from __future__ import annotations

import copy
from typing import Annotated

from fastapi import Depends, Request

from api.auth.guard import PrincipalDep as PrincipalDep  # re-exported: who is calling (api.auth.guard)
from api.auth.guard import principal_of
from api.runtime import Runtime
from api.settings import ApiSettings
from services.app import Services


def runtime(request: Request) -> Runtime:
    rt = request.app.state.runtime
    assert isinstance(rt, Runtime), "the app was not started through its lifespan"
    # The guard (installed on the app, so it ran first) left the caller's principal: services act
    # as them, so the audit trail names the key or user. Shallow copies share the gate, store and
    # trail (like Services.as_actor, but keeping whatever was set on the instance itself).
    actor = principal_of(request).actor
    if actor is None:
        return rt
    acting = copy.copy(rt)
    acting.services = copy.copy(rt.services)
    acting.services.actor = actor
    return acting


RuntimeDep = Annotated[Runtime, Depends(runtime)]


def services(rt: RuntimeDep) -> Services:
    return rt.services


def settings(rt: RuntimeDep) -> ApiSettings:
    return rt.settings


ServicesDep = Annotated[Services, Depends(services)]
SettingsDep = Annotated[ApiSettings, Depends(settings)]
