"""The OpenAPI document: every operation documented with an example, and a bounded schemathesis
run against it that finds no server error and no answer that breaks the document."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.settings import ApiSettings
from services.app import Services
from tests.conformance.plants import repack_plant
from tests.e2e.api_client import issue_key, load, store_url

#: Examples per operation: enough to reach every parameter, few enough to stay well under a minute.
#: Derandomized, so CI runs the same cases every time; raise it (and vary the seed) for a deeper hunt.
EXAMPLES = int(os.environ.get("TRACEGRAPH_API_FUZZ_EXAMPLES", "40"))


def openapi() -> dict[str, Any]:
    document: dict[str, Any] = create_app(ApiSettings(store="sqlite:///:memory:")).openapi()
    return document


def test_every_operation_has_a_summary_and_an_example_answer() -> None:
    for path, item in openapi()["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            assert operation.get("summary"), f"{where} has no summary"
            success = [r for status, r in operation["responses"].items() if status.startswith("2")]
            assert any("example" in c for r in success for c in r.get("content", {}).values()), f"{where}: no example"


def test_errors_are_documented_as_problem_details() -> None:
    trace = openapi()["paths"]["/api/v1/trace/{direction}"]["get"]
    assert "application/problem+json" in trace["responses"]["422"]["content"]
    assert "application/problem+json" in trace["responses"]["404"]["content"]


class _SignedIn:
    """The app, with every HTTP request carrying an admin key, as a real client's would."""

    def __init__(self, app: Any, key: str) -> None:
        self.app = app
        self.header = (b"authorization", f"Bearer {key}".encode())

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope = {**scope, "headers": [*scope.get("headers", []), self.header]}
        await self.app(scope, receive, send)


@pytest.fixture
def served_app(tmp_path: Path) -> Any:
    """The app on a store holding the plant (schemathesis starts its lifespan on the first call)."""
    api_settings = ApiSettings(store=store_url(tmp_path), rate_limit_burst=10_000)
    services = Services.build(api_settings, migrate=True)
    try:
        load(services, repack_plant())
    finally:
        services.close()
    return _SignedIn(create_app(api_settings), issue_key(api_settings))


# The document needs no store: create_app opens nothing until it serves.
schema = schemathesis.openapi.from_dict(openapi())


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_operation_fails_on_the_server_or_breaks_its_document(case: Any, served_app: Any) -> None:
    case.call_and_validate(
        app=served_app,
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
    )
