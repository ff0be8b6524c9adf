"""The OpenAPI document says how to sign in and what each operation may answer because of it:
a bearer scheme (API key or token), the session cookie, and 401, 403 and 429 on every operation
that is not public. Derived from the policy table, so the document cannot drift from it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from api.auth.guard import SESSION_COOKIE
from api.auth.policy import Gate, rest_requirement
from api.errors import PROBLEM_JSON, error_responses
from schema.access import Permission

SCHEMES = {
    "apiKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key (`tracegraph keys create`), or an OIDC token when configured",
    },
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION_COOKIE,
        "description": "The dashboard's session (POST /auth/login); changes also need X-CSRF-Token",
    },
}


def _problem_responses() -> dict[str, Any]:
    described = error_responses(401, 403, 429)
    return {
        str(status): {
            "description": entry["description"],
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status, entry in described.items()
        if status in (401, 403, 429)
    }


def secure_openapi(app: FastAPI) -> None:
    original: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = original()
        document.setdefault("components", {}).setdefault("securitySchemes", {}).update(SCHEMES)
        extra = _problem_responses()
        for context in iter_route_contexts(app.routes):
            route = context.original_route
            if not isinstance(route, APIRoute) or not route.include_in_schema or context.path_format is None:
                continue
            for method in route.methods or ():
                requirement = rest_requirement(method, route.path)
                operation = document.get("paths", {}).get(context.path_format, {}).get(method.lower())
                if operation is None or requirement is None or requirement is Gate.PUBLIC:
                    continue
                operation["security"] = [{"apiKey": []}, {"session": []}]
                for status, response in extra.items():
                    operation["responses"].setdefault(status, response)
                if isinstance(requirement, Permission):
                    operation["description"] = (
                        operation.get("description", "") + f"\n\nNeeds the `{requirement.value}` permission."
                    ).strip()
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
