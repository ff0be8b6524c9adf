"""The app factory and composition root: services are built once, in the lifespan, and closed
on the way out; every request borrows them through ``api.deps``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import Depends, FastAPI

from api import epcis
from api.auth import headers as security_headers
from api.auth import routes as auth_routes
from api.auth import startup as security_startup
from api.auth.guard import Guard, authorize
from api.auth.openapi import secure_openapi
from api.auth.tokens import TokenVerifier
from api.body_limit import BodySizeLimit
from api.captures import CaptureRegistry
from api.errors import install_error_handlers
from api.graphql.router import graphql_router
from api.graphql.schema import build_schema
from api.language import LanguageMiddleware
from api.metrics import Metrics, MetricsMiddleware
from api.rest import audit, early_warning, health, ingest, nmpa, nodes, quality, reports, sources, trace
from api.runtime import Runtime
from api.settings import ApiSettings
from api.web import install as install_web
from graph.trace import warm_walk
from services.access import AccessControl
from services.app import Services
from services.settings import Settings

log = logging.getLogger("tracegraph.api")

DESCRIPTION = """\
Traceability and early warning for medical-device manufacturers: trace any unit, lot, case or
supplier forward (impact) and backward (genealogy), with the evidence behind every edge.

REST lives under `/api/v1`, GraphQL at `/graphql` (GraphiQL in a browser), the GS1 EPCIS 2.0
REST binding under `/epcis`. Errors are RFC 9457 problem details with a stable `code`.
"""

OPENAPI_TAGS = [
    {"name": "trace", "description": "Forward and backward traces, as `tracegraph trace`"},
    {"name": "nodes", "description": "A node with its facts and provenance, as `tracegraph show`"},
    {"name": "ingest", "description": "Load files, as `tracegraph load`"},
    {"name": "epcis", "description": "GS1 EPCIS 2.0 capture and query (REST binding)"},
    {"name": "operations", "description": "Health, readiness and metrics"},
    {"name": "auth", "description": "Dashboard sign-in with an API key (scripts send it as a bearer token)"},
    {"name": "audit", "description": "The audit trail and its verification"},
]


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service. Nothing is opened here: the store opens when the app starts serving."""
    api_settings = ApiSettings.of(settings)
    # Refuses default secrets in production (InsecureConfigurationError) before anything listens.
    security_warnings = security_startup.check(api_settings)
    tokens = TokenVerifier.from_settings(api_settings)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await anyio.to_thread.run_sync(Services.build, api_settings)
        try:
            migrate = api_settings.migrate_on_start
            if migrate is None:  # SQLite needs nothing set up; Neo4j migrations run on purpose
                migrate = services.store.backend == "sqlite"
            if migrate:
                await anyio.to_thread.run_sync(services.migrate)
            await anyio.to_thread.run_sync(warm_walk)  # no request pays the trace walk's compilation
            app.state.runtime = Runtime(
                services=services,
                settings=api_settings,
                metrics=metrics,
                captures=CaptureRegistry(api_settings.capture_registry_size),
            )
            app.state.guard = Guard(
                api_settings, AccessControl.for_settings(api_settings, audit=services.audit_trail()), tokens
            )
            for warning in security_warnings:
                log.warning("%s", warning)
            yield
        finally:
            guard = getattr(app.state, "guard", None)
            if isinstance(guard, Guard):
                guard.close()
            await anyio.to_thread.run_sync(services.close)

    app = FastAPI(
        title="TraceGraph",
        version="0.1.0",
        description=DESCRIPTION,
        openapi_tags=OPENAPI_TAGS,
        lifespan=lifespan,
        # Every route runs the guard first (api.auth.guard); the pages that need a CDN only in development.
        dependencies=[Depends(authorize)],
        docs_url="/docs" if api_settings.development else None,
        redoc_url="/redoc" if api_settings.development else None,
    )
    install_error_handlers(app)
    # Outermost last: metrics see every answer, the 413 included.
    app.add_middleware(BodySizeLimit, max_bytes=api_settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(LanguageMiddleware)  # Accept-Language: error messages and documents
    security_headers.install(app, api_settings)  # CORS when configured, then headers on every answer

    # Routers carry their whole prefix, so a route's template (metrics label) is its full path.
    for router in (health.router, trace.router, nodes.router, ingest.router, epcis.router):
        app.include_router(router)
    app.include_router(auth_routes.router)
    app.include_router(audit.router)
    app.include_router(early_warning.router)
    app.include_router(reports.router)
    app.include_router(sources.router)
    app.include_router(nmpa.router)
    app.include_router(quality.router)
    app.include_router(graphql_router(build_schema(api_settings), ide=api_settings.development))
    secure_openapi(app)
    install_web(app)  # the dashboard at /, /web/ and /api/v1/stats
    return app
