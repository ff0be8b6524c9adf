"""The local Neo4j server starts, serves the Cypher the adapter relies on, and stops for good."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from neo4j import Driver, GraphDatabase, ManagedTransaction, RoutingControl
from neo4j.exceptions import ConstraintError

from graph.neo4j.server import start, status, stop
from tests.support.neo4j import require_neo4j_runtime

pytestmark = pytest.mark.neo4j

CONSTRAINT = "CREATE CONSTRAINT part_key IF NOT EXISTS FOR (p:Part) REQUIRE p.key IS UNIQUE"


def merge_parts(tx: ManagedTransaction, keys: list[str]) -> int:
    result = tx.run("UNWIND $keys AS key MERGE (p:Part {key: key}) RETURN count(p) AS rows", keys=keys)
    rows: int = result.single(strict=True)["rows"]
    return rows


def read_keys(driver: Driver) -> list[str]:
    records, _, _ = driver.execute_query(
        "MATCH (p:Part) RETURN p.key AS key ORDER BY key", routing_=RoutingControl.READ
    )
    return [record["key"] for record in records]


def pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_server_lifecycle_and_cypher(tmp_path: Path) -> None:
    require_neo4j_runtime()
    run_dir = tmp_path / "run"
    server = start(run_dir, owner_pid=os.getpid())
    try:
        assert status(run_dir) == server
        record = json.loads((run_dir / "server.json").read_text())
        assert record["pid"] == server.pid and record["password"] == server.password
        assert server.store_url.startswith("bolt://neo4j:") and server.store_url.endswith(f"@127.0.0.1:{server.port}")

        with GraphDatabase.driver(server.uri, auth=(server.user, server.password)) as driver:
            driver.verify_connectivity()
            for _ in range(2):  # idempotent: the second run is a no-op, not an error
                driver.execute_query(CONSTRAINT)
            constraints, _, _ = driver.execute_query("SHOW CONSTRAINTS YIELD name WHERE name = 'part_key' RETURN name")
            assert len(constraints) == 1

            with driver.session() as session:
                assert session.execute_write(merge_parts, ["a", "b", "a"]) == 3
                assert session.execute_write(merge_parts, ["b", "c"]) == 2
            assert read_keys(driver) == ["a", "b", "c"]  # MERGE made one node per key

            with pytest.raises(ConstraintError):
                driver.execute_query("CREATE (:Part {key: 'a'})")
            assert read_keys(driver) == ["a", "b", "c"]

        # Server-side routing answers too: neo4j:// URIs work against the single instance.
        routed = server.uri.replace("bolt://", "neo4j://")
        with GraphDatabase.driver(routed, auth=(server.user, server.password)) as driver:
            assert read_keys(driver) == ["a", "b", "c"]
    finally:
        stopped = stop(run_dir)

    assert stopped
    assert not pid_exists(server.pid)
    assert status(run_dir) is None
    assert not (run_dir / "server.json").exists()
    assert stop(run_dir) is False  # stopping twice is harmless
