"""The API as production builds it, on a temporary SQLite store, spoken to over HTTP.

``async with running_api(tmp_path) as api:`` starts the app's lifespan (the composition root),
loads the repack plant through its Services, and gives an httpx client on the ASGI app. The
app runs as in production, sign-in required: the client sends an ``admin`` API key issued in
the store's access file (``role=`` another role, or ``role=None`` for none).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from api.app import create_app
from api.runtime import Runtime
from api.settings import ApiSettings
from loaders.base import ParseResult
from schema.access import Role
from schema.model import FactBatch
from services.access import AccessControl
from services.app import Services
from tests.conformance.plants import repack_plant


@dataclass
class Api:
    client: httpx.AsyncClient
    app: FastAPI
    #: The API key the client sends (None: it sends none).
    key: str | None = None

    @property
    def runtime(self) -> Runtime:
        rt = self.app.state.runtime
        assert isinstance(rt, Runtime)
        return rt

    @property
    def services(self) -> Services:
        return self.runtime.services

    async def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        """The response body of a GraphQL request (which is 200 whether or not it has errors)."""
        response = await self.client.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def load(services: Services, batch: FactBatch) -> None:
    parsed = ParseResult(nodes=list(batch.nodes), edges=list(batch.edges), records=len(batch.nodes))
    services.load_parsed(parsed, source=batch.source, content_hash=None)


def store_url(tmp_path: Path) -> str:
    return "sqlite:///" + str(tmp_path / "t.db")


def issue_key(settings: ApiSettings, role: Role | str = Role.ADMIN, name: str | None = None) -> str:
    """A new API key in the access file the app of ``settings`` reads, as `tracegraph keys create`."""
    access = AccessControl.for_settings(settings)
    try:
        role_name = role.value if isinstance(role, Role) else role
        return access.create_key(name=name or f"test {role_name}", role=role, actor="test").secret
    finally:
        access.close()


@asynccontextmanager
async def running_api(
    tmp_path: Path, *, plant: bool = True, role: Role | str | None = Role.ADMIN, **settings: Any
) -> AsyncIterator[Api]:
    api_settings = ApiSettings(store=store_url(tmp_path), **settings)
    app = create_app(api_settings)
    key = issue_key(api_settings, role) if role is not None and not api_settings.development else None
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with app.router.lifespan_context(app):
        # As a server would: an unexpected error is a 500 answer, not an exception in the client.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        client = httpx.AsyncClient(transport=transport, base_url="http://tracegraph.test", headers=headers)
        api = Api(client, app, key)
        if plant:
            load(api.services, repack_plant())
        async with api.client:
            yield api


def error_code(body: dict[str, Any]) -> str:
    """The ``extensions.code`` of the one error of a GraphQL response."""
    errors = body.get("errors") or []
    assert len(errors) == 1, body
    code: str = errors[0]["extensions"]["code"]
    return code
