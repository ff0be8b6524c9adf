"""Neo4j stopped during a load: the load rides out a restart, or fails clearly and leaves nothing.

The loads run as real ``tracegraph load`` processes against the real server of
graph/neo4j/server.py, which this module stops and restarts on the same store and port.
Small chunks (``TRACEGRAPH_NEO4J_CHUNK_FACTS``) make a load of the small synthetic plant
span several transactions, so the server goes away between committed chunks.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from neo4j import GraphDatabase

from graph.neo4j.server import Neo4jServer, start, stop
from graph.neo4j.store import Neo4jStore
from graph.sqlite.store import SQLiteStore
from loaders.synthetic import generate_plant
from tests.support.neo4j import clear_database, require_neo4j_runtime

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
CHUNK_FACTS = 1000  # the small plant is ~5,500 facts: seven transactions


@dataclass
class Restartable:
    server: Neo4jServer
    plant: Path
    reference: tuple[dict[str, int], dict[str, int], int]  # the same plant loaded into SQLite
    facts: tuple[int, int]  # node and edge versions SQLite holds for it

    def restart(self) -> float:
        """Start the server again on the same store, port and password; seconds it took."""
        began = time.monotonic()
        self.server = start(
            self.server.run_dir, port=self.server.port, password=self.server.password, owner_pid=os.getpid()
        )
        return time.monotonic() - began


@pytest.fixture(scope="module")
def neo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Restartable]:
    require_neo4j_runtime()
    base = tmp_path_factory.mktemp("neo4j-restart")
    plant = base / "plant"
    generate_plant(plant, scale="small", seed=3)
    lite = base / "reference.db"
    load(f"sqlite:///{lite}", plant, check=True)
    ref = SQLiteStore(lite)
    stats, facts = ref.stats(), exported(ref)
    ref.close()
    server = start(base / "run", owner_pid=os.getpid())
    state = Restartable(server, plant, (stats.nodes_by_kind, stats.edges_by_type, stats.batches), facts)
    try:
        yield state
    finally:
        stop(state.server.run_dir)


def load(
    url: str, plant: Path, *, retry: float = 120.0, check: bool = False, wait: bool = True
) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TRACEGRAPH_NEO4J_CHUNK_FACTS": str(CHUNK_FACTS),
        "TRACEGRAPH_NEO4J_RETRY_SECONDS": str(retry),
        "TRACEGRAPH_AUDIT": str(plant.parent / "audit.db"),
    }
    command = [sys.executable, "-m", "cli.main", "--store", url, "load", str(plant)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if wait:
        process.wait(timeout=300)
        if check:
            assert process.returncode == 0, process.stderr.read() if process.stderr else ""
    return process


def count(server: Neo4jServer, query: str) -> int:
    with GraphDatabase.driver(server.uri, auth=(server.user, server.password)) as driver:
        records, _, _ = driver.execute_query(query)
        return int(records[0][0])


def wait_until_mid_load(server: Neo4jServer, process: subprocess.Popen[str]) -> None:
    """Until the load has committed its batch marker and at least one chunk of facts."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, "the load ended before the server could be stopped"
        if count(server, "MATCH (b:Batch {state: 'applying'}) RETURN count(b)") and count(
            server, "MATCH (n:Node) RETURN count(n)"
        ):
            return
        time.sleep(0.05)
    raise AssertionError("the load never got going")


def snapshot(server: Neo4jServer) -> tuple[dict[str, int], dict[str, int], int]:
    store = Neo4jStore.from_url(server.store_url)
    try:
        s = store.stats()
        return s.nodes_by_kind, s.edges_by_type, s.batches
    finally:
        store.close()


def exported(store: Neo4jStore | SQLiteStore) -> tuple[int, int]:
    """Node and edge versions the store holds (a chunk written twice would add some)."""
    batches = list(store.export_batches())
    return sum(len(b.nodes) for b in batches), sum(len(b.edges) for b in batches)


def versions(server: Neo4jServer) -> tuple[int, int]:
    store = Neo4jStore.from_url(server.store_url)
    try:
        return exported(store)
    finally:
        store.close()


def test_a_load_rides_out_a_server_restart_without_duplicates(neo: Restartable) -> None:
    clear_database(neo.server)
    process = load(neo.server.store_url, neo.plant, wait=False)
    wait_until_mid_load(neo.server, process)
    down = time.monotonic()
    stop(neo.server.run_dir)  # SIGTERM: Neo4j shuts down, the in-flight transaction is lost
    time.sleep(1.0)  # the loader now meets refused connections
    restart = neo.restart()
    _, err = process.communicate(timeout=300)
    print(
        f"\nserver down {restart + 1:.1f} s (restart {restart:.1f} s); load done {time.monotonic() - down:.1f} s after"
    )
    assert process.returncode == 0, err
    assert snapshot(neo.server) == neo.reference
    assert versions(neo.server) == neo.facts

    again = load(neo.server.store_url, neo.plant)
    assert again.returncode == 0
    assert "already loaded" in (again.stdout.read() if again.stdout else "")
    assert snapshot(neo.server) == neo.reference
    assert versions(neo.server) == neo.facts


def test_a_server_that_stays_down_fails_the_load_clearly_and_leaves_no_partial_batch(neo: Restartable) -> None:
    clear_database(neo.server)
    process = load(neo.server.store_url, neo.plant, retry=3.0, wait=False)
    wait_until_mid_load(neo.server, process)
    os.killpg(neo.server.pid, signal.SIGKILL)  # a crash this time, not a shutdown
    stop(neo.server.run_dir)
    began = time.monotonic()
    _, err = process.communicate(timeout=120)
    gave_up_after = time.monotonic() - began
    print(f"\nthe load gave up {gave_up_after:.1f} s after the crash (retry time 3 s); stderr: {err.strip()}")
    assert process.returncode == 4, err  # EXIT_STORE
    assert "cannot reach Neo4j at bolt://127.0.0.1" in err
    assert "TRACEGRAPH_NEO4J_RETRY_SECONDS" in err
    assert "rolled back by the next load" in err
    assert "Traceback" not in err and "<CONNECTION>" not in err  # one message, not the driver's log
    assert gave_up_after < 60  # bounded by the retry time (3 s) and the rollback attempt (3 s), not hung

    neo.restart()
    # Back up with the chunks committed before the crash, marked unfinished ...
    assert count(neo.server, "MATCH (b:Batch {state: 'applying'}) RETURN count(b)") == 1
    # ... which the next load rolls back (its loader is gone) before loading everything once.
    again = load(neo.server.store_url, neo.plant)
    assert again.returncode == 0, again.stderr.read() if again.stderr else ""
    assert snapshot(neo.server) == neo.reference
    assert count(neo.server, "MATCH (b:Batch {state: 'applying'}) RETURN count(b)") == 0
    assert versions(neo.server) == neo.facts
