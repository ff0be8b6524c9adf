"""Test support for the real Neo4j server (graph/neo4j/server.py).

Without Java and Maven the Neo4j tests skip locally, saying how to enable them, but fail
in CI, where a skip would hide that the Neo4j adapter went untested.

Register the session fixture in tests/conftest.py with either
``from tests.support.neo4j import neo4j_server_fixture  # noqa: F401`` or
``pytest_plugins = ["tests.support.neo4j"]``; tests then ask for ``neo4j_server``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from neo4j import GraphDatabase

from graph.neo4j.server import Neo4jServer, java_available, start, stop

if TYPE_CHECKING:
    from graph.neo4j.store import Neo4jStore
    from graph.port import GraphStore

ENABLE_HINT = (
    "install a JDK 17+ and Maven 3.6+ (e.g. `apt-get install openjdk-17-jdk-headless maven`); "
    "the first run downloads Neo4j Community from Maven Central into ~/.cache/tracegraph "
    "(or $TRACEGRAPH_CACHE)"
)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_neo4j_runtime() -> None:
    """Return if a local Neo4j can run here; else skip the test, or fail it in CI."""
    reason = java_available()
    if reason is None:
        return
    message = f"real Neo4j unavailable: {reason}. To enable: {ENABLE_HINT}"
    if in_ci():
        pytest.fail(f"{message} (CI is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session", name="neo4j_server")
def neo4j_server_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Neo4jServer]:
    """One server per test session (per xdist worker), stopped at the end whatever happens."""
    require_neo4j_runtime()
    run_dir = tmp_path_factory.mktemp("neo4j")
    # owner_pid: should this process be killed, the JVM notices and stops itself.
    server = start(run_dir, owner_pid=os.getpid())
    try:
        yield server
    finally:
        stop(run_dir)


def clear_database(server: Neo4jServer) -> None:
    """Delete every node and relationship; constraints and indexes stay (migrations are idempotent)."""
    # CALL ... IN TRANSACTIONS needs an auto-commit transaction: session.run, not execute_query.
    with (
        GraphDatabase.driver(server.uri, auth=(server.user, server.password)) as driver,
        driver.session() as session,
    ):
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()


def migrated_neo4j_store(server: Neo4jServer) -> Neo4jStore:
    """A store on ``server``, emptied and migrated; the caller closes it."""
    from graph.neo4j.store import Neo4jStore  # the Neo4j adapter is only needed here

    clear_database(server)
    store = Neo4jStore.from_url(server.store_url)
    store.migrate()
    return store


def fresh_neo4j_store(request: pytest.FixtureRequest) -> GraphStore:
    """A store on the session's server, emptied first (used by tests/conftest.py)."""
    from graph.factory import open_store  # the Neo4j adapter is only needed here

    server: Neo4jServer = request.getfixturevalue("neo4j_server")
    clear_database(server)
    return open_store(server.store_url)
