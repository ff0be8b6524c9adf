"""Batches larger than one transaction: committed in chunks, yet all or nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.factory import open_store
from graph.neo4j.server import Neo4jServer
from graph.neo4j.store import Neo4jStore
from graph.sqlite.store import SQLiteStore
from schema.errors import InvalidInputError
from schema.kinds import EdgeType as E
from schema.kinds import NodeKind as K
from schema.model import EdgeOp, TraceDirection, TraceQuery
from tests.conformance.plants import CASE_A, CASE_B, D1, D2, LOT, RESIN_LOT, repack_plant
from tests.factories import batch, edge, node, t
from tests.support.neo4j import clear_database

pytestmark = pytest.mark.neo4j


@pytest.fixture
def neo(neo4j_server: Neo4jServer) -> Iterator[Neo4jStore]:
    clear_database(neo4j_server)
    store = open_store(neo4j_server.store_url)
    assert isinstance(store, Neo4jStore)
    store.migrate()
    store.chunk_facts = 4  # every test batch spans several transactions
    yield store
    store.close()


def snapshot(store: Neo4jStore | SQLiteStore) -> tuple[object, ...]:
    s = store.stats()
    traces = tuple(
        store.trace(TraceQuery(starts=(k,), direction=d)).to_json()
        for k in (RESIN_LOT, D1, CASE_A)
        for d in TraceDirection
    )
    return s.nodes_by_kind, s.edges_by_type, s.batches, traces, store.node(LOT), store.node(D1)


def test_a_chunked_batch_answers_like_a_whole_one(neo: Neo4jStore, tmp_path: Path) -> None:
    lite = SQLiteStore(tmp_path / "s.db")
    lite.migrate()
    for store in (neo, lite):
        store.apply(repack_plant())
        store.apply(batch(edge(E.PACKED_IN, D1, CASE_B, op=EdgeOp.CLOSE, until=t(6.5)), node(LOT, K.PRODUCT_LOT, x=1)))
    assert neo.stats().batches == 2
    for key in (RESIN_LOT, D1, CASE_A):
        for direction in TraceDirection:
            q = TraceQuery(starts=(key,), direction=direction)
            assert neo.trace(q).to_json() == lite.trace(q).to_json()
    assert neo.apply(repack_plant()).edges_added == 0
    lite.close()


def test_a_batch_failing_in_a_later_chunk_leaves_nothing(neo: Neo4jStore) -> None:
    neo.apply(repack_plant())
    before = snapshot(neo)
    bad = batch(
        node(LOT, K.PRODUCT_LOT, note="changed by the failing batch"),  # an existing node changed
        node(D2, K.DEVICE, colour="red"),
        edge(E.PACKED_IN, D2, CASE_B, at=t(7)),  # a new edge
        edge(E.SHIPPED_IN, CASE_A, "shipment:NEW", at=t(8)),  # a new node through an edge
        node("wo:W9", K.WORK_ORDER),
        edge(E.PRODUCED, "wo:W9", "mystery-key"),  # fails in the last chunk
    )
    with pytest.raises(InvalidInputError, match="mystery-key"):
        neo.apply(bad)
    assert snapshot(neo) == before


def test_a_batch_whose_loader_died_is_rolled_back_by_the_next_writer(neo: Neo4jStore) -> None:
    neo.apply(repack_plant())
    before = snapshot(neo)
    # Begin a chunked batch and write its first chunk, as a process would before being killed.
    half = batch(node(LOT, K.PRODUCT_LOT, note="half-written"), edge(E.PACKED_IN, D2, CASE_B, at=t(7)))
    with neo._driver.session() as session:
        begun = session.execute_write(lambda tx: neo._begin(tx, half))
        assert isinstance(begun, tuple)
        batch_id, now = begun
        session.execute_write(lambda tx: neo._create_batch(tx, half, batch_id, now, (0, 0, 0, 0, 0), state="applying"))
        session.execute_write(neo._write_chunk, half.nodes, half.edges, (), batch_id, now)
    assert neo.node(LOT).props.get("note") == "half-written"  # visible while "applying"
    neo.stale_after = 0.0  # the loader's heartbeat is now overdue
    neo.apply(batch(node("wo:AFTER", K.WORK_ORDER)))
    after = snapshot(neo)
    assert after[2] == before[2] + 1  # only the new batch is counted
    assert after[3:] == before[3:]  # traces and the touched nodes are as before the dead batch
    assert neo.stats().nodes == sum(before[0].values()) + 1  # type: ignore[attr-defined]
