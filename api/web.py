"""The dashboard: its page at ``/``, its static files under ``/web/``, and the one REST endpoint
it needs beyond traces and nodes (``/api/v1/stats``).

The dashboard is plain ES modules with no build step, kept in ``web/`` beside the ``api``
package: the checkout in development, and the same place in an installed wheel when ``web`` is
packaged with it. Its files are mounted at ``/web`` rather than at ``/``: a mount at the root
would swallow every route included after it.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

from api.rest import stats
from schema.errors import NotFoundError

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
WEB_PREFIX = "/web"

# Everything from this origin, nothing from anywhere else (no CDN: the dashboard works offline),
# and no inline script or style, so a fact read from a source file can never run as code.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
_PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


class _RevalidatedFiles(StaticFiles):
    """Static files that the browser revalidates (ETag, 304) on every use, so an upgraded
    server never runs with a stale module next to fresh ones."""

    def file_response(
        self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def ui_router(web_dir: Path = WEB_DIR) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    async def index() -> FileResponse:
        page = web_dir / "index.html"
        if not page.is_file():
            raise NotFoundError(f"the dashboard is not installed: no {page} (the API itself works)")
        return FileResponse(page, media_type="text/html; charset=utf-8", headers=_PAGE_HEADERS)

    return router


def install(app: FastAPI, web_dir: Path = WEB_DIR) -> None:
    """Serve the dashboard and its stats endpoint from ``app``."""
    app.include_router(stats.router)
    app.include_router(ui_router(web_dir))
    if web_dir.is_dir():  # without its files the API still serves; ``/`` says what is missing
        app.mount(WEB_PREFIX, _RevalidatedFiles(directory=web_dir), name="web")
