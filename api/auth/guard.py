"""The one dependency every FastAPI route runs first: who is calling, may they, and how often.

``authorize`` is installed on the app (``FastAPI(dependencies=...)``), so it runs before every
route's own parameters, REST, EPCIS, GraphQL and the dashboard's alike. It finds the route's
entry in the policy table (none: refused), authenticates the caller (API key, session cookie
or OIDC token; nothing at all in development mode), applies the rate limit, asks a session for
its CSRF token on changes, checks the permission, and leaves the principal on
``request.state.principal`` for ``api.deps`` (who acts in the audit trail) and GraphQL.

Refusals (401, 403) are recorded in the audit trail as ``access.denied``, within a budget:
a flood of bad requests must not be able to fill the disk with audit entries. What the budget
leaves unrecorded is counted on the next entry that is recorded.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import Depends, FastAPI
from starlette.requests import HTTPConnection

from api.auth.policy import Gate, Requirement, rest_requirement
from api.auth.ratelimit import RateLimiter, retry_after
from api.auth.tokens import TokenVerifier
from api.runtime import Runtime
from api.settings import ApiSettings
from schema.access import Permission
from schema.audit import AuditAction
from schema.errors import ForbiddenError, RateLimitedError, TraceGraphError, UnauthenticatedError
from services.access import ANONYMOUS, DEVELOPMENT, KEY_PREFIX, NOT_A_KEY, AccessControl, Principal, digest

log = logging.getLogger("tracegraph.api.auth")

SESSION_COOKIE = "__Host-tracegraph-session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Refusals recorded in the audit trail a minute, all clients together.
DENIALS_RECORDED_PER_MINUTE = 60

T = TypeVar("T")


class Guard:
    """Built once in the lifespan; lives on ``app.state.guard``."""

    def __init__(self, settings: ApiSettings, access: AccessControl, tokens: TokenVerifier | None) -> None:
        self.settings = settings
        self.access = access
        self.tokens = tokens
        self.requests = RateLimiter(per_minute=settings.rate_limit_per_minute, burst=settings.rate_limit_burst)
        self.failures = RateLimiter(per_minute=settings.failed_auth_per_minute, burst=settings.failed_auth_per_minute)
        self._denial_budget = RateLimiter(per_minute=DENIALS_RECORDED_PER_MINUTE, burst=DENIALS_RECORDED_PER_MINUTE)
        self.unrecorded = 0

    def close(self) -> None:
        self.access.close()

    async def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))

    # -- who ---------------------------------------------------------------------------
    def note_failure(self, client: str) -> None:
        """Count a failed sign-in or bad credential from ``client``; past the limit, a 429 instead
        of the 401 (and no audit entry). Only failures are throttled: behind a proxy every client
        shares its address, and valid keys must keep working while someone sends bad ones."""
        wait = self.failures.take(client)
        if wait:
            raise RateLimitedError(
                f"too many failed sign-ins or bad credentials from {client}; try again in {retry_after(wait)} s",
                wait,
            )

    async def authenticate(self, conn: HTTPConnection) -> Principal:
        """The caller's principal; UnauthenticatedError without valid credentials."""
        header = conn.headers.get("authorization")
        if header is not None:
            scheme, _, value = header.partition(" ")
            value = value.strip()
            if scheme.lower() != "bearer" or not value:
                raise UnauthenticatedError("send credentials as 'Authorization: Bearer <API key or token>'")
            if value.startswith(KEY_PREFIX):
                return await self._run(self.access.authenticate_key, value)
            if self.tokens is not None and value.count(".") == 2:
                principal = self.tokens.verify(value)
                if principal.scoped:
                    shares = await self._run(self.access.shares_of, principal.id)
                    principal = replace(principal, shares=shares)
                return principal
            raise UnauthenticatedError(NOT_A_KEY)
        cookie = conn.cookies.get(SESSION_COOKIE)
        if cookie:
            return await self._run(
                self.access.authenticate_session, cookie, idle_timeout=self.settings.session_idle_timeout
            )
        raise UnauthenticatedError(
            "sign in: send 'Authorization: Bearer <API key>' (tracegraph keys create), or POST /auth/login"
        )

    def throttle(self, principal: Principal) -> None:
        wait = self.requests.take(principal.id)
        if wait:
            raise RateLimitedError(
                f"more than {self.settings.rate_limit_per_minute} requests a minute from {principal.name}; "
                f"try again in {retry_after(wait)} s",
                wait,
            )

    # -- the record ----------------------------------------------------------------------
    async def record(
        self,
        conn: HTTPConnection,
        action: AuditAction,
        principal: Principal,
        *,
        subject: str,
        reason: str,
        budgeted: bool = True,
    ) -> None:
        """Append a sign-in or refusal to the audit trail; a failure to record is logged, never
        turned into a different answer."""
        if budgeted and self._denial_budget.take("all"):
            self.unrecorded += 1
            if self.unrecorded == 1:
                log.warning(
                    "more than %d refusals a minute: the audit trail records a count", DENIALS_RECORDED_PER_MINUTE
                )
            return
        details: dict[str, Any] = {
            "client": client_address(conn),
            "method": conn.scope.get("method", "WEBSOCKET"),
            "path": conn.url.path[:300],
            "principal": principal.id,
        }
        if self.unrecorded:
            details["unrecorded_refusals_before"] = self.unrecorded
            self.unrecorded = 0
        runtime = conn.app.state.runtime
        assert isinstance(runtime, Runtime)
        services = runtime.services.as_actor(principal.actor or principal.id)
        try:
            await self._run(services.record, action, subject, reason=reason[:500], details=details)
        except TraceGraphError as exc:
            log.error("could not record %s for %s in the audit trail: %s", action, principal.id, exc)


def guard_of(app: FastAPI) -> Guard:
    guard = getattr(app.state, "guard", None)
    assert isinstance(guard, Guard), "the app was not started through its lifespan"
    return guard


def client_address(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client else "local"


def _is_local(conn: HTTPConnection) -> bool:
    host = client_address(conn)
    if host in {"local", "localhost", "testclient"}:  # a Unix socket; Starlette's TestClient
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def principal_of(conn: HTTPConnection) -> Principal:
    principal = getattr(conn.state, "principal", None)
    return principal if isinstance(principal, Principal) else ANONYMOUS


def csrf_ok(conn: HTTPConnection, principal: Principal) -> bool:
    sent = conn.headers.get(CSRF_HEADER)
    if not sent or principal.csrf_digest is None:
        return False
    return hmac.compare_digest(digest(sent), principal.csrf_digest)


async def authorize(conn: HTTPConnection) -> Principal:
    """Installed on the app: runs first for every route (see the module's docstring)."""
    guard = guard_of(conn.app)
    method = "WEBSOCKET" if conn.scope["type"] == "websocket" else str(conn.scope["method"])
    template = getattr(conn.scope.get("route"), "path", None) or conn.url.path
    requirement = rest_requirement(method, template)
    principal = ANONYMOUS
    try:
        if requirement is None:
            log.error("no access policy for %s %s: refused (add it to api/auth/policy.py)", method, template)
            raise ForbiddenError(f"{method} {template} has no access policy yet, so it is refused to everyone")
        if requirement is Gate.CLOSED:
            raise ForbiddenError(f"{method} {template} is closed")
        if guard.settings.development:
            if not _is_local(conn):
                raise ForbiddenError("a server in development mode answers only on this machine (127.0.0.1)")
            principal = DEVELOPMENT
        elif requirement is not Gate.PUBLIC:
            principal = await _authenticate(guard, conn)
            guard.throttle(principal)
            if principal.method == "session" and method not in SAFE_METHODS and not csrf_ok(conn, principal):
                raise ForbiddenError(
                    f"a signed-in browser session must send its {CSRF_HEADER} header with every change "
                    "(POST /auth/login and GET /auth/session give it)"
                )
            _permit(principal, requirement, f"{method} {template}")
    except (UnauthenticatedError, ForbiddenError) as exc:
        await guard.record(conn, AuditAction.ACCESS_DENIED, principal, subject=f"{method} {template}", reason=str(exc))
        raise
    conn.state.principal = principal
    return principal


async def _authenticate(guard: Guard, conn: HTTPConnection) -> Principal:
    try:
        return await guard.authenticate(conn)
    except UnauthenticatedError:
        presented = conn.headers.get("authorization") is not None or conn.cookies.get(SESSION_COOKIE) is not None
        if presented:  # only bad credentials count: a page asking before sign-in is no attack
            guard.note_failure(client_address(conn))
        raise


def _permit(principal: Principal, requirement: Requirement, operation: str) -> None:
    if isinstance(requirement, Permission) and not principal.can(requirement):
        roles = ", ".join(sorted(r.value for r in principal.roles)) or "no role"
        raise ForbiddenError(f"{operation} needs the {requirement.value} permission, which {roles} does not have")


PrincipalDep = Annotated[Principal, Depends(authorize)]
