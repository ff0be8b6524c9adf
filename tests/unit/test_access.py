"""Keys, sessions, shares, rate limits and the GraphQL root-field walk, without HTTP."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from graphql import parse

from api.auth.graphql import root_fields
from api.auth.ratelimit import RateLimiter, retry_after
from api.auth.startup import check, store_password_problem
from api.settings import ApiSettings
from schema.access import ROLE_PERMISSIONS, Permission, Role, parse_role, share_matches
from schema.errors import InsecureConfigurationError, InvalidInputError, UnauthenticatedError
from services.access import AccessControl, access_path, csrf_token_for, parse_expiry
from services.settings import Settings


@pytest.fixture
def access(tmp_path: Path) -> Iterator[AccessControl]:
    control = AccessControl.for_settings(Settings(store=f"sqlite:///{tmp_path / 's.db'}"))
    yield control
    control.close()


def test_keys_are_stored_as_salted_digests_and_checked(access: AccessControl) -> None:
    one = access.create_key(name="a", role=Role.ADMIN, actor="t")
    two = access.create_key(name="b", role="quality-engineer", actor="t")
    rows = {r.id: r for r in access.store.all_keys()}
    for issued in (one, two):
        secret = issued.secret.split("_", 2)[2]
        row = rows[issued.key.id]
        assert row.digest != hashlib.sha256(secret.encode()).digest()  # salted
        assert row.digest == hashlib.sha256(row.salt + secret.encode()).digest()
    assert rows[one.key.id].salt != rows[two.key.id].salt
    assert access.authenticate_key(two.secret).roles == {Role.QUALITY_ENGINEER}
    tampered = one.secret[:-1] + ("A" if one.secret[-1] != "A" else "B")
    for bad in (tampered, "tgk_zz_x", "tgk_0123456789ab_", "Bearer x", ""):
        with pytest.raises(UnauthenticatedError):
            access.authenticate_key(bad)


def test_expired_keys_and_sessions_end(access: AccessControl, monkeypatch: pytest.MonkeyPatch) -> None:
    soon = datetime.now(UTC) + timedelta(minutes=1)
    issued = access.create_key(name="temp", role=Role.ADMIN, actor="t", expires_at=soon)
    principal = access.authenticate_key(issued.secret)
    session = access.open_session(principal, lifetime=3600)
    assert access.authenticate_session(session.token, idle_timeout=600).id == principal.id
    assert session.csrf_token == csrf_token_for(session.token)

    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 601)  # idle too long
    with pytest.raises(UnauthenticatedError, match="idle"):
        access.authenticate_session(session.token, idle_timeout=600)
    monkeypatch.setattr(time, "time", lambda: now + 120)  # the key itself expired
    with pytest.raises(UnauthenticatedError, match="expired"):
        access.authenticate_key(issued.secret)


def test_parse_expiry() -> None:
    now = datetime(2024, 3, 1, 12, tzinfo=UTC)
    assert parse_expiry("90d", now=now) == now + timedelta(days=90)
    assert parse_expiry("12h", now=now) == now + timedelta(hours=12)
    assert parse_expiry("2024-06-30", now=now) == datetime(2024, 6, 30, tzinfo=UTC)
    for bad in ("soon", "2024-01-01", "-5d"):
        with pytest.raises(InvalidInputError):
            parse_expiry(bad, now=now)


def test_roles_are_least_privilege() -> None:
    assert parse_role("Recall-Manager") is Role.RECALL_MANAGER
    with pytest.raises(InvalidInputError, match="roles:"):
        parse_role("root")
    only_admin = [p for p in Permission if [r for r in Role if p in ROLE_PERMISSIONS[r]] == [Role.ADMIN]]
    assert only_admin == [Permission.ACCESS_ADMIN]
    assert ROLE_PERMISSIONS[Role.INTEGRATION] == {Permission.INGEST, Permission.EPCIS_CAPTURE}
    assert Permission.GRAPH_READ not in ROLE_PERMISSIONS[Role.AUDITOR]


def test_shares() -> None:
    assert share_matches("report:*", "report:trace:lot:X")
    assert share_matches("*", "anything")
    assert share_matches("package:p1.zip", "package:p1.zip")
    assert not share_matches("package:p1.zip", "package:p1.zip.bak")
    assert not share_matches("report:*", "batch:1")


def test_access_file_sits_beside_the_store_or_the_audit_trail(tmp_path: Path) -> None:
    assert access_path(Settings(store="sqlite:///data/t.db")) == Path("data/t.db.access.db")
    neo = "neo4j://neo4j:pw@db:7687"
    assert access_path(Settings(store=neo, audit="/vol/audit/trail.db")) == Path("/vol/audit/tracegraph-access.db")
    assert access_path(Settings(store=neo)) == Path("tracegraph-access.db")
    assert access_path(Settings(store=neo, access=str(tmp_path / "a.db"))) == tmp_path / "a.db"


def test_token_bucket() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=60, burst=2, clock=lambda: now[0])
    assert limiter.take("k") == 0 and limiter.take("k") == 0
    wait = limiter.take("k")
    assert wait == pytest.approx(1.0) and retry_after(wait) == 1
    assert limiter.take("other") == 0  # one bucket per key
    now[0] = 1.0
    assert limiter.take("k") == 0
    small = RateLimiter(per_minute=60, burst=1, max_keys=2, clock=lambda: now[0])
    for key in ("a", "b", "c"):
        small.take(key)
    assert small.take("a") == 0  # forgotten (least recently used), so full again


def test_root_fields_through_fragments() -> None:
    document = parse(
        """
        query A { node(key: "x") { key } ...F ... on Query { search(text: "y") { edges { cursor } } } }
        fragment F on Query { trace(starts: ["x"]) { total } traceCount(starts: ["x"]) { total } }
        mutation B { ingest(document: "{}") { records } }
        """
    )
    assert root_fields(document, "A") == ["node", "trace", "traceCount", "search"]
    assert root_fields(document, "B") == ["ingest"]
    assert root_fields(document, None) == []  # two operations and no name: graphql refuses it anyway


def test_start_up_checks() -> None:
    assert store_password_problem("sqlite:///x.db") is None
    assert store_password_problem("neo4j://neo4j:Vq3-xz9.Lm2~Tt7@db:7687") is None
    assert "no password" in (store_password_problem("bolt://db:7687") or "")
    assert "weak" in (store_password_problem("neo4j+s://neo4j:neo4j@db:7687") or "")
    warnings = check(ApiSettings(store="sqlite:///x.db"))
    assert any("SIGNING_KEY" in w for w in warnings)
    assert check(ApiSettings(store="sqlite:///x.db", signing_key="9f86d081884c7d659a2feaa0c55ad015")) == []
    with pytest.raises(InsecureConfigurationError) as refused:
        check(ApiSettings(store="neo4j://neo4j:password@db:7687", signing_key="aaaaaaaaaaaaaaaaaaaa"))
    assert "Neo4j" in str(refused.value) and "SIGNING_KEY" in str(refused.value)
    assert "password@" not in str(refused.value)  # a refused secret is never echoed
    assert "DEVELOPMENT MODE" in check(ApiSettings(store="neo4j://neo4j:neo4j@db:7687", environment="development"))[0]
