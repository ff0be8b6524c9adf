"""Dashboard sign-in: ``POST /auth/login`` with an API key opens a session cookie.

The cookie is ``Secure; HttpOnly; SameSite=Strict; Path=/`` with the ``__Host-`` prefix: script
cannot read it, other sites cannot send it, and no subdomain can set one in its place. Every
change made with it (POST, PUT, PATCH, DELETE) also needs the session's CSRF token in the
``X-CSRF-Token`` header; the answer to sign-in gives it, and ``GET /auth/session`` gives it again
after a page reload. Scripts and integrations skip all this: they send their key as a bearer token.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.auth.guard import SESSION_COOKIE, client_address, guard_of, principal_of
from api.errors import error_responses
from api.rest.examples import json_example
from schema.audit import AuditAction
from schema.errors import UnauthenticatedError
from services.access import csrf_token_for

router = APIRouter(prefix="/auth", tags=["auth"])

_PRINCIPAL = {
    "id": "key:3f9a1c2b7d4e",
    "name": "dashboard: J. Doe",
    "roles": ["quality_engineer"],
    "permissions": ["alerts", "graph:read"],
    "method": "session",
    "scoped": False,
    "shares": [],
}
_SESSION = {"principal": _PRINCIPAL, "csrf_token": "k3J…", "expires_at": "2024-03-01T18:00:00Z"}


class LoginIn(BaseModel):
    key: str = Field(..., min_length=1, max_length=200, description="An API key (tgk_…)")


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")


@router.post(
    "/login",
    summary="Sign in with an API key: sets the session cookie and answers its CSRF token",
    responses={200: json_example(_SESSION, "Signed in"), **error_responses(400, 401, 429)},
)
async def login(request: Request, body: LoginIn) -> JSONResponse:
    guard = guard_of(request.app)
    client = client_address(request)
    try:
        principal = await anyio.to_thread.run_sync(guard.access.authenticate_key, body.key)
    except UnauthenticatedError as exc:
        guard.note_failure(client)  # past the limit: 429, not recorded
        await guard.record(request, AuditAction.LOGIN_FAILED, principal_of(request), subject="session", reason=str(exc))
        raise
    lifetime = guard.settings.session_lifetime
    session = await anyio.to_thread.run_sync(lambda: guard.access.open_session(principal, lifetime=lifetime))
    await guard.record(
        request, AuditAction.LOGIN, principal, subject="session", reason="signed in with an API key", budgeted=False
    )
    response = JSONResponse(
        {"principal": principal.describe(), "csrf_token": session.csrf_token, "expires_at": _iso(session.expires_at)}
    )
    response.set_cookie(
        SESSION_COOKIE, session.token, max_age=int(lifetime), path="/", secure=True, httponly=True, samesite="strict"
    )
    return response


@router.get(
    "/session",
    summary="Who is signed in, and (for a session) its CSRF token",
    responses={200: json_example(_SESSION), **error_responses(401, 429)},
)
async def session(request: Request) -> dict[str, Any]:
    principal = principal_of(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    csrf = csrf_token_for(cookie) if principal.method == "session" and cookie else None
    return {"principal": principal.describe(), "csrf_token": csrf}


@router.post(
    "/logout",
    summary="End this browser session (the cookie is cleared; a bearer key is not affected)",
    responses={200: json_example({"signed_out": True}), **error_responses(401, 403, 429)},
)
async def logout(request: Request) -> JSONResponse:
    guard = guard_of(request.app)
    principal = principal_of(request)
    ended = False
    if principal.session is not None:
        session_digest = principal.session
        ended = await anyio.to_thread.run_sync(guard.access.close_session, session_digest)
        await guard.record(
            request, AuditAction.LOGOUT, principal, subject="session", reason="signed out", budgeted=False
        )
    response = JSONResponse({"signed_out": ended})
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return response
