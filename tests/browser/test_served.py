"""How the API serves the dashboard, without a browser: the page, its modules, the stats it
shows, and what happens when its files are missing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from api import web
from api.errors import install_error_handlers
from tests.e2e.api_client import Api, running_api

pytestmark = pytest.mark.anyio


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(tmp_path) as running:
        yield running


async def test_the_page_is_served_at_the_root_with_a_strict_policy(api: Api) -> None:
    page = await api.client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/web/js/main.js">' in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy  # nothing from a CDN


async def test_every_module_the_page_imports_is_served_as_javascript(api: Api) -> None:
    modules = sorted(p.relative_to(web.WEB_DIR).as_posix() for p in (web.WEB_DIR / "js").rglob("*.js"))
    assert "js/main.js" in modules
    for module in modules:
        response = await api.client.get(f"/web/{module}")
        assert response.status_code == 200, module
        assert "javascript" in response.headers["content-type"], module
        assert response.headers["cache-control"] == "no-cache"
    assert (await api.client.get("/web/app.css")).headers["content-type"].startswith("text/css")


async def test_no_file_loads_anything_from_another_origin() -> None:
    """Offline by construction: no import, script, stylesheet, font or fetch from elsewhere."""
    remote = re.compile(r"""(?:from\s*|import\s*\(?\s*|src=|href=|url\(|fetch\()["'`]?(?:https?:)?//""")
    for path in web.WEB_DIR.rglob("*"):
        if path.suffix in {".js", ".html", ".css", ".svg"}:
            found = remote.search(path.read_text(encoding="utf-8"))
            assert found is None, f"{path} loads from another origin: {found and found.group(0)}"


async def test_stats_count_what_the_store_holds(api: Api) -> None:
    stats = (await api.client.get("/api/v1/stats")).json()
    assert stats["backend"] == "sqlite"
    assert stats["nodes"] == sum(stats["nodes_by_kind"].values()) == 19
    assert stats["edges"] == sum(stats["edges_by_type"].values())
    assert stats["batches"] == 1 and stats["last_loaded_at"]
    assert "location" not in stats  # a file path or URL is the operator's business


async def test_the_dashboard_shadows_no_api_route(api: Api) -> None:
    assert (await api.client.get("/healthz")).json() == {"status": "ok"}
    missing = await api.client.get("/no-such-page")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


async def test_without_its_files_the_api_still_serves_and_says_what_is_missing(tmp_path: Path) -> None:
    app = FastAPI()
    install_error_handlers(app)
    web.install(app, tmp_path / "no-web")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        page = await client.get("/")
    assert page.status_code == 404
    assert "dashboard is not installed" in page.json()["detail"]
