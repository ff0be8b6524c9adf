"""A transaction larger than the server's memory limit: a clear error at once, nothing kept,
and the advice it gives (fewer facts per transaction) works."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from graph.neo4j.server import Neo4jServer, start, stop
from graph.neo4j.store import CHUNK_ENV, Neo4jStore
from schema.errors import StoreError, StoreUnavailableError
from schema.kinds import EdgeType as E
from schema.kinds import NodeKind as K
from schema.model import FactBatch
from tests.factories import batch, device, edge, lot, node
from tests.support.neo4j import migrated_neo4j_store, require_neo4j_runtime

pytestmark = pytest.mark.neo4j


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Neo4jServer]:
    """A server that lets each transaction use 8 MiB of memory."""
    require_neo4j_runtime()
    run_dir = tmp_path_factory.mktemp("neo4j-small")
    server = start(run_dir, owner_pid=os.getpid(), transaction_memory_mib=8)
    try:
        yield server
    finally:
        stop(run_dir)


def big_batch(devices: int) -> FactBatch:
    facts = [node(lot("L1"), K.PRODUCT_LOT)]
    for i in range(devices):
        serial = device(f"S{i}")
        facts += [node(serial, K.DEVICE, note="x" * 200), edge(E.INCLUDES, lot("L1"), serial)]
    return batch(*facts)


def test_a_transaction_over_the_memory_limit_fails_at_once_and_says_what_to_do(small_server: Neo4jServer) -> None:
    store = Neo4jStore.from_url(small_server.store_url)
    try:
        store.migrate()
        facts = big_batch(8_000)
        with pytest.raises(StoreError) as refused:
            store.apply(facts)
        assert not isinstance(refused.value, StoreUnavailableError)  # the server is there
        message = str(refused.value)
        assert "memory" in message and CHUNK_ENV in message and "is the server running" not in message.lower()
        assert "gave up after" not in message  # refused at once, not retried as a transient failure
        assert store.stats().nodes == 0  # nothing kept
        # As the message says: fewer facts per transaction, and the same batch loads.
        store.chunk_facts = 1_000
        result = store.apply(facts)
        assert (result.nodes_added, result.edges_added) == (8_001, 8_000)
    finally:
        store.close()


def test_the_server_without_a_limit_takes_the_same_batch_whole(neo4j_server: Neo4jServer) -> None:
    store = migrated_neo4j_store(neo4j_server)
    try:
        assert store.apply(big_batch(8_000)).edges_added == 8_000
    finally:
        store.close()
