"""Access control over HTTP: every operation has a policy, and every role gets exactly what the
policy table says, on every REST route and every GraphQL root field.

The operations are listed from the running app's routes and the GraphQL schema's root fields, so
a route or field added without a policy entry fails ``test_every_operation_has_a_policy``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    Undefined,
    get_named_type,
    is_non_null_type,
)
from starlette.routing import Mount, Route

from api.app import create_app
from api.auth import policy
from api.auth.policy import Gate, allows
from api.graphql.schema import build_schema
from api.settings import ApiSettings
from schema.access import Role
from schema.audit import AuditAction
from tests.e2e.api_client import Api, issue_key, running_api

pytestmark = pytest.mark.anyio

REPO = Path(__file__).resolve().parents[2]


# -- the operations ---------------------------------------------------------------------


def rest_operations(app: FastAPI) -> Iterator[tuple[str, Any]]:
    """``METHOD /path`` of every route the app answers, with the route."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            # Routers carry their whole prefix: the template the guard sees is the served path.
            assert context.path == route.path, f"{route.path} is served at {context.path}"
            for method in sorted(route.methods or ()):
                yield f"{method} {route.path}", route
        elif isinstance(route, APIWebSocketRoute):
            yield f"WEBSOCKET {route.path}", route
        elif isinstance(route, Mount):
            yield f"MOUNT {route.path}", route
        elif isinstance(route, Route):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                yield f"{method} {route.path}", route
        else:  # pragma: no cover - a new kind of route needs thought here
            raise AssertionError(f"unknown route type {type(route).__name__}")


def graphql_operations() -> list[str]:
    schema = build_schema(ApiSettings())._schema
    found = []
    for operation, root in (("query", schema.query_type), ("mutation", schema.mutation_type)):
        if root is not None:
            found += [f"{operation} {name}" for name in root.fields]
    assert schema.subscription_type is None, "subscriptions need a policy (and a WebSocket guard)"
    return found


def apps() -> list[FastAPI]:
    return [
        create_app(ApiSettings(store="sqlite:///:memory:")),
        create_app(ApiSettings(store="sqlite:///:memory:", environment="development")),
    ]


def test_every_operation_has_a_policy() -> None:
    served: dict[str, Any] = {}
    for app in apps():
        served.update(rest_operations(app))
    missing = sorted(op for op in served if policy.rest_requirement(*op.split(" ", 1)) is None)
    assert not missing, f"operations without an entry in api/auth/policy.py REST: {missing}"
    # Only FastAPI routes run the guard: anything else must be public on purpose.
    unguarded = [op for op, route in served.items() if not isinstance(route, APIRoute | APIWebSocketRoute)]
    assert all(policy.REST[op] is Gate.PUBLIC for op in unguarded), unguarded
    stale = sorted(set(policy.REST) - set(served))
    assert not stale, f"policy entries for operations that no longer exist: {stale}"

    fields = graphql_operations()
    missing_fields = [f for f in fields if f not in policy.GRAPHQL]
    assert not missing_fields, f"GraphQL root fields without an entry in api/auth/policy.py GRAPHQL: {missing_fields}"
    assert sorted(set(policy.GRAPHQL) - set(fields)) == []


def test_the_security_reference_shows_the_current_policy() -> None:
    text = (REPO / "docs" / "reference" / "security.md").read_text()
    start, end = text.index(policy.BEGIN), text.index(policy.END) + len(policy.END)
    assert text[start:end] + "\n" == policy.markdown(), "run: python -m api.auth.policy, and paste it in"


# -- the matrix -------------------------------------------------------------------------


def _literal(kind: GraphQLInputType) -> str:
    inner = kind.of_type if isinstance(kind, GraphQLNonNull) else kind
    if isinstance(inner, GraphQLList):
        return f"[{_literal(inner.of_type)}]"
    if isinstance(inner, GraphQLEnumType):
        return str(next(iter(inner.values)))
    if isinstance(inner, GraphQLInputObjectType):
        required = [f"{n}: {_literal(f.type)}" for n, f in inner.fields.items() if is_non_null_type(f.type)]
        return "{" + ", ".join(required) + "}"
    assert isinstance(inner, GraphQLScalarType)
    return {"Int": "1", "Float": "1.0", "Boolean": "false"}.get(inner.name, '"x"')


def graphql_document(operation: str) -> str:
    """A smallest valid document selecting the root field ``operation`` (``query trace``)."""
    kind, name = operation.split(" ", 1)
    schema = build_schema(ApiSettings())._schema
    root = schema.query_type if kind == "query" else schema.mutation_type
    assert root is not None
    field = root.fields[name]
    args = [
        f"{arg}: {_literal(a.type)}"
        for arg, a in field.args.items()
        if is_non_null_type(a.type) and a.default_value is Undefined
    ]
    selection = " { __typename }" if isinstance(get_named_type(field.type), GraphQLObjectType) else ""
    return f"{kind} {{ {name}{'(' + ', '.join(args) + ')' if args else ''}{selection} }}"


def _sample_path(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", template)


async def _status(client: httpx.AsyncClient, operation: str) -> int:
    method, template = operation.split(" ", 1)
    return (await client.request(method, _sample_path(template))).status_code


def _http_operations(app: FastAPI) -> list[str]:
    return [op for op, route in rest_operations(app) if isinstance(route, APIRoute)]


@pytest.mark.parametrize("role", [*Role, None], ids=[*(r.value for r in Role), "no-key"])
async def test_each_role_gets_exactly_what_the_policy_says(tmp_path: Path, role: Role | None) -> None:
    async with running_api(tmp_path, role=role) as api:
        for operation in _http_operations(api.app):
            requirement = policy.REST[operation]
            status = await _status(api.client, operation)
            if requirement is Gate.PUBLIC:
                assert status not in (401, 403), f"{operation} is public but answered {status}"
            elif role is None:
                assert status == 401, f"{operation} answered {status} without a key"
            elif allows(role, requirement):
                assert status not in (401, 403), f"{role.value} may {operation} but got {status}"
            else:
                assert status == 403, f"{role.value} may not {operation} but got {status}"
        for operation in graphql_operations():
            response = await api.client.post("/graphql", json={"query": graphql_document(operation)})
            if role is None:
                assert response.status_code == 401
                continue
            codes = {e.get("extensions", {}).get("code") for e in response.json().get("errors") or []}
            expected = allows(role, policy.GRAPHQL[operation])
            assert ("FORBIDDEN" not in codes) == expected, f"{role.value} {operation}: {response.json()}"


# -- authentication ---------------------------------------------------------------------


def _entries(api: Api, action: str) -> list[dict[str, Any]]:
    trail = api.services.audit_trail()
    return [e.model_dump() for e in (trail.entry(r.seq) for r in trail.rows()) if e.action == action]


async def test_no_bad_revoked_or_expired_key_is_401_and_recorded(tmp_path: Path) -> None:
    async with running_api(tmp_path, role=None) as api:
        response = await api.client.get("/api/v1/stats")
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["code"] == "unauthenticated"

        bad = await api.client.get("/api/v1/stats", headers={"Authorization": "Bearer tgk_0123456789ab_guess"})
        assert bad.status_code == 401 and "not a valid API key" in bad.json()["detail"]
        assert (await api.client.get("/api/v1/stats", headers={"Authorization": "Basic abc"})).status_code == 401

        access = api.app.state.guard.access
        issued = access.create_key(name="old laptop", role=Role.ADMIN, actor="test")
        headers = {"Authorization": f"Bearer {issued.secret}"}
        assert (await api.client.get("/api/v1/stats", headers=headers)).status_code == 200
        access.revoke(issued.key.id, actor="test")
        revoked = await api.client.get("/api/v1/stats", headers=headers)
        assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]

        denied = _entries(api, "access.denied")
        assert len(denied) == 4
        assert denied[0]["actor"] == "anonymous" and denied[0]["subject"] == "GET /api/v1/stats"
        assert "key.changed" in {e["action"] for e in _entries(api, "key.changed")}


async def test_forbidden_is_403_and_recorded_with_the_key(tmp_path: Path) -> None:
    async with running_api(tmp_path, role=Role.INTEGRATION) as api:
        response = await api.client.get("/api/v1/trace/forward", params={"start": "lot:RESIN-7"})
        assert response.status_code == 403
        assert "graph:read" in response.json()["detail"]
        (denied,) = _entries(api, "access.denied")
        assert denied["actor"].startswith("key:") and "integration" in denied["actor"]


async def test_loads_are_recorded_as_the_key_that_made_them(tmp_path: Path) -> None:
    async with running_api(tmp_path, role=Role.INTEGRATION, plant=False) as api:
        csv = b"supplier,name,country,status\nsupplier:NEW-1,New Polymers,DE,approved\n"
        response = await api.client.post("/api/v1/ingest", files={"file": ("suppliers.csv", csv, "text/csv")})
        assert response.status_code == 200, response.text
        (load,) = _entries(api, "load")
        assert load["actor"].startswith("key:") and load["actor"].endswith("(test integration)")


async def test_failed_credentials_from_one_address_are_throttled(tmp_path: Path) -> None:
    async with running_api(tmp_path, role=None, failed_auth_per_minute=3) as api:
        headers = {"Authorization": "Bearer tgk_0123456789ab_guess"}
        statuses = [(await api.client.get("/api/v1/stats", headers=headers)).status_code for _ in range(5)]
        assert statuses == [401, 401, 401, 429, 429]
        throttled = await api.client.get("/api/v1/stats", headers=headers)
        assert int(throttled.headers["retry-after"]) >= 1
        assert throttled.json()["code"] == "rate_limited"
        assert (await api.client.get("/healthz")).status_code == 200  # public routes stay open
        # Only failures are throttled: a valid key from the same address (a proxy's) still works.
        key = issue_key(api.runtime.settings, Role.QUALITY_ENGINEER)
        assert (await api.client.get("/api/v1/stats", headers={"Authorization": f"Bearer {key}"})).status_code == 200
        assert len(_entries(api, "access.denied")) == 3  # the throttled refusals are not recorded


async def test_each_key_is_rate_limited(tmp_path: Path) -> None:
    async with running_api(tmp_path, rate_limit_burst=3, rate_limit_per_minute=1) as api:
        statuses = [(await api.client.get("/api/v1/stats")).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        other = issue_key(api.runtime.settings, Role.QUALITY_ENGINEER)
        answer = await api.client.get("/api/v1/stats", headers={"Authorization": f"Bearer {other}"})
        assert answer.status_code == 200  # buckets are per key


async def test_a_route_without_a_policy_is_refused(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:

        @api.app.get("/api/v1/new-and-unreviewed")
        async def new() -> dict[str, str]:
            return {"secret": "s"}

        response = await api.client.get("/api/v1/new-and-unreviewed")
        assert response.status_code == 403 and "no access policy" in response.json()["detail"]


# -- dashboard sessions -----------------------------------------------------------------


async def test_dashboard_session_cookie_and_csrf(tmp_path: Path) -> None:
    async with running_api(tmp_path, role=None) as api:
        key = issue_key(api.runtime.settings, Role.QUALITY_ENGINEER, "J. Doe")
        transport = httpx.ASGITransport(app=api.app)
        async with httpx.AsyncClient(transport=transport, base_url="https://tracegraph.test") as browser:
            refused = await browser.post("/auth/login", json={"key": "tgk_0123456789ab_nope"})
            assert refused.status_code == 401

            login = await browser.post("/auth/login", json={"key": key})
            assert login.status_code == 200, login.text
            cookie = login.headers["set-cookie"]
            assert cookie.startswith("__Host-tracegraph-session=")
            for attribute in ("HttpOnly", "Secure", "SameSite=strict", "Path=/"):
                assert attribute.lower() in cookie.lower()
            csrf = login.json()["csrf_token"]
            assert login.json()["principal"]["roles"] == ["quality_engineer"]

            assert (await browser.get("/api/v1/stats")).status_code == 200
            assert (await browser.get("/auth/session")).json()["csrf_token"] == csrf

            query = {"query": '{ traceCount(starts: ["lot:RESIN-7"]) { total } }'}
            no_token = await browser.post("/graphql", json=query)
            assert no_token.status_code == 403 and "X-CSRF-Token" in no_token.json()["detail"]
            wrong = await browser.post("/graphql", json=query, headers={"X-CSRF-Token": "forged"})
            assert wrong.status_code == 403
            ok = await browser.post("/graphql", json=query, headers={"X-CSRF-Token": csrf})
            assert ok.status_code == 200 and ok.json()["data"]["traceCount"]["total"] > 0

            out = await browser.post("/auth/logout", headers={"X-CSRF-Token": csrf})
            assert out.json() == {"signed_out": True}
            browser.cookies.set("__Host-tracegraph-session", cookie.split(";")[0].split("=", 1)[1])
            assert (await browser.get("/api/v1/stats")).status_code == 401  # the session is gone server-side

        actions = [e["action"] for e in _entries(api, "session.login") + _entries(api, "session.login_failed")]
        assert sorted(actions) == ["session.login", "session.login_failed"]
        assert len(_entries(api, "session.logout")) == 1


async def test_revoking_a_key_ends_its_sessions(tmp_path: Path) -> None:
    async with running_api(tmp_path, role=None) as api:
        access = api.app.state.guard.access
        issued = access.create_key(name="kiosk", role=Role.RECALL_MANAGER, actor="test")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app), base_url="https://t.test") as browser:
            assert (await browser.post("/auth/login", json={"key": issued.secret})).status_code == 200
            assert (await browser.get("/api/v1/stats")).status_code == 200
            access.revoke(issued.key.id, actor="test")
            assert (await browser.get("/api/v1/stats")).status_code == 401


# -- auditors: what was shared ----------------------------------------------------------


async def test_an_auditor_reads_only_the_audit_entries_shared_with_it(tmp_path: Path) -> None:
    async with running_api(tmp_path, role=Role.AUDITOR) as api:
        services = api.services.as_actor("test")
        services.record(AuditAction.REPORT, "report:trace:lot:RESIN-7", new={"nodes": 3})
        services.record(AuditAction.PACKAGE, "package:p1.zip", new={"signed": True})
        empty = (await api.client.get("/api/v1/audit")).json()
        assert empty["scoped"] is True and empty["entries"] == []

        key_id = api.key.split("_")[1] if api.key else ""
        api.app.state.guard.access.share(key_id, ["report:*"], actor="test")
        shared = (await api.client.get("/api/v1/audit")).json()
        assert [e["subject"] for e in shared["entries"]] == ["report:trace:lot:RESIN-7"]
        # Filters narrow what the scope lets through, never widen it.
        by_subject = (await api.client.get("/api/v1/audit", params={"subject": "package:*"})).json()
        assert by_subject["entries"] == []
        by_actor = (await api.client.get("/api/v1/audit", params={"actor": "TES", "action": "report.generated"})).json()
        assert [e["subject"] for e in by_actor["entries"]] == ["report:trace:lot:RESIN-7"]
        later = (await api.client.get("/api/v1/audit", params={"since": "2999-01-01T00:00:00Z"})).json()
        assert later["entries"] == [] and later["next_after"] is None
        backwards = await api.client.get("/api/v1/audit", params={"since": "2024-02-01", "until": "2024-01-01"})
        assert backwards.status_code == 422 and "before its until" in str(backwards.json()["detail"])
        assert (await api.client.get("/api/v1/audit/verify")).json()["intact"] is True
        assert (await api.client.get("/api/v1/nodes/lot:RESIN-7")).status_code == 403


# -- development mode and secure defaults -----------------------------------------------


async def test_development_mode_needs_no_key_but_answers_this_machine_only(tmp_path: Path) -> None:
    async with running_api(tmp_path, environment="development") as api:
        assert api.key is None
        assert (await api.client.get("/api/v1/stats")).status_code == 200
        remote = httpx.ASGITransport(app=api.app, client=("203.0.113.9", 40000))
        async with httpx.AsyncClient(transport=remote, base_url="http://tracegraph.test") as client:
            response = await client.get("/api/v1/stats")
            assert response.status_code == 403 and "development mode" in response.json()["detail"]


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"store": "neo4j://neo4j:change-this-password@db:7687"}, "Neo4j"),
        ({"store": "neo4j://db:7687"}, "no password"),
        ({"signing_key": "change-me-change-me-change-me"}, "SIGNING_KEY"),
        ({"signing_key": "x" * 32}, "SIGNING_KEY"),
        ({"cors_origins": "*"}, "CORS"),
        ({"oidc_issuer": "https://id.example"}, "OIDC_AUDIENCE"),
    ],
)
def test_production_refuses_default_secrets(settings: dict[str, Any], says: str) -> None:
    from schema.errors import InsecureConfigurationError

    with pytest.raises(InsecureConfigurationError, match=says):
        create_app(ApiSettings(**{"store": "sqlite:///:memory:", **settings}))
    if "oidc_issuer" not in settings:  # half-configured sign-in is wrong everywhere; the rest is fine on a laptop
        create_app(ApiSettings(**{"store": "sqlite:///:memory:", **settings, "environment": "development"}))


async def test_security_headers_and_closed_cors(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        answer = await api.client.get("/api/v1/stats", headers={"Origin": "https://evil.example"})
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["cache-control"] == "no-store"
        assert "access-control-allow-origin" not in answer.headers
        assert "strict-transport-security" not in answer.headers
        preflight = await api.client.options(
            "/api/v1/stats", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
        )
        assert "access-control-allow-origin" not in preflight.headers
        page = await api.client.get("/")
        if page.status_code == 200:  # the dashboard's own policy is kept: its scripts are its own files
            assert "script-src 'self'" in page.headers["content-security-policy"]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app), base_url="https://t.test") as tls:
            assert "max-age" in (await tls.get("/healthz")).headers["strict-transport-security"]


async def test_cors_opens_for_the_configured_origins_only(tmp_path: Path) -> None:
    async with running_api(tmp_path, cors_origins="https://mes.example.com") as api:
        ok = await api.client.options(
            "/api/v1/stats",
            headers={"Origin": "https://mes.example.com", "Access-Control-Request-Method": "GET"},
        )
        assert ok.headers["access-control-allow-origin"] == "https://mes.example.com"
        other = await api.client.get("/api/v1/stats", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


async def test_introspection_is_off_in_production_only(tmp_path: Path) -> None:
    query = "{ __schema { queryType { name } } }"
    async with running_api(tmp_path) as api:
        body = await api.graphql(query)
        assert body.get("errors") and "introspection" in body["errors"][0]["message"].lower()
        assert (await api.graphql("{ __typename }"))["data"] == {"__typename": "Query"}
    async with running_api(tmp_path / "dev", environment="development") as dev:
        assert (await dev.graphql(query))["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_graphql_over_websocket_is_closed(tmp_path: Path) -> None:
    """No subscriptions, no WebSocket protocol: a query cannot go round the HTTP guard."""
    async with running_api(tmp_path) as api:
        sent: list[MutableMapping[str, Any]] = []
        incoming = [{"type": "websocket.connect"}]

        async def receive() -> dict[str, Any]:
            if incoming:
                return incoming.pop(0)
            await anyio.sleep_forever()
            raise AssertionError  # pragma: no cover

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "websocket",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "root_path": "",
            "scheme": "ws",
            "query_string": b"",
            "server": ("tracegraph.test", 80),
            "client": ("127.0.0.1", 40000),
            "headers": [
                (b"host", b"tracegraph.test"),
                (b"authorization", f"Bearer {api.key}".encode()),
                (b"sec-websocket-protocol", b"graphql-transport-ws"),
            ],
            "subprotocols": ["graphql-transport-ws"],
        }
        with anyio.fail_after(5):
            await api.app(scope, receive, send)
        refused = sent[0]["type"] == "websocket.close" or sent[0].get("status") == 403
        assert refused and not any(m["type"] == "websocket.accept" for m in sent), sent
