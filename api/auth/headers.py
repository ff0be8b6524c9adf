"""Security headers on every answer, and CORS only for the origins the operator names.

Answers that set their own Content-Security-Policy keep it (the dashboard's page sets one suited
to its own static files: ``api.web``). Everything else — JSON, problem details, exports, static
files — gets the strictest policy: it is data, never a document to render or frame. In
development mode GraphiQL and the OpenAPI pages load their scripts from a CDN, so those pages
get no CSP there; in production they are not served at all.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth.guard import CSRF_HEADER
from api.settings import ApiSettings
from schema.errors import InsecureConfigurationError

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
HSTS = "max-age=31536000; includeSubDomains"
#: Pages that need a CDN and inline script; served in development mode only.
DEVELOPMENT_PAGES = ("/graphql", "/docs", "/redoc")
#: Answers that may name a person or a supply chain are not kept by caches on the way.
PRIVATE_PREFIXES = ("/api/", "/graphql", "/epcis/", "/auth/")

_ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, hsts: bool, development: bool) -> None:
        self.app = app
        self.hsts = hsts
        self.development = development

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        csp = not (self.development and path.startswith(DEVELOPMENT_PAGES))
        private = path.startswith(PRIVATE_PREFIXES)
        hsts = self.hsts or scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[tuple[bytes, bytes]] = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = [(n, v) for n, v in _ALWAYS if n not in present]
                if csp and b"content-security-policy" not in present:
                    extra.append((b"content-security-policy", API_CSP.encode()))
                if private and b"cache-control" not in present:
                    extra.append((b"cache-control", b"no-store"))
                if hsts and b"strict-transport-security" not in present:
                    extra.append((b"strict-transport-security", HSTS.encode()))
                message = {**message, "headers": headers + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def cors_origins(settings: ApiSettings) -> list[str]:
    origins = [o.strip().rstrip("/") for o in (settings.cors_origins or "").split(",") if o.strip()]
    if "*" in origins and not settings.development:
        raise InsecureConfigurationError(
            "TRACEGRAPH_CORS_ORIGINS=* would let any web site call the API with a visitor's key: name the origins"
        )
    return origins


def install(app: FastAPI, settings: ApiSettings) -> None:
    """CORS (only when origins are set), then the headers, outermost, so every answer has them."""
    origins = cors_origins(settings)
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", CSRF_HEADER, "GS1-Capture-Error-Behaviour"],
            expose_headers=["Retry-After", "Location", "X-TraceGraph-Total", "X-TraceGraph-Partial"],
            allow_credentials=False,  # bearer keys only: the session cookie stays same-site
            max_age=600,
        )
    app.add_middleware(SecurityHeaders, hsts=settings.hsts, development=settings.development)
