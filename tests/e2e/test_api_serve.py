"""``tracegraph serve`` builds the app for the global --store and hands it to uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from api.runtime import Runtime
from cli.main import app


@pytest.mark.anyio
async def test_serve_runs_the_app_on_the_chosen_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    served: dict[str, Any] = {}

    def fake_run(asgi_app: Any, **options: Any) -> None:
        served.update(options, app=asgi_app)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    store = "sqlite:///" + str(tmp_path / "served.db")
    result = CliRunner().invoke(app, ["--store", store, "serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert served["host"] == "127.0.0.1" and served["port"] == 8123

    api = served["app"]
    async with api.router.lifespan_context(api):  # what uvicorn would start: the store asked for
        runtime = api.state.runtime
        assert isinstance(runtime, Runtime)
        assert runtime.services.store.location == str(tmp_path / "served.db")
        transport = httpx.ASGITransport(app=api)
        async with httpx.AsyncClient(transport=transport, base_url="http://tracegraph.test") as client:
            assert (await client.get("/readyz")).status_code == 200
